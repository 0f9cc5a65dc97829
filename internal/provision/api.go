package provision

import "time"

// The types below are what the Service takes and returns: the admin API
// (/api/v1) encodes them as they are, so their JSON names are the API's.

// AppView is an application as the admin API shows it. The secret token is
// never part of it.
type AppView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Template string `json:"template"`
	// Enabled is the provisioning status: true is On.
	Enabled bool   `json:"enabled"`
	Config  Config `json:"config"`
	// HasSecretToken says a secret token is set, HasWebhookSecret a
	// notification webhook's signing secret.
	HasSecretToken   bool      `json:"hasSecretToken"`
	HasWebhookSecret bool      `json:"hasWebhookSecret"`
	Version          int64     `json:"version"`
	Created          time.Time `json:"created"`
	LastModified     time.Time `json:"lastModified"`
}

// NewApp is what creating an application takes.
type NewApp struct {
	Name string `json:"name"`
	// Template names the starting configuration: "ringcentral" or
	// "scim" (see Templates).
	Template    string `json:"template"`
	TenantURL   string `json:"tenantUrl"`
	SecretToken string `json:"secretToken"`
	// WebhookSecret signs the notices sent to the configuration's
	// notificationWebhook (16 characters at least); write-only.
	WebhookSecret string `json:"webhookSecret,omitempty"`
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
	// WebhookSecret replaces the notification webhook's signing secret.
	WebhookSecret *string `json:"webhookSecret,omitempty"`
	Scope         *string `json:"scope,omitempty"`
	Config        *Config `json:"config,omitempty"`
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
	// cycle), "running", "quarantined" (see Quarantine), or "interrupted"
	// (a cycle's process stopped without ending it; it is resumed by the
	// next process to run the job).
	State string `json:"state"`
	// Holder names the ferry serve process that holds the job now (its
	// host and listen address), when one does.
	Holder string `json:"holder,omitempty"`
	// Current is the running cycle; Last the last one that ended.
	Current *CycleStatus `json:"currentCycle,omitempty"`
	Last    *CycleStatus `json:"lastCycle,omitempty"`
	// Watermark is the change-feed position the job has processed.
	Watermark int64 `json:"watermark"`
	// ConfigVersion is the newest saved configuration's version: it
	// grows with every saved change that can change what the target
	// should hold (mappings, scoping, scope, actions, Tenant URL, Secret
	// Token), and with every restart.
	ConfigVersion int64 `json:"configVersion"`
	// FullCyclePending says a full cycle is due now: the first one, one on
	// a newer configuration version, or one after a restart.
	FullCyclePending bool `json:"fullCyclePending"`
	// NextFullCycle is when the periodic full cycle is due; absent when
	// provisioning is Off.
	NextFullCycle time.Time `json:"nextFullCycle,omitzero"`
	// Failures counts the objects in escrow, of which Retryable wait for
	// their next try and the others for a change of the object or of the
	// configuration (ferry apps failures lists them).
	Failures          int `json:"failures"`
	RetryableFailures int `json:"retryableFailures"`
	// Quarantine says why the job is held back, when it is.
	Quarantine *Quarantine `json:"quarantine,omitempty"`
	// StagedDeletes are the disables and deletes the accidental-deletion
	// threshold holds, waiting for ferry apps allow-deletes or
	// reject-deletes.
	StagedDeletes *StagedDeletes `json:"stagedDeletes,omitempty"`
	// Advice is what an administrator should do now, if anything.
	Advice string `json:"advice,omitempty"`
	// Totals are the counts of every cycle so far.
	Totals Counts `json:"totals"`
}

