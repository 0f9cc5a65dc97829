// Package provision is Ferry's provisioning engine, the directory's side of
// SCIM provisioning as Microsoft Entra ID's provisioning service does it:
// applications with their target endpoint, attribute mappings, scoping and
// assignments; jobs that run initial, incremental and full cycles from the
// directory's change feed; matching, create, update, disable and delete in
// the target through internal/scimclient; provisioning logs and progress;
// provision on demand.
//
// It has two rooms. The Engine runs the jobs: its scheduler (runner.go),
// cycles (job.go), one object's processing (object.go) and what a cycle
// relies on (lease.go, escrow.go, quarantine.go, threshold.go, notice.go,
// prematch.go), with plans and provisions on demand, which run as a cycle
// does. The Service (the files service*.go) is what the admin API calls:
// applications and assignments, status, failures, logs, the audit log, and
// the requests that steer a job; it holds the Engine for what must reach a
// job (a running cycle's stop, a cycle now, a provision on demand, a plan,
// Test Connection on the job's client). Nothing outside service*.go names
// what those files declare, so the dependency runs one way (a test holds it
// so). Both use the configuration and its compilation (config.go,
// compile.go, mapping.go, roles.go, templates.go), the admin API's types
// (api.go), the control record (control.go) and the applications' sealed
// credentials (credentials.go).
//
// The rooms are two types in one package rather than two packages: the
// Service reads the Engine's records (the job state, escrow and staged
// sets), writes its control record and validates configurations with the
// Engine's compiler, all formats private to the engine; a package of its
// own would make them exported API.
package provision
