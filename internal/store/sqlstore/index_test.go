package sqlstore

import (
	"database/sql"
	"slices"
	"testing"
)

func TestDiffValues(t *testing.T) {
	t.Parallel()
	text := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	// Two equal rows (two elements of one value), a row whose value
	// changes, and one whose value goes from "" to NULL.
	old := []Value{
		{ID: 10, AID: 1, Val: text("x")},
		{ID: 11, AID: 1, Val: text("x")},
		{ID: 12, AID: 2, Val: text("old")},
		{ID: 13, AID: 3, Val: text("")},
	}
	next := []Value{
		{AID: 1, Val: text("x")},
		{AID: 2, Val: text("new")},
		{AID: 3},
	}
	insert, gone := DiffValues(old, next)
	if want := []Value{{AID: 2, Val: text("new")}, {AID: 3}}; !slices.Equal(insert, want) {
		t.Errorf("insert = %+v, want %+v", insert, want)
	}
	slices.Sort(gone)
	if want := []int64{11, 12, 13}; !slices.Equal(gone, want) {
		t.Errorf("gone = %v, want %v", gone, want)
	}
	if insert, gone := DiffValues(nil, []Value{{AID: 1}}); len(insert) != 1 || gone != nil {
		t.Errorf("DiffValues of a new resource = %+v, %v; want every row inserted", insert, gone)
	}
}

func TestPathIDs(t *testing.T) {
	t.Parallel()
	var p PathIDs
	k := PathKey{Tenant: "t", Type: "User", Path: "username"}
	if _, ok := p.Get(k); ok {
		t.Fatal("the zero PathIDs knows a path")
	}
	p.Add(map[PathKey]int64{k: 7})
	if id, ok := p.Get(k); !ok || id != 7 {
		t.Errorf("Get after Add = %d, %t; want 7", id, ok)
	}
	if _, ok := p.Get(PathKey{Tenant: "other", Type: "User", Path: "username"}); ok {
		t.Error("a path of one tenant is known in another")
	}
}
