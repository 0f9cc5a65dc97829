package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// auditStore is the engine's store whose AppendAudit fails while failing
// is set.
type auditStore struct {
	store.Store
	mu      sync.Mutex
	failing bool
}

func (s *auditStore) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		return errors.New("the database is read-only")
	}
	return s.Store.AppendAudit(ctx, e)
}

// minuteClock is a clock a minute later at every reading, so that each
// audit entry has a time of its own. It waits in real time.
type minuteClock struct {
	scimclient.RealClock
	mu  sync.Mutex
	now time.Time
}

func (c *minuteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Minute)
	return c.now
}

// syncBuffer is a log sink for a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestAudit records the actions of an application's life through the
// recorder the Service's methods call, and reads them back: who and when,
// what changed (never a secret), newest first and page by page, and after
// the application is gone; a store that cannot record does not fail the
// action.
func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/ferry.db", schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	clock := &minuteClock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	as := &auditStore{Store: st}
	m := NewService(NewEngine(as, schema.Builtin(), sealer, slog.New(slog.NewTextHandler(logs, nil)), Options{Clock: clock}))
	alice := WithActor(ctx, "alice")
	const secret, newSecret = "first-s3cret-token", "second-s3cret-token"

	// The application is written to the store directly: the Service's
	// methods record their own entries, and this test records them
	// itself, as those methods do.
	cfg, err := loadTemplate("scim")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TenantURL, cfg.Scope = "https://target.example/scim/v2", ScopeAssigned
	created := &store.App{ID: store.NewID(), TenantID: tn.ID, Name: "HR", Template: "scim", Config: mustMarshal(t, cfg)}
	created.Secret = sealer.Seal([]byte(secret), []byte(created.ID))
	if err := st.CreateApp(ctx, created); err != nil {
		t.Fatal(err)
	}
	m.audit(alice, created, auditCreate, appChanges(nil, created, changedSecrets(NewApp{SecretToken: secret})))
	cfg.Scope = ScopeAll
	updated, err := st.UpdateApp(ctx, tn.ID, created.ID, 0, func(a *store.App) error {
		a.Name, a.Config = "People", mustMarshal(t, cfg)
		a.Secret = sealer.Seal([]byte(newSecret), []byte(a.ID))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m.audit(WithActor(ctx, "bob"), updated, auditUpdate, appChanges(created, updated, changedSecrets(AppChange{SecretToken: new(newSecret)})))
	ann := &store.Resource{Type: store.UserType, ID: "u-1", Doc: resource.Document{"userName": "ann@example.com"}}
	m.audit(alice, updated, auditAssign, principalDetails(ann, "User"))
	m.audit(alice, updated, auditAllowDeletes, stagedDetails(&stagedSet{ID: "set-1", Items: []heldAction{
		{Action: ActionDisable}, {Action: ActionDelete}, {Action: ActionDisable}}}))
	m.audit(ctx, updated, auditRestartReset, nil)
	m.audit(alice, updated, auditStart, &AuditDetails{Force: true})
	m.audit(alice, updated, auditStop, (*AuditDetails)(nil))

	entries, err := m.Audit(ctx, tn.ID, "people", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions, actors []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		actors = append(actors, e.Actor)
		if e.AppID != created.ID {
			t.Errorf("entry %+v: want application %s", e, created.ID)
		}
	}
	if got, want := strings.Join(actions, " "), "stop start restart-reset allow-deletes assign update create"; got != want {
		t.Fatalf("actions %q, want %q (newest first)", got, want)
	}
	if got, want := strings.Join(actors, ","), "alice,alice,,alice,alice,bob,alice"; got != want {
		t.Errorf("actors %q, want %q", got, want)
	}
	if e := entries[len(entries)-1]; !e.At.Equal(time.Date(2026, 5, 4, 10, 1, 0, 0, time.UTC)) || e.App != "HR" {
		t.Errorf("the create entry: %+v; want at the engine's clock, under the name HR", e)
	}
	if e := entries[0]; e.Details != nil || e.App != "People" {
		t.Errorf("the stop entry: %+v; want no details, under the name People", e)
	}
	if d := entries[1].Details; d == nil || !d.Force {
		t.Errorf("the start entry's details: %+v; want force", d)
	}
	if d := entries[3].Details; d == nil || d.StagedID != "set-1" || d.Disables != 2 || d.Deletes != 1 {
		t.Errorf("the allow-deletes entry's details: %+v; want set-1, 2 disables and 1 delete", d)
	}
	if d := entries[4].Details; d == nil || d.Principal == nil || *d.Principal != (Principal{Type: "User", ID: "u-1", Name: "ann@example.com"}) || d.Role != "User" {
		t.Errorf("the assign entry's details: %+v", d)
	}

	changes := func(e AuditEntry) map[string]string {
		out := map[string]string{}
		if e.Details != nil {
			for _, c := range e.Details.Changes {
				out[c.Field] = string(c.Old) + " → " + string(c.New)
			}
		}
		return out
	}
	update := changes(entries[5])
	for field, want := range map[string]string{
		"name":        `"HR" → "People"`,
		"scope":       `"assigned" → "all"`,
		"secretToken": ` → "changed"`,
	} {
		if update[field] != want {
			t.Errorf("the update's %s: %q, want %q", field, update[field], want)
		}
	}
	if len(update) != 3 {
		t.Errorf("the update lists %d changes, want name, scope and secretToken: %v", len(update), update)
	}
	create := changes(entries[6])
	for field, want := range map[string]string{
		"name":        ` → "HR"`,
		"tenantUrl":   ` → "https://target.example/scim/v2"`,
		"scope":       ` → "assigned"`,
		"secretToken": ` → "set"`,
	} {
		if create[field] != want {
			t.Errorf("the create's %s: %q, want %q", field, create[field], want)
		}
	}
	if _, ok := create["objects"]; !ok {
		t.Errorf("the create does not list the mappings it was created with: %v", create)
	}
	raw, _ := json.Marshal(entries)
	for _, s := range []string{secret, newSecret} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("a secret token is in the audit log: %s", raw)
		}
	}

	// Page by page, newest first.
	var paged []string
	before := ""
	for {
		page, err := m.Audit(ctx, tn.ID, "People", before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			paged = append(paged, e.Action)
		}
		before = page[len(page)-1].ID
	}
	if got := strings.Join(paged, " "); got != strings.Join(actions, " ") {
		t.Errorf("paged: %q, want %q", got, strings.Join(actions, " "))
	}

	for _, tc := range []struct {
		name   string
		app    string
		limit  int
		status int // of the *scim.Error; 0 for store.ErrNotFound
		detail string
	}{
		{"limit above the maximum", "People", MaxLogLimit + 1, 400, "at most 1000"},
		{"negative limit", "People", -1, 400, "out of range"},
		{"an application that never was", "Payroll", 0, 0, ""},
	} {
		_, err := m.Audit(ctx, tn.ID, tc.app, "", tc.limit)
		if tc.status == 0 {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %v; want store.ErrNotFound", tc.name, err)
			}
			continue
		}
		if e, ok := scim.AsError(err); !ok || e.Status != tc.status || !strings.Contains(e.Detail, tc.detail) {
			t.Errorf("%s: %v; want a %d saying %q", tc.name, err, tc.status, tc.detail)
		}
	}

	// A store that cannot record: the action goes on, the failure is
	// logged.
	as.mu.Lock()
	as.failing = true
	as.mu.Unlock()
	m.audit(alice, updated, auditRetry, nil)
	if l := logs.String(); !strings.Contains(l, "record an audit entry") || !strings.Contains(l, "action=retry") || !strings.Contains(l, "read-only") {
		t.Errorf("the failed record is not logged:\n%s", l)
	}
	as.mu.Lock()
	as.failing = false
	as.mu.Unlock()

	// The entries outlive the application: it is found by the names it
	// had, each giving the entries recorded under it.
	if err := st.DeleteApp(ctx, tn.ID, updated.ID); err != nil {
		t.Fatal(err)
	}
	m.audit(alice, updated, auditDelete, nil)
	gone, err := m.Audit(ctx, tn.ID, "PEOPLE", "", 0)
	if err != nil || len(gone) != 7 || gone[0].Action != "delete" {
		t.Errorf("the deleted application's entries by its last name: %d, %v; want the 7 recorded under it, the delete first", len(gone), err)
	}
	if old, err := m.Audit(ctx, tn.ID, "HR", "", 0); err != nil || len(old) != 1 || old[0].Action != "create" {
		t.Errorf("the deleted application's entries by its first name: %+v, %v; want its create", old, err)
	}
	if _, err := m.Audit(ctx, tn.ID, "People", gone[len(gone)-1].ID, 0); err != nil {
		t.Errorf("paging past the last entry of a deleted application: %v; want an empty page", err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppChangesCompare checks that only what changed is a change, and
// that a configuration field named for a secret, should one be added, is
// taken for one.
func TestAppChangesCompare(t *testing.T) {
	t.Parallel()
	if !isSecretField("webhookSecret") || !isSecretField("secretToken") || isSecretField("scope") {
		t.Errorf("isSecretField misjudges a field")
	}
	before := &store.App{Name: "a", Config: []byte(`{"scope":"all","objects":[]}`)}
	after := &store.App{Name: "a", Config: []byte(`{"scope": "all", "objects": [ ]}`)}
	if d := appChanges(before, after, nil); d != nil {
		t.Errorf("the same configuration, spaced otherwise, gives changes %+v", d)
	}
	if d := appChanges(before, before, changedSecrets(AppChange{})); d != nil {
		t.Errorf("no change gives %+v", d)
	}
	tok := "a-new-s3cret"
	for _, tc := range []struct {
		in   any
		want string
	}{
		{AppChange{}, ""},
		{AppChange{SecretToken: &tok, Name: &tok}, "secretToken"},
		{&AppChange{SecretToken: &tok}, "secretToken"},
		{NewApp{Name: "x", SecretToken: tok}, "secretToken"},
		{NewApp{Name: "x"}, ""},
		{"not a change", ""},
	} {
		if got := strings.Join(changedSecrets(tc.in), ","); got != tc.want {
			t.Errorf("changedSecrets(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		`"https://hooks.example/h?token=abc&v=2&flag"`: `"https://hooks.example/h?token=redacted&v=redacted&flag"`,
		`"https://user:pw@hooks.example/h"`:            `"https://hooks.example/h"`,
		`"https://scim.example/scim?aadOptscim062020"`: `"https://scim.example/scim?aadOptscim062020"`,
		`"all"`:       `"all"`,
		`{"count":1}`: `{"count":1}`,
	} {
		if got := string(redactURLValue(json.RawMessage(in))); got != want {
			t.Errorf("redactURLValue(%s) = %s, want %s", in, got, want)
		}
	}
	hook := &store.App{Name: "a", Config: []byte(`{"scope":"all","notificationWebhook":"https://hooks.example/h?key=s3cret","objects":[]}`)}
	if d := appChanges(before, hook, nil); d == nil || len(d.Changes) != 1 || string(d.Changes[0].New) != `"https://hooks.example/h?key=redacted"` {
		t.Errorf("a webhook URL with a key in its query: %+v", d)
	}
	d := appChanges(before, before, []string{"secretToken"})
	if d == nil || len(d.Changes) != 1 || d.Changes[0].Field != "secretToken" || string(d.Changes[0].New) != `"changed"` || d.Changes[0].Old != nil {
		t.Errorf("a secret set again: %+v; want secretToken changed, no value", d)
	}
}
