package ferrytest

import (
	"time"

	"github.com/ferryid/ferry/internal/provision"
)

// Canned admin API answers, for a test engine to give and for renderings
// to be checked against.

// Time is when the canned answers' events happened.
func Time() time.Time { return time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) }

// App is an application named name of the ringcentral template, On, with
// its users' mapping.
func App(name string) *provision.AppView {
	return &provision.AppView{
		ID: "a-1", Name: name, Template: "ringcentral", Enabled: true, HasSecretToken: true, Version: 2,
		Config: provision.Config{TenantURL: "https://platform.ringcentral.com/scim/v2", Scope: provision.ScopeAssigned,
			Roles: []provision.Role{{Name: "User", Default: true}, {Name: "Default Access", NotProvisioned: true}},
			Objects: []provision.ObjectMapping{{SourceType: "User", TargetType: "Users", Enabled: true,
				Actions:    provision.Actions{Create: true, Update: true},
				Attributes: []provision.AttributeMapping{{Type: "direct", Source: "userName", Target: "userName"}}}}},
		Created: Time(), LastModified: Time(),
	}
}

// Logs are two provisioning-log records, newest first: an update that
// succeeded and a create that failed.
func Logs() []provision.LogRecord {
	return []provision.LogRecord{
		{ID: "l-2", ActivityDateTime: Time().Add(time.Minute), Action: "update", Status: "success", Reason: "differs in the target",
			Source: provision.Identity{Type: "User", DisplayName: "alice@example.com"}, Target: provision.Identity{ID: "rc-1", Type: "User"},
			ModifiedProperties: []provision.ModifiedProperty{{Name: "title", OldValue: "a", NewValue: "b"}, {Name: "department", NewValue: "Sales"}}},
		{ID: "l-1", ActivityDateTime: Time(), Action: "create", Status: "failure", Reason: "created in the directory",
			Source: provision.Identity{Type: "User", DisplayName: "bob@example.com"}, Target: provision.Identity{Type: "User"},
			Error: &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementConflict", Reason: "userName taken", Category: "failure",
				RecommendedAction: "Rename the user in the application, or match on another attribute.", Request: "POST https://platform.ringcentral.com/scim/v2/Users"}},
	}
}

// Status is an idle application whose initial cycle completed with two
// failures.
func Status(app string) *provision.Status {
	return &provision.Status{App: app, Enabled: true, State: "idle", Watermark: 17, ConfigVersion: 3, Failures: 2, RetryableFailures: 1,
		Advice: "2 objects failed and are in escrow (1 retried on their own schedule, the others wait for a change of the object or of the configuration): ferry apps failures rc shows why; ferry apps retry rc retries them now.",
		Last: &provision.CycleStatus{ID: "c-1", Kind: "initial", ConfigVersion: 3, State: "completed", Started: Time(), Ended: Time().Add(90 * time.Second), DurationMs: 90000,
			Total: 42, Processed: 42, Percent: 100, Counts: provision.Counts{Created: 40, Failed: 2}},
		Totals: provision.Counts{Created: 40, Failed: 2}, NextFullCycle: Time().Add(40 * time.Minute)}
}

// Running is an application whose full cycle on a configuration version
// newer than its last cycle's is running, percent done.
func Running(app string, percent int) *provision.Status {
	st := Status(app)
	st.State, st.ConfigVersion, st.FullCyclePending = "running", 5, false
	st.Current = &provision.CycleStatus{ID: "c-2", Kind: "full", ConfigVersion: 4, State: "running", Started: Time().Add(time.Hour),
		Total: 200, Processed: 2 * percent, Percent: percent, EtaSeconds: int64(100 - percent),
		Counts: provision.Counts{Updated: percent, Unchanged: percent - 1, Failed: 1}}
	return st
}

// Failures are two objects in escrow: a create that waits for a change,
// and an update retried on its own schedule.
func Failures() []provision.Failure {
	return []provision.Failure{
		{Source: provision.Identity{ID: "u-7", Type: "User", DisplayName: "bob@example.com"}, Target: provision.Identity{Type: "User"},
			Action: "create", Request: "POST https://platform.ringcentral.com/scim/v2/Users",
			Error: &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementBadRequest", Reason: "The application refused the request: userName is invalid",
				Category: "failure", RecommendedAction: "Fix userName in the directory or its mapping.", Request: "POST https://platform.ringcentral.com/scim/v2/Users"},
			Attempts: 2, FirstFailed: Time(), LastFailed: Time().Add(time.Minute), LogID: "l-1"},
		{Source: provision.Identity{ID: "u-8", Type: "User", DisplayName: "carol@example.com"}, Target: provision.Identity{ID: "rc-8", Type: "User"},
			Action: "update", Request: "PATCH https://platform.ringcentral.com/scim/v2/Users/rc-8",
			Error: &provision.ErrorInfo{Code: "SystemForCrossDomainIdentityManagementServiceUnavailable", Reason: "The application answered 503",
				Category: "failure", Retryable: true},
			Attempts: 1, Retryable: true, NextTry: Time().Add(30 * time.Second), FirstFailed: Time(), LastFailed: Time()},
	}
}
