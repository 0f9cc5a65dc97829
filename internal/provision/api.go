package provision

import "time"

// The types below are what the engine's Manager takes and returns: the
// admin API (/api/v1) encodes them as they are, so their JSON names are the
// API's.

// AppView is an application as the admin API shows it. The secret token is
// never part of it.
type AppView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Template string `json:"template"`
	// Enabled is the provisioning status: true is On.
	Enabled bool   `json:"enabled"`
	Config  Config `json:"config"`
	// HasSecretToken says a secret token is set.
	HasSecretToken bool      `json:"hasSecretToken"`
	Version        int64     `json:"version"`
	Created        time.Time `json:"created"`
	LastModified   time.Time `json:"lastModified"`
}

// NewApp is what creating an application takes.
type NewApp struct {
	Name string `json:"name"`
	// Template names the starting configuration: "ringcentral" or
	// "scim" (see Templates).
	Template    string `json:"template"`
	TenantURL   string `json:"tenantUrl"`
	SecretToken string `json:"secretToken"`
	// Scope overrides the template's scope: ScopeAssigned or ScopeAll.
	Scope string `json:"scope,omitempty"`
	// Config, when set, replaces the template's configuration entirely
	// (TenantURL and Scope above still apply).
	Config *Config `json:"config,omitempty"`
}

// AppChange changes an application; nil fields stay as they are. A change
// of the configuration schedules a full cycle.
type AppChange struct {
	Name        *string `json:"name,omitempty"`
	TenantURL   *string `json:"tenantUrl,omitempty"`
	SecretToken *string `json:"secretToken,omitempty"`
	Scope       *string `json:"scope,omitempty"`
	Config      *Config `json:"config,omitempty"`
}

// Principal names a user (by userName) or a group (by displayName), or
// either by id.
type Principal struct {
	Type string `json:"type"` // "User" or "Group"
	Name string `json:"name,omitempty"`
	ID   string `json:"id,omitempty"`
}

// AssignmentView is an assignment as the admin API shows it.
type AssignmentView struct {
	PrincipalType string    `json:"principalType"`
	PrincipalID   string    `json:"principalId"`
	PrincipalName string    `json:"principalName"`
	Role          string    `json:"role,omitempty"`
	Created       time.Time `json:"created"`
}

// Status is an application's job status and progress.
type Status struct {
	App     string `json:"app"`
	Enabled bool   `json:"enabled"`
	// State is "off", "idle" (On, waiting for changes or the next full
	// cycle) or "running".
	State string `json:"state"`
	// Current is the running cycle; Last the last one that ended.
	Current *CycleStatus `json:"currentCycle,omitempty"`
	Last    *CycleStatus `json:"lastCycle,omitempty"`
	// Watermark is the change-feed position the job has processed.
	Watermark int64 `json:"watermark"`
	// FullCyclePending says the next cycle is a full one (after a
	// configuration change or a restart).
	FullCyclePending bool      `json:"fullCyclePending"`
	NextFullCycle    time.Time `json:"nextFullCycle,omitzero"`
	// Totals are the counts of every cycle so far.
	Totals Counts `json:"totals"`
}

// CycleStatus is one cycle's progress.
type CycleStatus struct {
	ID string `json:"id"`
	// Kind is "initial" (the first full cycle), "full" or
	// "incremental".
	Kind       string    `json:"kind"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	DurationMs int64     `json:"durationMs"`
	// Processed objects so far, of InScope found in scope so far.
	Processed int    `json:"processed"`
	InScope   int    `json:"inScope"`
	Counts    Counts `json:"counts"`
	// Error says why the cycle stopped early, if it did.
	Error string `json:"error,omitempty"`
}

// Counts are object actions by outcome.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Disabled  int `json:"disabled"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
}

// LogRecord is one provisioning-log record: what the job did, or decided
// not to do, to one object (Entra's provisioningObjectSummary, spec §1.15).
type LogRecord struct {
	ID               string    `json:"id"`
	ActivityDateTime time.Time `json:"activityDateTime"`
	CycleID          string    `json:"cycleId"`
	ChangeID         string    `json:"changeId"`
	JobID            string    `json:"jobId"`
	DurationMs       int64     `json:"durationInMilliseconds"`
	// Action is create, update, disable, delete or other (nothing to
	// do: in sync, or out of scope).
	Action string `json:"provisioningAction"`
	// Status is success, failure, skipped or warning.
	Status             string             `json:"status"`
	Steps              []Step             `json:"provisioningSteps"`
	ModifiedProperties []ModifiedProperty `json:"modifiedProperties,omitempty"`
	Source             Identity           `json:"sourceIdentity"`
	Target             Identity           `json:"targetIdentity"`
	Error              *ErrorInfo         `json:"errorInformation,omitempty"`
}

// Log record actions and statuses.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDisable = "disable"
	ActionDelete  = "delete"
	ActionOther   = "other"

	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusSkipped = "skipped"
	StatusWarning = "warning"
)

// Step is one step of an object's processing.
type Step struct {
	Name string `json:"name"`
	// Type is import, scoping, matching, processing,
	// referenceResolution or export.
	Type        string            `json:"provisioningStepType"`
	Status      string            `json:"status"`
	Description string            `json:"description"`
	Details     map[string]string `json:"details,omitempty"`
}

// ModifiedProperty is one target attribute an action set or changed.
type ModifiedProperty struct {
	Name     string `json:"displayName"`
	OldValue string `json:"oldValue,omitempty"`
	NewValue string `json:"newValue,omitempty"`
}

// Identity names an object in the directory or the target.
type Identity struct {
	ID          string `json:"id,omitempty"`
	Type        string `json:"identityType"`
	DisplayName string `json:"displayName,omitempty"`
}

// ErrorInfo explains a failure with Entra's error catalogue.
type ErrorInfo struct {
	Code              string `json:"errorCode"`
	Reason            string `json:"reason"`
	Category          string `json:"errorCategory"` // failure or nonServiceFailure
	RecommendedAction string `json:"recommendedAction,omitempty"`
}

// LogFilter selects provisioning logs of one application; zero fields
// select everything. Results are newest first.
type LogFilter struct {
	// User selects the records of a source object by userName or
	// displayName (ignoring case) or id.
	User   string    `json:"user,omitempty"`
	Action string    `json:"action,omitempty"`
	Status string    `json:"status,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
	// Before continues a listing after the record with this id.
	Before string `json:"before,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// OnDemandRequest names what to provision on demand: one user, or one
// group and up to five of its members.
type OnDemandRequest struct {
	User  string `json:"user,omitempty"`  // userName or id
	Group string `json:"group,omitempty"` // displayName or id
	// Members limits a group's members to these (userName or id), at
	// most five; empty takes the group's first five.
	Members []string `json:"members,omitempty"`
}

// OnDemandResult is what a provision on demand did: the five steps, and
// the log record of each object.
type OnDemandResult struct {
	Steps   []Step      `json:"steps"`
	Records []LogRecord `json:"records"`
}

// TestResult is the outcome of Test Connection.
type TestResult struct {
	Success bool `json:"success"`
	// Message says what was sent, what came back and what was expected
	// when the test failed.
	Message string `json:"message,omitempty"`
	// Code is the failure's Entra error code (Unauthorized, ...).
	Code string `json:"code,omitempty"`
}
