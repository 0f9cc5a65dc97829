package ldapsource

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/store"
)

// planFixture builds snapshots and owned sets from OpenLDAP entries.
type planFixture struct {
	t *testing.T
	m *Mapping
}

func newPlanFixture(t *testing.T) planFixture {
	return planFixture{t: t, m: compile(t, Config{})}
}

func (f planFixture) user(uid string, attrs map[string][]string) *Object {
	f.t.Helper()
	all := map[string][]string{"entryUUID": {"id-" + uid}, "uid": {uid}, "cn": {strings.ToUpper(uid)}}
	for k, v := range attrs {
		all[k] = v
	}
	o, err := f.m.User(ldap.NewEntry("uid="+uid+",dc=example,dc=com", all))
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f planFixture) group(cn string, members ...string) *Object {
	f.t.Helper()
	o, err := f.m.Group(ldap.NewEntry("cn="+cn+",dc=example,dc=com", map[string][]string{"entryUUID": {"id-" + cn}, "cn": {cn}}))
	if err != nil {
		f.t.Fatal(err)
	}
	for _, uid := range members {
		o.Members = append(o.Members, "id-"+uid)
	}
	return o
}

func (f planFixture) snapshot(full bool, objs ...*Object) *Snapshot {
	s := newSnapshot(full, f.m)
	s.Complete = true
	for _, o := range objs {
		if o.Doc["userName"] != nil {
			s.Users[o.ID] = o
		} else {
			s.Groups[o.ID] = o
		}
	}
	return s
}

// owned returns what the source would own after applying objs; a group's
// members are the owned users named, plus any foreign ids given as
// "foreign:<id>".
func (f planFixture) owned(objs ...*Object) *Owned {
	f.t.Helper()
	owned := &Owned{Users: map[string]*store.Resource{}, Groups: map[string]*store.Resource{}}
	for _, o := range objs {
		typ, into := store.UserType, owned.Users
		if o.Doc["userName"] == nil {
			typ, into = store.GroupType, owned.Groups
		}
		doc, err := f.m.merge(typ, nil, o.Doc, "")
		if err != nil {
			f.t.Fatal(err)
		}
		doc["externalId"] = ExternalID("corp", o.ID)
		r := &store.Resource{Type: typ, ID: "r-" + o.ID, Doc: doc, Version: 3}
		for _, mid := range o.Members {
			id := "r-" + mid
			if foreign, ok := strings.CutPrefix(mid, "foreign:"); ok {
				id = foreign
			}
			r.Members = append(r.Members, store.Member{ID: id, Type: store.UserType})
		}
		into[o.ID] = r
	}
	return owned
}

func ids(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestPlanNothingChanged(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	ada, grace := f.user("ada", nil), f.user("grace", nil)
	staff := f.group("staff", "ada", "grace")
	owned := f.owned(ada, grace, staff)
	// A SCIM client's unmapped attribute is not a difference.
	owned.Users["id-ada"].Doc["nickName"] = "Countess"
	p := NewPlan(owned, f.snapshot(true, ada, grace, staff), PlanOptions{})
	if len(p.Creates)+len(p.Updates)+len(p.Disables)+len(p.Deletes) != 0 || p.Guard != "" {
		t.Errorf("plan = %s, guard %q", p.Summary(), p.Guard)
	}
}

func TestPlanChanges(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	users := []*Object{f.user("ada", nil), f.user("grace", nil), f.user("alan", nil)}
	for i := range 7 {
		users = append(users, f.user(fmt.Sprint("u", i), nil))
	}
	staff := f.group("staff", "ada", "grace", "foreign:scim-user")
	ops := f.group("ops")
	owned := f.owned(append(slices.Clone(users), staff, ops)...)

	// In the directory now: ada retitled, grace locked, alan gone (1 of
	// 10 users: under the guard's 20%), a new user; staff lost ada and
	// gained alan2; ops is gone (1 of 2 groups: over 20%, so AllowShrink).
	read := []*Object{
		f.user("ada", map[string][]string{"title": {"Analyst"}}),
		f.user("grace", map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}),
		f.user("alan2", nil),
		f.group("staff", "grace", "alan2"),
	}
	read = append(read, users[3:]...)
	p := NewPlan(owned, f.snapshot(true, read...), PlanOptions{AllowShrink: true})

	if got := ids(p.Creates); !slices.Equal(got, []string{"id-alan2"}) {
		t.Errorf("creates %v", got)
	}
	if got := ids(p.Updates); !slices.Equal(got, []string{"id-ada", "id-staff"}) {
		t.Errorf("updates %v", got)
	}
	if got := ids(p.Disables); !slices.Equal(got, []string{"id-grace", "id-alan"}) {
		t.Errorf("disables %v", got)
	}
	if !strings.Contains(p.Disables[0].Reason, "pwdAccountLockedTime") || p.Disables[1].Reason != goneReason {
		t.Errorf("reasons %q, %q", p.Disables[0].Reason, p.Disables[1].Reason)
	}
	if got := ids(p.Deletes); !slices.Equal(got, []string{"id-ops"}) || p.Deletes[0].Version != 3 {
		t.Errorf("deletes %v", p.Deletes)
	}
	staffChange := p.Updates[1]
	// The foreign member is not the source's to remove.
	if !slices.Equal(staffChange.Add, []string{"id-alan2"}) || !slices.Equal(staffChange.Remove, []string{"id-ada"}) || staffChange.Attributes {
		t.Errorf("staff: add %v remove %v attributes %v", staffChange.Add, staffChange.Remove, staffChange.Attributes)
	}
}

