package scimclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
)

// TestPagination reads the pagination object of RFC 9865 §4 as targets
// write it: as the RFC's example, absent, in odd case, with strings for
// booleans and numbers, and with members of the wrong type.
func TestPagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spc  string // "" answers 404
		want Pagination
		err  bool
	}{
		{
			name: "the RFC's example",
			spc:  `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"pagination":{"cursor":true,"index":true,"defaultPaginationMethod":"cursor","defaultPageSize":100,"maxPageSize":250,"cursorTimeout":3600}}`,
			want: Pagination{Advertised: true, Cursor: true, Index: true, DefaultMethod: "cursor", DefaultPageSize: 100, MaxPageSize: 250, CursorTimeout: time.Hour},
		},
		{
			name: "no pagination object: index only",
			spc:  `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],"patch":{"supported":true}}`,
			want: Pagination{Index: true},
		},
		{
			name: "odd case and strings",
			spc:  `{"Pagination":{"Cursor":"True","INDEX":"false","DefaultPaginationMethod":"Cursor","maxpagesize":"500","cursorTimeout":"600"}}`,
			want: Pagination{Advertised: true, Cursor: true, Index: false, DefaultMethod: "cursor", MaxPageSize: 500, CursorTimeout: 10 * time.Minute},
		},
		{
			name: "wrong types count as absent",
			spc:  `{"pagination":{"cursor":"maybe","index":[],"defaultPaginationMethod":"offset","defaultPageSize":-5,"maxPageSize":"lots","cursorTimeout":0}}`,
			want: Pagination{Advertised: true, Index: true},
		},
		{
			name: "pagination that is not an object",
			spc:  `{"pagination":true}`,
			want: Pagination{Index: true},
		},
		{
			name: "no /ServiceProviderConfig",
			want: Pagination{Index: true},
			err:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			tg.spc = tt.spc
			c, _, _ := newTestClient(t, tg.base())
			got, err := c.Pagination(context.Background())
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPageSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ max, wanted, want int }{
		{0, 200, 200}, {0, 0, 0}, {100, 200, 100}, {500, 200, 200}, {100, 0, 100},
	} {
		if got := (Pagination{MaxPageSize: tt.max}).PageSize(tt.wanted); got != tt.want {
			t.Errorf("maxPageSize %d, wanted %d: %d, want %d", tt.max, tt.wanted, got, tt.want)
		}
	}
}

// cursorTarget is a fake target holding n users that serves cursors.
func cursorTarget(t *testing.T, n int) *fakeTarget {
	t.Helper()
	tg := newTarget(t)
	tg.cursors = true
	for i := range n {
		tg.put("Users", resource.Document{"userName": fmt.Sprintf("u%03d@example.com", i)})
	}
	return tg
}

// walk collects what Walk yields, and its error.
func walk(c *Client, p Pagination, count int) ([]string, error) {
	var ids []string
	for d, err := range c.Walk(context.Background(), "Users", p, count, ReadOptions{}) {
		if err != nil {
			return ids, err
		}
		id, _ := d.String("id")
		ids = append(ids, id)
	}
	return ids, nil
}

// listQueries returns the query strings of the GET /Users requests.
func listQueries(tg *fakeTarget) []url.Values {
	var out []url.Values
	for _, r := range tg.requests() {
		if u, _ := url.Parse(r.URI); r.Method == "GET" && u.Path == "/scim/v2/Users" {
			out = append(out, u.Query())
		}
	}
	return out
}

