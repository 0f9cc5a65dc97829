package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// The audit log records what administrators do to an application: who
// (the name of the admin token of the request, which the admin API puts
// in the context with WithActor), when, the action, and what it changed.
// Recording never fails the action it records: an entry that cannot be
// stored is logged instead. Secrets never reach an entry.

// Audit actions.
const (
	auditCreate        = "create"
	auditUpdate        = "update"
	auditDelete        = "delete"
	auditStart         = "start"
	auditStop          = "stop"
	auditRestart       = "restart"
	auditRestartReset  = "restart-reset"
	auditRetry         = "retry"
	auditAllowDeletes  = "allow-deletes"
	auditRejectDeletes = "reject-deletes"
	auditAssign        = "assign"
	auditUnassign      = "unassign"
)

// AuditActions lists the actions the audit log records, in the order of
// an application's life.
func AuditActions() []string {
	return []string{auditCreate, auditUpdate, auditDelete, auditStart, auditStop, auditRestart, auditRestartReset, auditRetry,
		auditAllowDeletes, auditRejectDeletes, auditAssign, auditUnassign}
}

// AuditEntry is one entry of an application's audit log.
type AuditEntry struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// App is the application's name when the entry was recorded; AppID
	// its id.
	App   string `json:"app"`
	AppID string `json:"appId"`
	// Actor is who did it: the name of the admin token of the request.
	Actor string `json:"actor"`
	// Action is create, update, delete, start, stop, restart,
	// restart-reset (restart clearing the current state), retry,
	// allow-deletes, reject-deletes, assign or unassign.
	Action  string        `json:"action"`
	Details *AuditDetails `json:"details,omitempty"`
}

// AuditDetails says what an action changed; what does not apply to the
// action is absent.
type AuditDetails struct {
	// Changes are the settings an update changed, or those a create set,
	// each with its old and new value. A secret's values never appear:
	// its new value reads "changed" ("set" on create).
	Changes []AuditChange `json:"changes,omitempty"`
	// Principal is who was assigned or unassigned, and Role the role
	// assigned.
	Principal *Principal `json:"principal,omitempty"`
	Role      string     `json:"role,omitempty"`
	// Force says start skipped Test Connection.
	Force bool `json:"force,omitempty"`
	// StagedID names the set of disables and deletes allowed or
	// rejected, of which there were Disables and Deletes.
	StagedID string `json:"stagedId,omitempty"`
	Disables int    `json:"disables,omitempty"`
	Deletes  int    `json:"deletes,omitempty"`
}

// AuditChange is one setting an action changed.
type AuditChange struct {
	// Field is name, a secret (secretToken, ...), or a field of the
	// configuration (tenantUrl, scope, objects, ...), compared whole.
	Field string `json:"field"`
	// Old and New are the JSON values before and after; absent when the
	// setting was not set.
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"`
}

type actorKey struct{}

// WithActor returns ctx carrying the name of who acts through it, which
// the audit log records with every action.
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

// actor is the name WithActor put in ctx, or "".
func actor(ctx context.Context) string {
	name, _ := ctx.Value(actorKey{}).(string)
	return name
}

// audit records an action on application a (as it is after the action)
// with details (nil, or an *AuditDetails from the helpers below). It never
// fails the caller: an entry that cannot be stored is logged.
func (s *Service) audit(ctx context.Context, a *store.App, action string, details any) {
	e := &store.AuditEntry{TenantID: a.TenantID, AppID: a.ID, AppName: a.Name, At: s.clock.Now().UTC(), Actor: actor(ctx), Action: action}
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			s.log.Error("encode an audit entry's details", "app", a.Name, "action", action, "err", err)
		} else if string(b) != "null" {
			e.Details = b
		}
	}
	// The action was done: its record is kept even when the request that
	// asked for it is gone.
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("record an audit entry", "app", a.Name, "action", action, "actor", e.Actor, "err", err)
	}
}