func TestPlanReadGuard(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	var users []*Object
	for i := range 10 {
		users = append(users, f.user(fmt.Sprint("u", i), nil))
	}
	staff := f.group("staff", "u0", "u1", "u9")
	owned := f.owned(append(slices.Clone(users), staff)...)
	retitled := f.user("u0", map[string][]string{"title": {"Boss"}})
	// u7, u8, u9 gone: 30% of the users.
	shrunk := f.snapshot(true, append([]*Object{retitled, f.group("staff", "u0", "u1")}, users[1:7]...)...)

	t.Run("shrink", func(t *testing.T) {
		p := NewPlan(owned, shrunk, PlanOptions{})
		if len(p.Disables)+len(p.Deletes) != 0 || p.Withheld != 4 {
			t.Errorf("plan %s, withheld %d; want 3 disables and 1 membership removal held", p.Summary(), p.Withheld)
		}
		for _, want := range []string{"3 of the 10 users", "20%", "Nothing was disabled or deleted"} {
			if !strings.Contains(p.Guard, want) {
				t.Errorf("guard %q does not say %q", p.Guard, want)
			}
		}
		// The update still goes ahead; the group's removal does not.
		if got := ids(p.Updates); !slices.Equal(got, []string{"id-u0"}) {
			t.Errorf("updates %v", got)
		}
	})
	t.Run("higher threshold", func(t *testing.T) {
		p := NewPlan(owned, shrunk, PlanOptions{MaxShrinkPercent: 30})
		if len(p.Disables) != 3 || p.Guard != "" {
			t.Errorf("plan %s, guard %q", p.Summary(), p.Guard)
		}
	})
	t.Run("incremental", func(t *testing.T) {
		delta := f.snapshot(false, retitled)
		p := NewPlan(owned, delta, PlanOptions{})
		if len(p.Disables)+len(p.Deletes) != 0 || len(p.Updates) != 1 || p.Guard != "" {
			t.Errorf("plan %s, guard %q", p.Summary(), p.Guard)
		}
	})
	t.Run("failed read", func(t *testing.T) {
		failed := f.snapshot(true, users[:2]...)
		failed.Complete = false
		failed.Err = fmt.Errorf("read users (after 2 entries): %w: broken pipe", ErrConnection)
		p := NewPlan(owned, failed, PlanOptions{})
		if len(p.Creates)+len(p.Updates)+len(p.Disables)+len(p.Deletes) != 0 {
			t.Errorf("plan %s from a failed read", p.Summary())
		}
		if !strings.Contains(p.Guard, "broken pipe") || !strings.Contains(p.Guard, "nothing was changed") {
			t.Errorf("guard %q", p.Guard)
		}
		// Apply of such a plan writes nothing, whatever the store.
		if res, err := Apply(t.Context(), Target{}, p); err != nil || !reflect.DeepEqual(res, Result{}) {
			t.Errorf("Apply = %v, %v", res, err)
		}
	})
	t.Run("unmappable entries count as present", func(t *testing.T) {
		snap := f.snapshot(true, append([]*Object{f.group("staff", "u0", "u1", "u9")}, users[:7]...)...)
		for _, u := range users[7:] {
			snap.Invalid[u.ID] = "uid=" + u.ID + ": no userName"
		}
		p := NewPlan(owned, snap, PlanOptions{})
		if len(p.Disables) != 0 || p.Guard != "" || len(p.Notes) != 3 {
			t.Errorf("plan %s, guard %q, notes %v", p.Summary(), p.Guard, p.Notes)
		}
	})
}

func TestPlanGroupShrink(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	a, b := f.group("a"), f.group("b")
	p := NewPlan(f.owned(a, b), f.snapshot(true, a), PlanOptions{})
	if len(p.Deletes) != 0 || !strings.Contains(p.Guard, "1 of the 2 groups") {
		t.Errorf("plan %s, guard %q", p.Summary(), p.Guard)
	}
}

func TestPlanManager(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	boss := f.user("boss", nil)
	ada := f.user("ada", nil)
	ada.Manager = boss.ID
	owned := f.owned(boss, f.user("ada", nil))
	p := NewPlan(owned, f.snapshot(true, boss, ada), PlanOptions{})
	if got := ids(p.Updates); !slices.Equal(got, []string{"id-ada"}) {
		t.Fatalf("updates %v", got)
	}
	// Once the manager is set, nothing differs.
	doc, err := f.m.merge(store.UserType, owned.Users["id-ada"].Doc, ada.Doc, "r-id-boss")
	if err != nil {
		t.Fatal(err)
	}
	owned.Users["id-ada"].Doc = doc
	if p := NewPlan(owned, f.snapshot(true, boss, ada), PlanOptions{}); len(p.Updates) != 0 {
		t.Errorf("updates %v after the manager was set", ids(p.Updates))
	}
}

func TestPlanNilSnapshot(t *testing.T) {
	t.Parallel()
	p := NewPlan(nil, nil, PlanOptions{})
	if p.Guard == "" || p.Summary() != "incremental pass: 0 to create, 0 to update, 0 to disable, 0 to delete" {
		t.Errorf("plan %q, guard %q", p.Summary(), p.Guard)
	}
}
