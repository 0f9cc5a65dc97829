package sqlite

import (
	"context"
	"slices"
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// TestTrigramsIndexedPerBatch checks the trigram index that a batch fills
// only before it commits (migration 00009): values inserted and replaced
// within one batch, a batch's values replaced by a later batch, and the
// index's own integrity.
func TestTrigramsIndexedPerBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t.Cleanup(func() { _ = s.Close() })
	tn, err := s.EnsureTenant(ctx, "trigrams")
	if err != nil {
		t.Fatal(err)
	}
	user := func(name string) *store.Resource {
		return &store.Resource{TenantID: tn.ID, Type: store.UserType, Doc: resource.Document{"userName": name}}
	}
	// One write, so one batch: ann is created as alpha-one and renamed
	// bravo-two before the batch commits (her first rows are deleted
	// while still pending), then cid is created.
	ann, cid := user("alpha-one"), user("charlie-three")
	err = s.write(ctx, func(w *wtx) error {
		e, err := s.encode(ctx, ann)
		if err != nil {
			return err
		}
		if err := w.create(ctx, ann, e); err != nil {
			return err
		}
		var rid int64
		if err := w.QueryRowContext(ctx, `SELECT rid FROM resources WHERE id = ?1`, ann.ID).Scan(&rid); err != nil {
			return err
		}
		old, err := w.values(ctx, rid)
		if err != nil {
			return err
		}
		rt, err := s.resourceType(store.UserType)
		if err != nil {
			return err
		}
		if err := w.insertValues(ctx, tn.ID, store.UserType, rid, old, sqlfilter.Flatten(resource.Document{"userName": "bravo-two"}, rt)); err != nil {
			return err
		}
		if e, err = s.encode(ctx, cid); err != nil {
			return err
		}
		return w.create(ctx, cid, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	contains := func(part string) []string {
		t.Helper()
		page, err := s.Query(ctx, tn.ID, store.UserType, store.Query{Count: 10, Filter: &filter.Compare{
			Path: filter.AttrPath{Name: "userName"}, Op: filter.Co, Value: filter.Value{Kind: filter.StringValue, Str: part}}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page.Resources {
			ids = append(ids, r.ID)
		}
		return ids
	}
	check := func(part string, want ...string) {
		t.Helper()
		if got := contains(part); !slices.Equal(got, want) {
			t.Errorf("userName co %q = %v, want %v", part, got, want)
		}
	}
	integrity := func() {
		t.Helper()
		var pending int
		err := s.read(ctx, func(c *conn) error {
			return c.QueryRowContext(ctx, `SELECT count(*) FROM attribute_values_fts_pending`).Scan(&pending)
		})
		if err != nil || pending != 0 {
			t.Errorf("%d rows left pending after commit (%v)", pending, err)
		}
		if err := s.write(ctx, func(w *wtx) error {
			_, err := w.ExecContext(ctx, `INSERT INTO attribute_values_fts (attribute_values_fts, rank) VALUES ('integrity-check', 0)`)
			return err
		}); err != nil {
			t.Errorf("trigram index integrity: %v", err)
		}
	}
	check("pha-on")
	check("avo-tw", ann.ID)
	check("rlie-th", cid.ID)
	integrity()

	// A later batch replaces rows an earlier one indexed.
	if _, err := s.Update(ctx, tn.ID, store.UserType, ann.ID, 0, func(r *store.Resource) error {
		r.Doc = resource.Document{"userName": "delta-four"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, tn.ID, store.UserType, cid.ID, 0); err != nil {
		t.Fatal(err)
	}
	check("avo-tw")
	check("rlie-th")
	check("lta-fo", ann.ID)
	integrity()
}