// CycleStatus is one cycle's progress.
type CycleStatus struct {
	ID string `json:"id"`
	// Kind is "initial" (the first full cycle), "full", "incremental" or
	// "retry" (objects in escrow, at once).
	Kind string `json:"kind"`
	// ConfigVersion is the configuration version the cycle provisions.
	ConfigVersion int64 `json:"configVersion"`
	// State is "running", "completed", "stopped" (provisioning was turned
	// Off; a full cycle resumes where it stopped), "superseded" (a newer
	// configuration was saved; a full cycle on it follows), "interrupted"
	// (its process died or lost the job) or "failed" (Error says why).
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	// DurationMs is the time spent running, over every resumption.
	DurationMs int64 `json:"durationMs"`
	// Total is how many objects the cycle examines, counted before it
	// starts (and grown by follow-ups: a group whose member was just
	// created); Processed how many it has, the sum of Counts.
	Total     int `json:"total"`
	Processed int `json:"processed"`
	// Percent is Processed of Total; EtaSeconds the estimated time left at
	// the cycle's rate so far (absent until it can be told).
	Percent    int    `json:"percent"`
	EtaSeconds int64  `json:"etaSeconds,omitempty"`
	Counts     Counts `json:"counts"`
	// Resumed counts how many times the cycle was resumed after a stop or
	// an interruption.
	Resumed int `json:"resumed,omitempty"`
	// Error says why the cycle ended early, if it did.
	Error string `json:"error,omitempty"`
	// Reason says why a full cycle ran when it was not due otherwise: the
	// change feed after the job's watermark was deleted by the server's
	// event retention, so an incremental cycle could not see every change.
	Reason string `json:"reason,omitempty"`
}

// Counts are object actions by outcome. Every object a cycle processes
// counts once, so the counts add up to CycleStatus.Processed.
type Counts struct {
	Created  int `json:"created"`
	Updated  int `json:"updated"`
	Disabled int `json:"disabled"`
	Deleted  int `json:"deleted"`
	// Unchanged objects were in sync already.
	Unchanged int `json:"unchanged"`
	// Skipped objects needed nothing or could not be acted on by
	// configuration: out of scope and never provisioned, disabled and never
	// created, an action that is off.
	Skipped int `json:"skipped"`
	Failed  int `json:"failed"`
}

// Sum is the number of objects counted.
func (c Counts) Sum() int {
	return c.Created + c.Updated + c.Disabled + c.Deleted + c.Unchanged + c.Skipped + c.Failed
}

// add adds o to c.
func (c *Counts) add(o Counts) {
	c.Created += o.Created
	c.Updated += o.Updated
	c.Disabled += o.Disabled
	c.Deleted += o.Deleted
	c.Unchanged += o.Unchanged
	c.Skipped += o.Skipped
	c.Failed += o.Failed
}

