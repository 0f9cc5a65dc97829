package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/storetest"
)

// TestOwnerLock checks that one process at a time owns a database: a
// second owner is refused while the first is open, a store that does not
// ask to own it opens alongside (as ferry tokens does while ferry serve
// runs) and cannot watch commits, and closing the owner frees the lock.
func TestOwnerLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ferry.db")
	owner, err := Open(ctx, path, schema.Builtin(), Options{Owner: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, schema.Builtin(), Options{Owner: true}); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("a second owner: %v, want ErrNotOwner", err)
	}
	other, err := Open(ctx, path, schema.Builtin(), Options{})
	if err != nil {
		t.Fatalf("a store that does not own the database: %v", err)
	}
	if other.WatchCommits(func(store.Commit) {}) {
		t.Error("a store that does not own the database offered to watch its commits")
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, schema.Builtin(), Options{Owner: true})
	if err != nil {
		t.Fatalf("an owner after the first closed: %v", err)
	}
	again.Close()
}

// TestWatchCommits checks what the owner's watchers are told, and that
// they are told before the write returns: the resource written, the
// members whose groups changed, the groups a deleted user left, and the
// tenant whose schemas changed.
func TestWatchCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	var mu sync.Mutex
	var told []store.Commit
	if !s.WatchCommits(func(c store.Commit) {
		mu.Lock()
		told = append(told, c)
		mu.Unlock()
	}) {
		t.Fatal("the owner did not offer to watch its commits")
	}
	// last returns the resources and schemas of the commits told since the
	// previous call.
	last := func() (keys []string, schemas []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range told {
			for _, k := range c.Resources {
				keys = append(keys, k.Type+"/"+k.ID)
			}
			schemas = append(schemas, c.Schemas...)
		}
		told = nil
		slices.Sort(keys)
		return slices.Compact(keys), schemas
	}
	tn, err := s.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	last()
	user := func(name string) string {
		t.Helper()
		r := &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": name}}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	want := func(what string, keys ...string) {
		t.Helper()
		got, _ := last()
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Errorf("%s: told of %v, want %v", what, got, keys)
		}
	}
	ada, bob := user("ada"), user("bob")
	want("two creates", "User/"+ada, "User/"+bob)
	g := &store.Resource{TenantID: tn.ID, Type: store.GroupType, Doc: resource.Document{"displayName": "Crew"}, Members: []store.Member{{ID: ada}}}
	if err := s.Create(ctx, g); err != nil {
		t.Fatal(err)
	}
	want("a group created with a member", "Group/"+g.ID, "User/"+ada)
	if _, err := s.Update(ctx, tn.ID, store.GroupType, g.ID, 0, func(r *store.Resource) error {
		r.Members = []store.Member{{ID: bob}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want("a member replaced", "Group/"+g.ID, "User/"+ada, "User/"+bob)
	if err := s.Delete(ctx, tn.ID, store.UserType, bob, 0); err != nil {
		t.Fatal(err)
	}
	want("a member deleted", "Group/"+g.ID, "User/"+bob)
	if _, err := s.Update(ctx, tn.ID, store.UserType, ada, 0, func(r *store.Resource) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want("an update that changed nothing")

	if err := s.AddSchema(ctx, &store.SchemaExtension{TenantID: tn.ID, URN: storetest.ExtensionURN,
		ResourceType: store.UserType, Definition: []byte(storetest.ExtensionSchema)}); err != nil {
		t.Fatal(err)
	}
	if _, schemas := last(); !slices.Equal(schemas, []string{tn.ID}) {
		t.Errorf("a schema added: told of schemas of %v, want %v", schemas, []string{tn.ID})
	}
	// The store's own cache of the tenant's catalog follows at once: a user
	// with the new extension's attribute is accepted.
	r := &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": "cat",
		"schemas":              []any{"urn:ietf:params:scim:schemas:core:2.0:User", storetest.ExtensionURN},
		storetest.ExtensionURN: map[string]any{"costCenter": "42"}}}
	if err := s.Create(ctx, r); err != nil {
		t.Fatalf("a user of the extension declared a moment ago: %v", err)
	}
	f, err := filter.Parse(storetest.ExtensionURN + `:costCenter eq "42"`)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Query(ctx, tn.ID, store.UserType, store.Query{Filter: f, Count: 10})
	if err != nil || len(page.Resources) != 1 || page.Resources[0].ID != r.ID {
		t.Errorf("a filter on the extension declared a moment ago: %v, %+v", err, page.Resources)
	}
}