// TestWalkByCursor walks 25 users by cursor, count capped at maxPageSize:
// each user once, in order, the first request with an empty cursor, each
// next one with the nextCursor before it, no startIndex, and no request
// after the page without nextCursor.
func TestWalkByCursor(t *testing.T) {
	t.Parallel()
	tg := cursorTarget(t, 25)
	tg.cursorMax = 10
	c, _, _ := newTestClient(t, tg.base())
	ids, err := walk(c, Pagination{Cursor: true, Index: true, MaxPageSize: 10}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 25 || ids[0] != "u-001" || ids[24] != "u-025" {
		t.Fatalf("walked %d users: %v", len(ids), ids)
	}
	qs := listQueries(tg)
	wantCursors := []string{"", "k10", "k20"}
	if len(qs) != len(wantCursors) {
		t.Fatalf("%d list requests, want %d: %v", len(qs), len(wantCursors), qs)
	}
	for i, q := range qs {
		if !q.Has("cursor") || q.Get("cursor") != wantCursors[i] || q.Get("count") != "10" || q.Has("startIndex") {
			t.Errorf("request %d: %v, want cursor=%q count=10 and no startIndex", i, q, wantCursors[i])
		}
	}
}

// TestWalkByIndex: a target without cursors is listed by startIndex, as
// before, and the count is capped by maxPageSize all the same.
func TestWalkByIndex(t *testing.T) {
	t.Parallel()
	tg := cursorTarget(t, 12)
	c, _, _ := newTestClient(t, tg.base())
	ids, err := walk(c, Pagination{Index: true, MaxPageSize: 5}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 12 {
		t.Fatalf("walked %d users", len(ids))
	}
	for i, q := range listQueries(tg) {
		if q.Has("cursor") || q.Get("startIndex") != fmt.Sprint(1+5*i) || q.Get("count") != "5" {
			t.Errorf("request %d: %v", i, q)
		}
	}
}

// TestWalkFailures: what ends a cursor walk, and what its error says.
func TestWalkFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(*fakeTarget)
		p       Pagination
		yielded int
		problem string // CursorProblem of the error
		code    Code
		want    []string // in the error's text
	}{
		{
			name:    "expired cursor mid-walk",
			setup:   func(tg *fakeTarget) { tg.expired = map[string]bool{"k20": true} },
			p:       Pagination{Cursor: true, CursorTimeout: 10 * time.Minute},
			yielded: 20, problem: ScimTypeExpiredCursor, code: CodeBadRequest,
			want: []string{"list Users by cursor: the target's cursor expired after 2 pages (20 objects)", "expiredCursor", "its cursorTimeout is 10m0s", "Cursor has expired."},
		},
		{
			name:    "invalid cursor mid-walk",
			setup:   func(tg *fakeTarget) { tg.stuckCursor = "bogus" }, // a cursor the fake does not take back
			p:       Pagination{Cursor: true},
			yielded: 10, problem: ScimTypeInvalidCursor, code: CodeBadRequest,
			want: []string{"the target refused the nextCursor it sent with page 1 (10 objects) as invalid (RFC 9865 §2.1 invalidCursor)"},
		},
		{
			name:    "a cursor sent twice",
			setup:   func(tg *fakeTarget) { tg.stuckCursor = "k10" },
			p:       Pagination{Cursor: true},
			yielded: 20, code: CodeServiceIncompatible,
			want: []string{`the target sent nextCursor "k10" again after 2 pages of Users; following it would never end`},
		},
		{
			name:    "cursor ignored",
			setup:   func(tg *fakeTarget) { tg.cursors = false },
			p:       Pagination{Cursor: true},
			yielded: 10, code: CodeServiceIncompatible,
			want: []string{"advertises cursor pagination (RFC 9865) but its first page of Users has no nextCursor while totalResults is 30 and the page holds 10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := cursorTarget(t, 30)
			tt.setup(tg)
			c, _, _ := newTestClient(t, tg.base())
			ids, err := walk(c, tt.p, 10)
			if err == nil {
				t.Fatalf("the walk ended without an error after %d users", len(ids))
			}
			if len(ids) != tt.yielded {
				t.Errorf("yielded %d users before the error, want %d", len(ids), tt.yielded)
			}
			if got := CursorProblem(err); got != tt.problem {
				t.Errorf("CursorProblem = %q, want %q", got, tt.problem)
			}
			if got := CodeOf(err); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e.URL == "" {
				t.Errorf("the *Error with the request is not reachable: %v", err)
			}
		})
	}
}

// TestWalkWithoutTotals: a cursor target may leave totalResults out (RFC
// 9865 §2); the walk ends on the page without nextCursor all the same.
func TestWalkWithoutTotals(t *testing.T) {
	t.Parallel()
	tg := cursorTarget(t, 7)
	tg.omitTotal = true
	c, _, _ := newTestClient(t, tg.base())
	ids, err := walk(c, Pagination{Cursor: true}, 3)
	if err != nil || len(ids) != 7 {
		t.Fatalf("walked %v, %v", ids, err)
	}
	if n := len(listQueries(tg)); n != 3 {
		t.Errorf("%d requests for 7 users by 3, want 3", n)
	}
}
