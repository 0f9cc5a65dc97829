// Package provision is Ferry's provisioning engine, the directory's side of
// SCIM provisioning as Microsoft Entra ID's provisioning service does it:
// applications with their target endpoint, attribute mappings, scoping and
// assignments; jobs that run initial, incremental and full cycles from the
// directory's change feed; matching, create, update, disable and delete in
// the target through internal/scimclient; provisioning logs and progress;
// provision on demand. The Manager is its entry point, used by the admin
// API and the scheduler alike.
package provision
