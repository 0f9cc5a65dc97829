package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/store"
)

// The tests of store.Sources: the sources' records, and the lease that
// keeps one pass of a source running at a time.

func createSource(t *testing.T, s store.Store, tenantID, name string) *store.Source {
	t.Helper()
	src := &store.Source{TenantID: tenantID, Name: name, Type: store.SourceTypeLDAP,
		Config: []byte(`{"url":"ldap://ldap.example.com"}`), Secret: []byte{1, 2, 3}, Enabled: true}
	if err := s.CreateSource(context.Background(), src); err != nil {
		t.Fatalf("CreateSource %q: %v", name, err)
	}
	return src
}

func testSources(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	corp := createSource(t, s, a, "Corp")
	if corp.ID == "" || corp.Version != 1 || corp.Created.IsZero() || !corp.Created.Equal(corp.LastModified) {
		t.Fatalf("created source = %+v; want an id, version 1 and equal times", corp)
	}
	createSource(t, s, a, "ad")
	createSource(t, s, b, "corp") // another tenant may use the name

	err := s.CreateSource(ctx, &store.Source{TenantID: a, Name: "CORP", Type: store.SourceTypeLDAP})
	if !errors.Is(err, store.ErrNameTaken) {
		t.Errorf("CreateSource CORP next to Corp: %v; want ErrNameTaken", err)
	}
	for _, bad := range []*store.Source{{TenantID: a, Type: store.SourceTypeLDAP}, {TenantID: a, Name: "x"},
		{TenantID: a, Name: "y", Type: store.SourceTypeLDAP, Config: []byte("{")}} {
		if err := s.CreateSource(ctx, bad); err == nil {
			t.Errorf("CreateSource(%+v) succeeded; want an error", bad)
		}
	}

	got, err := s.SourceByName(ctx, a, "cOrP")
	if err != nil || got.ID != corp.ID || !bytes.Equal(got.Secret, corp.Secret) || string(got.Config) != string(corp.Config) ||
		!got.Enabled || got.Type != store.SourceTypeLDAP || !got.Created.Equal(corp.Created) {
		t.Fatalf("SourceByName cOrP = %+v, %v; want %+v", got, err, corp)
	}
	if got, err := s.Source(ctx, a, corp.ID); err != nil || got.Name != "Corp" {
		t.Errorf("Source(%s) = %+v, %v", corp.ID, got, err)
	}
	if _, err := s.Source(ctx, b, corp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Source of tenant a read as tenant b: %v; want ErrNotFound", err)
	}
	if _, err := s.SourceByName(ctx, a, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SourceByName nope: %v; want ErrNotFound", err)
	}

	list, err := s.Sources(ctx, a)
	if err != nil || len(list) != 2 || list[0].Name != "ad" || list[1].Name != "Corp" {
		t.Fatalf("Sources(a) = %v, %v; want ad, Corp", names(list), err)
	}
	all, err := s.Sources(ctx, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("Sources(\"\") = %v, %v; want every tenant's 3", names(all), err)
	}

	// Update: what change may set, and what it may not.
	up, err := s.UpdateSource(ctx, a, corp.ID, 1, func(src *store.Source) error {
		src.Enabled = false
		src.Config = []byte(`{"url":"ldaps://ldap.example.com"}`)
		src.Name, src.Type, src.State = "Other", "csv", []byte(`{}`)
		return nil
	})
	if err != nil || up.Version != 2 || up.Enabled || up.Name != "Corp" || up.Type != store.SourceTypeLDAP || up.State != nil ||
		string(up.Config) != `{"url":"ldaps://ldap.example.com"}` {
		t.Fatalf("UpdateSource = %+v, %v; want version 2, disabled, the new config, name and type kept", up, err)
	}
	if _, err := s.UpdateSource(ctx, a, corp.ID, 1, func(*store.Source) error { return nil }); !errors.Is(err, store.ErrVersionMismatch) {
		t.Errorf("UpdateSource at version 1: %v; want ErrVersionMismatch", err)
	}
	same, err := s.UpdateSource(ctx, a, corp.ID, 0, func(*store.Source) error { return nil })
	if err != nil || same.Version != 2 {
		t.Errorf("UpdateSource changing nothing = %+v, %v; want version 2 kept", same, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateSource(ctx, a, corp.ID, 0, func(*store.Source) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateSource whose change fails: %v; want its error", err)
	}
	if _, err := s.UpdateSource(ctx, b, corp.ID, 0, func(*store.Source) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateSource in another tenant: %v; want ErrNotFound", err)
	}

	if err := s.DeleteSource(ctx, b, corp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteSource in another tenant: %v; want ErrNotFound", err)
	}
	if err := s.DeleteSource(ctx, a, corp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Source(ctx, a, corp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Source after DeleteSource: %v; want ErrNotFound", err)
	}
	// The name is free again.
	createSource(t, s, a, "corp")
}

func names(list []*store.Source) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

// testSourceLease follows a source's lease through claims, a renewal, an
// expiry, a takeover and a release, and checks that its state is written
// only under the lease as it stands.
func testSourceLease(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	src := createSource(t, s, a, "corp")
	ttl := 30 * time.Second

	l1, held, err := s.ClaimSource(ctx, src.ID, "r1", ttl)
	if err != nil || !held || l1.Owner != "r1" || l1.Generation != 1 || !l1.Expires.Equal(c.Now().Add(ttl)) {
		t.Fatalf("first ClaimSource = %+v, %t, %v; want r1's, generation 1, expiring after ttl", l1, held, err)
	}
	if l, held, err := s.ClaimSource(ctx, src.ID, "r2", ttl); err != nil || held || l.Owner != "r1" {
		t.Fatalf("ClaimSource by r2 while r1 holds it = %+v, %t, %v; want r1's lease, not held", l, held, err)
	}
	if err := s.PutSourceState(ctx, src.ID, l1, []byte(`{"pass":1}`)); err != nil {
		t.Fatalf("PutSourceState under the lease: %v", err)
	}
	c.Advance(10 * time.Second)
	renewed, held, err := s.ClaimSource(ctx, src.ID, "r1", ttl)
	if err != nil || !held || renewed.Generation != 1 || !renewed.Expires.Equal(c.Now().Add(ttl)) {
		t.Fatalf("renewal = %+v, %t, %v; want generation 1 kept, a later expiry", renewed, held, err)
	}
	c.Advance(ttl)
	if err := s.PutSourceState(ctx, src.ID, renewed, []byte(`{"pass":2}`)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("PutSourceState after the lease expired: %v; want ErrLeaseLost", err)
	}
	l2, held, err := s.ClaimSource(ctx, src.ID, "r2", ttl)
	if err != nil || !held || l2.Owner != "r2" || l2.Generation != 2 {
		t.Fatalf("takeover = %+v, %t, %v; want r2's, generation 2", l2, held, err)
	}
	if err := s.PutSourceState(ctx, src.ID, renewed, []byte(`{"pass":2}`)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("PutSourceState by the old holder after a takeover: %v; want ErrLeaseLost", err)
	}
	got, err := s.Source(ctx, a, src.ID)
	if err != nil || string(got.State) != `{"pass":1}` || got.Lease.Owner != "r2" || got.Lease.Generation != 2 {
		t.Fatalf("Source = state %s, lease %+v, %v; want the first state and r2's lease", got.State, got.Lease, err)
	}
	// An update of the configuration keeps the state and the lease.
	if _, err := s.UpdateSource(ctx, a, src.ID, 0, func(x *store.Source) error { x.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseSource(ctx, src.ID, "r1"); err != nil { // not r1's: nothing happens
		t.Fatal(err)
	}
	if err := s.ReleaseSource(ctx, src.ID, "r2"); err != nil {
		t.Fatal(err)
	}
	got, err = s.Source(ctx, a, src.ID)
	if err != nil || string(got.State) != `{"pass":1}` || got.Lease.Owner != "" || got.Lease.Held(c.Now()) {
		t.Fatalf("after release: state %s, lease %+v, %v; want the state kept and no owner", got.State, got.Lease, err)
	}
	if l, held, err := s.ClaimSource(ctx, src.ID, "r2", ttl); err != nil || !held || l.Generation != 3 {
		t.Errorf("claim after a release = %+v, %t, %v; want generation 3", l, held, err)
	}
	if _, _, err := s.ClaimSource(ctx, "no-such-source", "r1", ttl); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimSource of no source: %v; want ErrNotFound", err)
	}
}