// appChanges returns the settings that differ between before and after,
// two states of one application: its name and each top-level field of its
// configuration, compared whole, and the secrets the action set, named by
// secrets (changedSecrets gives them) and shown as "changed", never with a
// value: the sealed secrets cannot tell which of them changed. A nil
// before is a creation: every setting after has is listed as new, and the
// secrets as "set". It returns nil when nothing differs.
func appChanges(before, after *store.App, secrets []string) *AuditDetails {
	var d AuditDetails
	add := func(field string, was, is json.RawMessage) {
		d.Changes = append(d.Changes, AuditChange{Field: field, Old: was, New: is})
	}
	var oldCfg map[string]json.RawMessage
	if before != nil {
		if before.Name != after.Name {
			add("name", jsonString(before.Name), jsonString(after.Name))
		}
		json.Unmarshal(before.Config, &oldCfg)
	} else {
		add("name", nil, jsonString(after.Name))
	}
	var newCfg map[string]json.RawMessage
	json.Unmarshal(after.Config, &newCfg)
	for _, field := range configFields() {
		was, is := oldCfg[field], newCfg[field]
		if sameRawJSON(was, is) {
			continue
		}
		if isSecretField(field) {
			was, is = nil, secretChange(before == nil)
		}
		add(field, redactURLValue(was), redactURLValue(is))
	}
	for _, field := range secrets {
		add(field, nil, secretChange(before == nil))
	}
	if len(d.Changes) == 0 {
		return nil
	}
	return &d
}

// changedSecrets names the secrets that in, an AppChange or a NewApp,
// sets: its fields named for a secret (secretToken, ...) that it gives.
func changedSecrets(in any) []string {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || !isSecretField(name) {
			continue
		}
		switch f := v.Field(i); f.Kind() {
		case reflect.Pointer:
			if !f.IsNil() {
				out = append(out, name)
			}
		case reflect.String:
			if f.String() != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// principalDetails describes an assignment or unassignment of r.
func principalDetails(r *store.Resource, role string) *AuditDetails {
	return &AuditDetails{Principal: &Principal{Type: r.Type, ID: r.ID, Name: displayName(r)}, Role: role}
}

// stagedDetails describes a staged set of disables and deletes allowed or
// rejected.
func stagedDetails(s *stagedSet) *AuditDetails {
	disables, deletes := s.counts()
	return &AuditDetails{StagedID: s.ID, Disables: disables, Deletes: deletes}
}

// redactURLValue hides what may be a credential in a setting that is a
// URL (a webhook's, say): its user information, and the values of its
// query, whose keys stay. Anything else is returned as it is.
func redactURLValue(v json.RawMessage) json.RawMessage {
	var s string
	if len(v) == 0 || json.Unmarshal(v, &s) != nil {
		return v
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.User == nil && u.RawQuery == "") {
		return v
	}
	u.User = nil
	if u.RawQuery != "" {
		var parts []string
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if k, _, ok := strings.Cut(kv, "="); ok {
				kv = k + "=redacted"
			}
			parts = append(parts, kv)
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return jsonString(u.String())
}

// configFields are the JSON names of Config's fields, in their order.
func configFields() []string {
	t := reflect.TypeFor[Config]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// isSecretField says a configuration field holds a secret, whose value
// the audit log must not show.
func isSecretField(field string) bool {
	return strings.Contains(strings.ToLower(field), "secret")
}

func secretChange(created bool) json.RawMessage {
	if created {
		return jsonString("set")
	}
	return jsonString("changed")
}

// jsonString is s as a JSON string, <, > and & as they are: an audit
// entry is read by people, not embedded in HTML.
func jsonString(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// sameRawJSON reports whether two JSON values are written alike, ignoring
// insignificant space; two absent values are.
func sameRawJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// Audit returns an application's audit log, newest first: at most limit
// entries (100 when 0, at most MaxLogLimit), after the entry before when
// it is set. The entries of an application deleted since are found by the
// name it had when they were recorded.
func (s *Service) Audit(ctx context.Context, tenantID, app string, before string, limit int) ([]AuditEntry, error) {
	if limit < 0 || limit > MaxLogLimit {
		return nil, invalid("limit %d is out of range: at most %d entries are listed at once; continue a listing with before", limit, MaxLogLimit)
	}
	q := store.AuditQuery{TenantID: tenantID, Before: before, Limit: limit}
	a, appErr := s.store.AppByName(ctx, tenantID, app)
	switch {
	case appErr == nil:
		q.AppID = a.ID
	case errors.Is(appErr, store.ErrNotFound):
		q.AppName = app
	default:
		return nil, appErr
	}
	entries, err := s.store.Audit(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && q.AppID == "" && before == "" {
		// No application has or had that name.
		return nil, appErr
	}
	out := make([]AuditEntry, 0, len(entries))
	for _, e := range entries {
		v := AuditEntry{ID: e.ID, At: e.At, App: e.AppName, AppID: e.AppID, Actor: e.Actor, Action: e.Action}
		if len(e.Details) > 0 {
			v.Details = new(AuditDetails)
			if err := json.Unmarshal(e.Details, v.Details); err != nil {
				return nil, fmt.Errorf("the details of audit entry %s do not decode: %w", e.ID, err)
			}
		}
		out = append(out, v)
	}
	return out, nil
}
