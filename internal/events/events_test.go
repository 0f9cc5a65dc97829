package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// pg is the PostgreSQL server of the package's tests, started once.
var pg struct {
	once   sync.Once
	server *pgtest.Server
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.server != nil {
		pg.server.Stop()
	}
	os.Exit(code)
}

// backend opens a store and opens it again (a restart of ferry serve) on
// the same database.
type backend struct {
	name string
	open func(t *testing.T) (open func() store.Store)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) func() store.Store {
		path := filepath.Join(t.TempDir(), "ferry.db")
		return func() store.Store {
			st, err := sqlite.Open(context.Background(), path, schema.Builtin(), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}},
	{"postgres", func(t *testing.T) func() store.Store {
		pg.once.Do(func() { pg.server, pg.err = pgtest.Start(context.Background()) })
		if pg.err != nil {
			t.Fatal(pg.err)
		}
		dsn, err := pg.server.CreateDatabase(context.Background(), "events")
		if err != nil {
			t.Fatal(err)
		}
		return func() store.Store {
			st, err := postgres.Open(context.Background(), dsn, schema.Builtin(), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}},
}

// TestEvents makes one change of every kind through the store and reads
// the events: every type, in commit order, with state and changed
// attributes; then pages of one event at a time, across a restart, give
// the same events with no gap and no repeat; and a filter by type.
func TestEvents(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			open := b.open(t)
			st := open()
			ctx := context.Background()
			tn, err := st.EnsureTenant(ctx, "default")
			if err != nil {
				t.Fatal(err)
			}
			other, err := st.EnsureTenant(ctx, "other")
			if err != nil {
				t.Fatal(err)
			}
			create := func(tenant, typ, doc string, members ...string) *store.Resource {
				t.Helper()
				d, err := resource.Decode([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				r := &store.Resource{TenantID: tenant, Type: typ, Doc: d}
				for _, m := range members {
					r.Members = append(r.Members, store.Member{ID: m, Type: store.UserType})
				}
				if err := st.Create(ctx, r); err != nil {
					t.Fatal(err)
				}
				return r
			}
			update := func(typ, id string, fn func(*store.Resource)) {
				t.Helper()
				if _, err := st.Update(ctx, tn.ID, typ, id, 0, func(r *store.Resource) error { fn(r); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			ann := create(tn.ID, store.UserType, `{"userName":"ann","active":true,"title":"CEO"}`)
			bob := create(tn.ID, store.UserType, `{"userName":"bob","active":true}`)
			create(other.ID, store.UserType, `{"userName":"someone else's"}`)
			sales := create(tn.ID, store.GroupType, `{"displayName":"Sales"}`, ann.ID)
			update(store.UserType, ann.ID, func(r *store.Resource) { r.Doc["title"] = "Chair" })
			update(store.UserType, bob.ID, func(r *store.Resource) { r.Doc["active"] = false })
			update(store.UserType, bob.ID, func(r *store.Resource) { r.Doc["active"] = true; r.Doc["title"] = "Back" })
			update(store.GroupType, sales.ID, func(r *store.Resource) {
				r.Doc["displayName"] = "Sales EMEA"
				r.Members = []store.Member{{ID: bob.ID, Type: store.UserType}}
			})
			if err := st.Delete(ctx, tn.ID, store.UserType, bob.ID, 0); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, tn.ID, store.GroupType, sales.ID, 0); err != nil {
				t.Fatal(err)
			}

			all, err := List(ctx, st, tn.ID, Query{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range all.Events {
				s := e.Type + " " + e.Object.ID
				if e.Member != nil {
					s += " " + e.Member.ID
				}
				got = append(got, s)
			}
			want := []string{
				UserCreated + " " + ann.ID,
				UserCreated + " " + bob.ID,
				GroupCreated + " " + sales.ID,
				GroupMemberAdded + " " + sales.ID + " " + ann.ID,
				UserUpdated + " " + ann.ID,
				UserDeactivated + " " + bob.ID,
				UserReactivated + " " + bob.ID,
				GroupUpdated + " " + sales.ID,
				GroupMemberAdded + " " + sales.ID + " " + bob.ID,
				GroupMemberRemoved + " " + sales.ID + " " + ann.ID,
				UserDeleted + " " + bob.ID,
				GroupMemberRemoved + " " + sales.ID + " " + bob.ID,
				GroupDeleted + " " + sales.ID,
			}
			if !slices.Equal(got, want) {
				t.Fatalf("events:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			byType := map[string]Event{}
			for _, e := range all.Events {
				byType[e.Type] = e
			}
			if e := byType[UserUpdated]; e.State["title"] != "Chair" || !slices.Equal(e.Changed, []string{"title"}) {
				t.Errorf("user.updated: state %v, changed %v", e.State, e.Changed)
			}
			if e := byType[UserReactivated]; e.State["active"] != true || !slices.Equal(e.Changed, []string{"active", "title"}) {
				t.Errorf("user.reactivated: state %v, changed %v", e.State, e.Changed)
			}
			if e := byType[GroupUpdated]; e.State["displayName"] != "Sales EMEA" || !slices.Equal(e.Changed, []string{"displayName"}) {
				t.Errorf("group.updated: state %v, changed %v", e.State, e.Changed)
			}
			if e := byType[UserDeleted]; e.State != nil || e.Time.IsZero() {
				t.Errorf("user.deleted: %+v", e)
			}
			if all.Next != all.Events[len(all.Events)-1].ID && !strings.HasPrefix(all.Events[len(all.Events)-1].ID, all.Next+".") {
				t.Errorf("next %q after the last event %q", all.Next, all.Events[len(all.Events)-1].ID)
			}

			// One event a page, with a restart in the middle: the same
			// events, none twice, none missing.
			var paged []string
			after := ""
			for i := 0; i < 3*len(want); i++ {
				if i == 5 {
					st.Close()
					st = open()
				}
				p, err := List(ctx, st, tn.ID, Query{After: after, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Events) == 0 {
					break
				}
				paged = append(paged, p.Events[0].ID)
				after = p.Next
			}
			var ids []string
			for _, e := range all.Events {
				ids = append(ids, e.ID)
			}
			if !slices.Equal(paged, ids) {
				t.Errorf("paged one at a time: %v, want %v", paged, ids)
			}

			// A filter: user.* and the member events of groups.
			f, err := List(ctx, st, tn.ID, Query{Types: []string{"user.*", GroupMemberRemoved}})
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range f.Events {
				types = append(types, e.Type)
			}
			if fmt.Sprint(types) != fmt.Sprint([]string{UserCreated, UserCreated, UserUpdated, UserDeactivated, UserReactivated, GroupMemberRemoved, UserDeleted, GroupMemberRemoved}) {
				t.Errorf("filtered: %v", types)
			}
			// Nothing new: the same cursor comes back.
			if p, err := List(ctx, st, tn.ID, Query{After: all.Next}); err != nil || len(p.Events) != 0 || p.Next != all.Next {
				t.Errorf("after the last: %+v, %v", p, err)
			}
			for _, bad := range []Query{{After: "x"}, {After: "3.-1"}, {Limit: MaxLimit + 1}, {Types: []string{"user.renamed"}}} {
				if _, err := List(ctx, st, tn.ID, bad); err == nil {
					t.Errorf("%+v: no error", bad)
				}
			}
			st.Close()
		})
	}
}

// clockedTenant opens a SQLite store on a test clock with a tenant, and
// returns a function that creates a user in it.
func clockedTenant(t *testing.T) (*clocktest.Clock, store.Store, string, func(userName string)) {
	t.Helper()
	clock := clocktest.New(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), schema.Builtin(), sqlite.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.EnsureTenant(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string) {
		t.Helper()
		r := &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": name}}
		if err := st.Create(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return clock, st, tn.ID, mk
}

// TestExpiredCursor: a cursor whose next events the retention deleted is
// an *ExpiredError naming the cursor to go on from; reading without a
// cursor, or after that one, gives the oldest events kept.
func TestExpiredCursor(t *testing.T) {
	t.Parallel()
	clock, st, tenantID, mk := clockedTenant(t)
	ctx := context.Background()
	mk("old1")
	mk("old2")
	clock.Advance(2 * time.Hour)
	mk("new1")
	all, err := List(ctx, st, tenantID, Query{})
	if err != nil || len(all.Events) != 3 {
		t.Fatalf("List before the prune = %+v, %v", all, err)
	}
	if n, err := st.PruneChanges(ctx, clock.Now().Add(-time.Hour)); err != nil || n != 2 {
		t.Fatalf("PruneChanges = %d, %v; want 2", n, err)
	}
	// Entry 1 (a cursor inside it reads after 0, the oldest kept), and
	// entry 2 whole and in part.
	for _, after := range []string{all.Events[0].ID, strings.TrimSuffix(all.Events[0].ID, ".0"), all.Events[1].ID} {
		_, err := List(ctx, st, tenantID, Query{After: after})
		exp, ok := errors.AsType[*ExpiredError](err)
		if !ok || !errors.Is(err, store.ErrChangesPruned) {
			t.Fatalf("List after %q = %v, want an ExpiredError", after, err)
		}
		if want := strings.TrimSuffix(all.Events[1].ID, ".0"); exp.After != after || exp.Oldest != want {
			t.Errorf("List after %q: %+v, want Oldest %q", after, exp, want)
		}
		if !strings.Contains(err.Error(), "read without after") {
			t.Errorf("the error does not say how to start again: %v", err)
		}
	}
	for _, after := range []string{"", strings.TrimSuffix(all.Events[1].ID, ".0")} {
		page, err := List(ctx, st, tenantID, Query{After: after})
		if err != nil || len(page.Events) != 1 || page.Events[0].ID != all.Events[2].ID {
			t.Errorf("List after %q = %+v, %v; want only %s", after, page, err, all.Events[2].ID)
		}
	}
}

func TestParseRetention(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  string
	}{
		{"empty keeps", "", 0, ""},
		{"zero keeps", "0", 0, ""},
		{"hours", "720h", 720 * time.Hour, ""},
		{"days", "30d", 30 * 24 * time.Hour, ""},
		{"the least", "1h", time.Hour, ""},
		{"too short", "30m", 0, "shorter than the least retention, 1h0m0s"},
		{"zero days keeps", "0d", 0, ""},
		{"negative", "-5h", 0, "shorter than the least retention"},
		{"negative days", "-3d", 0, "is no retention"},
		{"not a duration", "a month", 0, "is no retention: give a duration such as 720h"},
		{"days with a fraction", "1.5d", 0, "is no retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRetention(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseRetention(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseRetention(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestRetainer prunes what is older than Keep on its clock, and no more.
func TestRetainer(t *testing.T) {
	t.Parallel()
	clock, st, tenantID, mk := clockedTenant(t)
	ctx := context.Background()
	for i, age := range []time.Duration{0, 24 * time.Hour, 24 * time.Hour} {
		clock.Advance(age)
		mk(fmt.Sprint("u", i))
	}
	var logged strings.Builder
	r := Retainer{Store: st, Keep: 36 * time.Hour, Now: clock.Now, Log: slog.New(slog.NewTextHandler(&logged, nil))}
	if n, err := r.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 (the entry 48h old)", n, err)
	}
	if !strings.Contains(logged.String(), "entries=1") {
		t.Errorf("log: %s", logged.String())
	}
	page, err := List(ctx, st, tenantID, Query{})
	if err != nil || len(page.Events) != 2 {
		t.Errorf("events kept: %+v, %v; want 2", page, err)
	}
	clock.Advance(24 * time.Hour)
	if n, err := r.Prune(ctx); err != nil || n != 1 {
		t.Errorf("Prune a day later = %d, %v; want 1", n, err)
	}
}