// Quarantine is why a job is held back (Entra's reasons:
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status).
// A job quarantined for failures tries again at NextAttempt (6 h, 12 h,
// 24 h, then daily) and is turned Off after 28 days; one held by the
// accidental-deletion threshold waits for an administrator. A passing Test
// Connection (not for TooManyDeletes), a configuration change or a restart
// ends it.
type Quarantine struct {
	// Reason is EncounteredQuarantineException (the target refused the
	// credentials or broke the protocol), EncounteredEscrowProportionThreshold
	// (too large a share of a cycle's objects failed),
	// EncounteredTotalEscrowThreshold (too many failed) or TooManyDeletes.
	Reason string `json:"reason"`
	// Detail says what happened, in words.
	Detail      string    `json:"detail"`
	Since       time.Time `json:"currentBegan"`
	SeriesBegan time.Time `json:"seriesBegan"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// Attempts counts the tries since the quarantine began.
	Attempts int `json:"attempts"`
	// Request and Response are the failing request and what the target
	// answered (a status and a short detail; no secret).
	Request  string `json:"request,omitempty"`
	Response string `json:"response,omitempty"`
}

// StagedDeletes summarises the disables and deletes held by the
// accidental-deletion threshold.
type StagedDeletes struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Disables int       `json:"disables"`
	Deletes  int       `json:"deletes"`
	// Limit is the threshold they exceeded; Recent the deprovisioning
	// actions sent within the window before them.
	Limit  int `json:"limit"`
	Recent int `json:"recent"`
	// Sample names some of the objects.
	Sample []Identity `json:"sample"`
}

// Failure is an object in escrow: its last processing failed, and it is
// tried again on its own schedule (retryable failures), or when the object
// or the configuration changes (permanent ones), or on ferry apps retry.
type Failure struct {
	Source Identity `json:"sourceIdentity"`
	Target Identity `json:"targetIdentity"`
	// Action is what failed: create, update, disable, delete or other.
	Action string     `json:"provisioningAction"`
	Error  *ErrorInfo `json:"errorInformation,omitempty"`
	// Request is the request to the target that failed, when one did:
	// "POST https://example.com/scim/v2/Users".
	Request   string `json:"request,omitempty"`
	Attempts  int    `json:"attempts"`
	Retryable bool   `json:"retryable"`
	// NextTry is when a retryable failure is tried again; absent for a
	// permanent one.
	NextTry     time.Time `json:"nextTry,omitzero"`
	FirstFailed time.Time `json:"firstFailed"`
	LastFailed  time.Time `json:"lastFailed"`
	// LogID is the provisioning-log record of the last failure.
	LogID string `json:"logId,omitempty"`
}

// LogRecord is one provisioning-log record: what the job did, or decided
// not to do, to one object (Entra's provisioningObjectSummary:
// https://learn.microsoft.com/graph/api/resources/provisioningobjectsummary).
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
	Status string `json:"status"`
	// Reason says why the action was taken, in a few words: "created in
	// the directory", "not assigned to the application", "disabled in the
	// directory", "deleted in the directory", "differs in the target".
	Reason             string             `json:"reason,omitempty"`
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
	// Request is the request to the target that failed, without its
	// query's secrets: "POST https://example.com/scim/v2/Users".
	Request string `json:"request,omitempty"`
	// Retryable says the failure is transient (network, timeout, 5xx,
	// 429): the object is tried again on its own schedule. Other failures
	// wait for a change of the object or of the configuration.
	Retryable bool `json:"retryable,omitempty"`
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
	// Schema says what a passing test found of the target's schema
	// (/Schemas and /ResourceTypes), which it saves with the application:
	// read, not served, or read but not saved and why.
	Schema string `json:"schema,omitempty"`
}

// TargetSchemaView is the attribute list of an application's target: the
// attributes its mappings may set, as the target declares them at
// /Schemas, or RFC 7643's when it serves none (ferry apps schema).
type TargetSchemaView struct {
	App string `json:"app"`
	// Discovered says the target's /Schemas were read; DiscoveredAt is
	// when this schema was first read (a later read that finds the same
	// schema changes nothing).
	Discovered   bool       `json:"discovered"`
	DiscoveredAt *time.Time `json:"discoveredAt,omitempty"`
	// Message says what a discovery just made found.
	Message string `json:"message,omitempty"`
	// Notes say what the discovery read leniently or left out.
	Notes      []string          `json:"notes,omitempty"`
	Attributes []TargetAttribute `json:"attributes"`
}

// TargetAttribute is one attribute of a target's resource type, or one
// sub-attribute (Path "name.givenName").
type TargetAttribute struct {
	// ResourceType is the target's endpoint: "Users", "Groups".
	ResourceType string `json:"resourceType"`
	// Path is what a mapping's target names: "userName", "name.givenName",
	// or an extension attribute's full path "urn:...:2.0:User:costCenter".
	Path            string   `json:"path"`
	Type            string   `json:"type"`
	MultiValued     bool     `json:"multiValued"`
	Mutability      string   `json:"mutability"`
	Required        bool     `json:"required,omitempty"`
	CanonicalValues []string `json:"canonicalValues,omitempty"`
	// Source is SourceDiscovered or SourceRFC.
	Source string `json:"source"`
}

// Plan is what a full cycle would do now, worked out by reading the
// directory and the target and writing nothing: ferry apps plan.
type Plan struct {
	App string `json:"app"`
	// ConfigVersion is the configuration planned: the saved one, or 0 for
	// a change not saved (ferry apps update --plan).
	ConfigVersion int64           `json:"configVersion"`
	Creates       []PlannedAction `json:"creates"`
	Updates       []PlannedAction `json:"updates"`
	Disables      []PlannedAction `json:"disables"`
	Deletes       []PlannedAction `json:"deletes"`
	// Unchanged and Skipped count the objects left as they are.
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	// Failures are objects whose processing would fail before anything
	// is sent (a mapping that cannot be evaluated, say).
	Failures []PlannedAction `json:"failures"`
	// Staged says the accidental-deletion threshold would hold the
	// disables and deletes: with Recent sent within its window, they
	// exceed Limit.
	Staged bool `json:"staged"`
	Limit  int  `json:"limit"`
	Recent int  `json:"recent"`
}

// PlannedAction is one object's action in a plan.
type PlannedAction struct {
	Source Identity `json:"sourceIdentity"`
	Target Identity `json:"targetIdentity"`
	// Action is create, update, disable, delete, or other for a failure.
	Action string `json:"provisioningAction"`
	// Reason says why, as log records do.
	Reason string `json:"reason,omitempty"`
	// Changes are the attributes the action sets, old → new.
	Changes []ModifiedProperty `json:"modifiedProperties,omitempty"`
	// Error is a failure's, for Failures.
	Error *ErrorInfo `json:"errorInformation,omitempty"`
}
