package provision

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/provision/scoping"
)

// Config is an application's provisioning configuration: where its SCIM
// endpoint is, who is in scope, and how directory objects map to the
// application's. It is stored as JSON (store.App.Config) and edited
// through the admin API; the secret token is kept apart, sealed.
type Config struct {
	// TenantURL is the application's SCIM base URL, as in Entra's Admin
	// Credentials ("https://platform.ringcentral.com/scim/v2").
	TenantURL string `json:"tenantUrl"`
	// Scope is who is provisioned: ScopeAssigned or ScopeAll.
	Scope string `json:"scope"`
	// Profile is the PATCH wire profile the target is sent:
	// "rfc7644" (the default) or "entra" (what Entra sends today).
	Profile string `json:"profile,omitempty"`
	// RateLimit caps requests per second to the target; 25 when zero.
	RateLimit float64 `json:"rateLimit,omitempty"`
	// FullCycleInterval is how often a full reconciliation cycle runs;
	// 40 minutes when zero.
	FullCycleInterval Duration `json:"fullCycleInterval,omitempty"`
	// NotificationEmail receives the job's notifications: quarantine,
	// held deletes, and with NotifyOnFailure the failures; several
	// addresses are separated by commas.
	NotificationEmail string `json:"notificationEmail,omitempty"`
	// NotifyOnFailure sends a digest of failed objects, at most hourly (the
	// tutorial's "Send an email notification when a failure occurs").
	NotifyOnFailure bool `json:"notifyOnFailure,omitempty"`
	// NotificationWebhook receives the same notices as JSON POSTs, signed
	// with the application's webhook secret (HMAC-SHA256; see
	// internal/notify for the header and how to check it).
	NotificationWebhook string `json:"notificationWebhook,omitempty"`
	// SkipOutOfScopeDeletions leaves objects that leave the scope as they
	// are in the target, rather than disabling them.
	SkipOutOfScopeDeletions bool `json:"skipOutOfScopeDeletions,omitempty"`
	// AccidentalDeletions holds disables and deletes that exceed a
	// threshold until an administrator allows them.
	AccidentalDeletions DeletionThreshold `json:"accidentalDeletions,omitzero"`
	// FailureQuarantine says when failures quarantine the job.
	FailureQuarantine FailureThreshold `json:"failureQuarantine,omitzero"`
	// Roles are the application's roles that assignments may give (as an
	// application's app roles in Entra); none means assignments carry no
	// role.
	Roles []Role `json:"roles,omitempty"`
	// Objects are the mappings per object type: users, then groups.
	Objects []ObjectMapping `json:"objects"`
}

// Role is a role an assignment can give a user or group.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Default marks the role an assignment without a role gets.
	Default bool `json:"default,omitempty"`
	// NotProvisioned says principals assigned this role are out of
	// scope, as the RingCentral tutorial says of "Default Access".
	NotProvisioned bool `json:"notProvisioned,omitempty"`
}

// Scopes.
const (
	// ScopeAssigned provisions the users and groups assigned to the
	// application, and the direct members of assigned groups.
	ScopeAssigned = "assigned"
	// ScopeAll provisions every user and group of the tenant.
	ScopeAll = "all"
)

// ObjectMapping says how the directory objects of one type are
// provisioned into the application.
type ObjectMapping struct {
	// SourceType is the directory type: "User" or "Group".
	SourceType string `json:"sourceType"`
	// TargetType is the target's resource endpoint: "Users" or "Groups".
	TargetType string `json:"targetType"`
	// Enabled says objects of this type are provisioned at all.
	Enabled bool `json:"enabled"`
	// Actions are what the job may do to objects in the target.
	Actions Actions `json:"actions"`
	// Attributes are the attribute mappings.
	Attributes []AttributeMapping `json:"attributes"`
	// Scoping filters narrow the objects in scope further (Entra's
	// attribute-based scoping filters); none means every object.
	Scoping scoping.Set `json:"scoping,omitempty"`
}

// Actions are the target object actions of an object type.
type Actions struct {
	Create bool `json:"create"`
	Update bool `json:"update"`
	Delete bool `json:"delete"`
}

// Mapping types.
const (
	// Direct copies a source attribute (Source is its path).
	Direct = "direct"
	// Constant sets a constant (Source is the value).
	Constant = "constant"
	// Expression evaluates an expression in Entra's syntax (Source).
	Expression = "expression"
	// None sets nothing but the default value, when the target has none.
	None = "none"
)

// Apply modes.
const (
	// ApplyAlways applies a mapping on create and on update.
	ApplyAlways = "always"
	// ApplyOnCreate applies a mapping only when the object is created.
	ApplyOnCreate = "onCreate"
)

// AttributeMapping maps one target attribute.
type AttributeMapping struct {
	// Type is Direct, Constant, Expression or None.
	Type string `json:"type"`
	// Source is the source attribute path (Direct), the value (Constant)
	// or the expression (Expression).
	Source string `json:"source,omitempty"`
	// Target is the target attribute, as a SCIM path:
	// `emails[type eq "work"].value`, `name.givenName`,
	// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
	Target string `json:"target"`
	// Default is the value set on create when the source gives none.
	Default string `json:"default,omitempty"`
	// Apply is ApplyAlways (the default) or ApplyOnCreate.
	Apply string `json:"apply,omitempty"`
	// Match marks an attribute objects are matched by; MatchPriority
	// orders several (1 first).
	Match         bool `json:"match,omitempty"`
	MatchPriority int  `json:"matchPriority,omitempty"`
}

// Duration is a time.Duration written in JSON as Go's duration text
// ("40m").
type Duration time.Duration

// String writes d as Go writes a duration ("40m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is text such as \"40m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DeletionThreshold is the accidental-deletion prevention of an
// application (as Entra's:
// https://learn.microsoft.com/entra/identity/app-provisioning/accidental-deletions).
// Disables and deletes count alike, users and groups alike, whatever
// caused them (a scope change, an unassignment, a bulk delete in the
// directory), and a cycle's are added to those sent within Window before
// it, so that a stream of small cycles trips it too.
type DeletionThreshold struct {
	// Count is the most disables and deletes allowed within Window; 500
	// when zero.
	Count int `json:"count,omitempty"`
	// Percent, when set, also holds them when they exceed this share of
	// the application's linked objects.
	Percent float64 `json:"percent,omitempty"`
	// Window is how far back sent disables and deletes count; one hour
	// when zero.
	Window Duration `json:"window,omitempty"`
	// Off turns the prevention off.
	Off bool `json:"off,omitempty"`
}

// FailureThreshold says when failures quarantine a job (Entra's are
// documented "roughly" as more than 40% of a cycle's objects, or 40,000
// failures, counted from 5,000; Ferry's default minimum is 50, so that a
// small tenant's broken target is noticed too). Credential and protocol
// failures quarantine at once, whatever the counts.
type FailureThreshold struct {
	// MinFailures is the fewest failures of a cycle that can quarantine;
	// 50 when zero.
	MinFailures int `json:"minFailures,omitempty"`
	// Ratio is the share of the objects acted on that failed beyond which
	// the job is quarantined; 0.4 when zero.
	Ratio float64 `json:"ratio,omitempty"`
	// MaxFailures quarantines whatever the ratio; 40,000 when zero.
	MaxFailures int `json:"maxFailures,omitempty"`
}

func decodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("the stored configuration does not decode: %w", err)
	}
	return c, nil
}
