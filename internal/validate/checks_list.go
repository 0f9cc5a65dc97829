package validate

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ferryid/ferry/internal/scim"
)

func listChecks() []Check {
	return []Check{
		{
			ID: "rfc.sort.ascending", Title: "sortBy orders results ascending by default",
			Source: "RFC 7644 §3.4.2.3", Profiles: in(ProfileRFC), Requires: "sort", Run: func(ctx context.Context, s *Session) error {
				return checkSort(ctx, s, "", []string{"alice", "bob", "carol", "dave"})
			},
		},
		{
			ID: "rfc.sort.descending", Title: "sortOrder=descending reverses the order",
			Source: "RFC 7644 §3.4.2.3", Profiles: in(ProfileRFC), Requires: "sort", Run: func(ctx context.Context, s *Session) error {
				return checkSort(ctx, s, "descending", []string{"dave", "carol", "bob", "alice"})
			},
		},
		{
			ID: "rfc.pagination.pages", Title: "startIndex and count page through results: each once, totals constant, startIndex echoed",
			Source: "RFC 7644 §3.4.2.4; " + msGallery + " (SCIM_User_Pagination_Test)", Profiles: in(ProfileRFC), Requires: "filter", Run: checkPages,
		},
		{
			ID: "rfc.pagination.count-zero", Title: "count=0, and a negative count, return only totalResults",
			Source: "RFC 7644 §3.4.2.4 (0 returns no resources but totalResults; a negative value SHALL be interpreted as 0)", Profiles: in(ProfileRFC), Requires: "filter", Run: checkCountZero,
		},
		{
			ID: "rfc.pagination.start-below-one", Title: "startIndex below 1 is taken as 1",
			Source: "RFC 7644 §3.4.2.4 (a value less than 1 SHALL be interpreted as 1)", Profiles: in(ProfileRFC), Requires: "filter", Run: checkStartBelowOne,
		},
		{
			ID: "rfc.pagination.beyond-end", Title: "A startIndex past the last result returns an empty page with the total",
			Source: "RFC 7644 §3.4.2.4", Profiles: in(ProfileRFC), Requires: "filter", Run: checkBeyondEnd,
		},
		{
			ID: "rfc.attributes.get", Title: "attributes=userName returns id and userName only",
			Source: "RFC 7644 §3.4.2.5, §3.9; RFC 7643 §7 (returned always)", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				return checkProjectionGet(ctx, s, query("attributes", "userName"), []string{"userName"}, [][]string{{"emails"}, {"name"}, {"title"}, {"displayName"}})
			},
		},
		{
			ID: "rfc.attributes.sub-attribute", Title: "attributes=name.givenName returns that sub-attribute only",
			Source: "RFC 7644 §3.9, §3.10", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				return checkProjectionGet(ctx, s, query("attributes", "name.givenName"), []string{"name", "givenName"}, [][]string{{"name", "familyName"}, {"emails"}, {"title"}})
			},
		},
		{
			ID: "rfc.attributes.list", Title: "attributes applies to every resource of a list",
			Source: "RFC 7644 §3.4.2.5", Profiles: in(ProfileRFC), Requires: "filter", Run: func(ctx context.Context, s *Session) error {
				return checkProjectionList(ctx, s, "attributes", "userName", []string{"userName"}, [][]string{{"emails"}, {"name"}})
			},
		},
		{
			ID: "rfc.excluded.get", Title: "excludedAttributes=emails leaves emails out and everything else in",
			Source: "RFC 7644 §3.4.2.5, §3.9", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				return checkProjectionGet(ctx, s, query("excludedAttributes", "emails"), []string{"userName"}, [][]string{{"emails"}})
			},
		},
		{
			ID: "rfc.excluded.sub-attribute", Title: "excludedAttributes=name.familyName leaves out only that sub-attribute",
			Source: "RFC 7644 §3.9, §3.10", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				return checkProjectionGet(ctx, s, query("excludedAttributes", "name.familyName"), []string{"name", "givenName"}, [][]string{{"name", "familyName"}})
			},
		},
		{
			ID: "rfc.excluded.list", Title: "excludedAttributes applies to every resource of a list",
			Source: "RFC 7644 §3.4.2.5", Profiles: in(ProfileRFC), Requires: "filter", Run: func(ctx context.Context, s *Session) error {
				return checkProjectionList(ctx, s, "excludedAttributes", "emails,title", []string{"userName"}, [][]string{{"emails"}, {"title"}})
			},
		},
		{
			ID: "rfc.excluded.always-returned", Title: "excludedAttributes cannot remove an attribute returned always (id)",
			Source: "RFC 7644 §3.9 (no effect on attributes whose returned is always); RFC 7643 §3.1", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				return checkProjectionGet(ctx, s, query("excludedAttributes", "id,title"), []string{"id"}, [][]string{{"title"}})
			},
		},
		{
			ID: "rfc.search.post", Title: "POST /Users/.search runs a SearchRequest like GET with parameters",
			Source: "RFC 7644 §3.4.3", Profiles: in(ProfileRFC), Requires: "filter", Run: checkSearch,
		},
	}
}

func checkSort(ctx context.Context, s *Session, order string, want []string) error {
	f, err := s.filterFixture(ctx)
	if err != nil {
		return err
	}
	params := []string{"filter", f.scope("userName pr"), "sortBy", "name.familyName"}
	if order != "" {
		params = append(params, "sortOrder", order)
	}
	r, err := s.get(ctx, "/Users"+query(params...))
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	return errorfIfOrder(f, l, want, "sortBy=name.familyName "+order)
}

// pageFixture is the shared set of users paging checks run over: more
// than two pages of five, as Microsoft's pagination test requires 11+.
type pageFixture struct {
	filter string
	ids    []string
}

const pageFixtureSize = 12

func (s *Session) pageFixture(ctx context.Context) (*pageFixture, error) {
	return fixture(ctx, s, "pagination", func(ctx context.Context, s *Session) (*pageFixture, error) {
		prefix := s.name("page") + "-"
		p := &pageFixture{filter: "userName sw " + quote(prefix)}
		for i := range pageFixtureSize {
			c, err := s.create(ctx, "User", s.newUserBody(map[string]any{"userName": fmt.Sprintf("%s%02d@validate.example", prefix, i)}))
			if err != nil {
				return nil, err
			}
			p.ids = append(p.ids, c.id)
		}
		return p, nil
	})
}

func (s *Session) page(ctx context.Context, filter string, start, count int) (*listResponse, error) {
	params := []string{"startIndex", strconv.Itoa(start), "count", strconv.Itoa(count)}
	if filter != "" {
		params = append([]string{"filter", filter}, params...)
	}
	r, err := s.get(ctx, "/Users"+query(params...))
	if err != nil {
		return nil, err
	}
	return wantList(r)
}

func checkPages(ctx context.Context, s *Session) error {
	p, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, start := range []int{1, 6, 11} {
		l, err := s.page(ctx, p.filter, start, 5)
		if err != nil {
			return err
		}
		wantItems := min(5, pageFixtureSize-start+1)
		if l.total != pageFixtureSize {
			return failf(l.resp, "totalResults is %d on the page at startIndex %d, want %d (the whole result, on every page)", l.total, start, pageFixtureSize)
		}
		if l.startIndex != start {
			return failf(l.resp, "startIndex is %s, want the requested %d echoed (RFC 7644 §3.4.2; Microsoft's pagination test)", orAbsent(l.startIndex), start)
		}
		if len(l.resources) != wantItems || l.itemsPerPage != wantItems {
			return failf(l.resp, "the page at startIndex %d has %d resources (itemsPerPage %s), want %d", start, len(l.resources), orAbsent(l.itemsPerPage), wantItems)
		}
		for _, id := range l.ids() {
			if seen[id] {
				return failf(l.resp, "resource %s appears on two pages; the order must be stable across pages (Okta imports page by page)", id)
			}
			seen[id] = true
		}
	}
	for _, id := range p.ids {
		if !seen[id] {
			return failf(nil, "paging through %s with count=5 never returned user %s", p.filter, id)
		}
	}
	return nil
}

func checkCountZero(ctx context.Context, s *Session) error {
	p, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	l, err := s.page(ctx, p.filter, 1, 0)
	if err != nil {
		return err
	}
	if l.total != pageFixtureSize || len(l.resources) != 0 {
		return failf(l.resp, "count=0 gave totalResults %d and %d resources, want %d and none", l.total, len(l.resources), pageFixtureSize)
	}
	if l, err = s.page(ctx, p.filter, 1, -1); err != nil {
		return within("count=-1", err)
	}
	if l.total != pageFixtureSize || len(l.resources) != 0 {
		return failf(l.resp, "count=-1 gave totalResults %d and %d resources, want %d and none (a negative count SHALL be interpreted as 0)", l.total, len(l.resources), pageFixtureSize)
	}
	return nil
}

func checkStartBelowOne(ctx context.Context, s *Session) error {
	p, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	first, err := s.page(ctx, p.filter, 1, 3)
	if err != nil {
		return err
	}
	l, err := s.page(ctx, p.filter, 0, 3)
	if err != nil {
		return err
	}
	if l.total != pageFixtureSize || !sameSet(l.ids(), first.ids()) {
		return failf(l.resp, "startIndex=0 returned %s (totalResults %d), want the first page %s", show(l.ids()), l.total, show(first.ids()))
	}
	if l.startIndex != 1 {
		return failf(l.resp, "startIndex=0 answered startIndex %s, want 1", orAbsent(l.startIndex))
	}
	return nil
}

func checkBeyondEnd(ctx context.Context, s *Session) error {
	p, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	l, err := s.page(ctx, p.filter, pageFixtureSize+10, 5)
	if err != nil {
		return err
	}
	if l.total != pageFixtureSize || len(l.resources) != 0 {
		return failf(l.resp, "a page past the end gave totalResults %d and %d resources, want %d and none", l.total, len(l.resources), pageFixtureSize)
	}
	return nil
}

// checkProjectionGet GETs alice of the filter fixture with a projection
// and checks what must be there and what must not.
func checkProjectionGet(ctx context.Context, s *Session, q string, must []string, mustNot [][]string) error {
	f, err := s.filterFixture(ctx)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", f.ids["alice"], q)
	if err != nil {
		return err
	}
	return projected(doc, r, q, must, mustNot)
}

func projected(doc map[string]any, r *Response, q string, must []string, mustNot [][]string) error {
	if v, ok := lookup(doc, must...); !present(v, ok) {
		return failf(r, "with %s, %s is missing", q, show(must))
	}
	if id, _ := lookupString(doc, "id"); id == "" {
		return failf(r, "with %s, id is missing; it is returned always (RFC 7643 §3.1)", q)
	}
	for _, keys := range mustNot {
		if v, ok := lookup(doc, keys...); present(v, ok) {
			return failf(r, "with %s, %s is returned (%s); it must be left out", q, show(keys), show(v))
		}
	}
	return nil
}

func checkProjectionList(ctx context.Context, s *Session, param, value string, must []string, mustNot [][]string) error {
	f, err := s.filterFixture(ctx)
	if err != nil {
		return err
	}
	r, err := s.get(ctx, "/Users"+query("filter", f.scope("userName pr"), param, value))
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total != len(filterLabels()) {
		return failf(r, "totalResults %d, want %d", l.total, len(filterLabels()))
	}
	for _, doc := range l.resources {
		if err := projected(doc, r, param+"="+value, must, mustNot); err != nil {
			return err
		}
	}
	return nil
}

func checkSearch(ctx context.Context, s *Session) error {
	f, err := s.filterFixture(ctx)
	if err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users/.search", body: map[string]any{
		"schemas":    []any{scim.SearchRequestURN},
		"filter":     f.scope(`name.familyName eq "Baker"`),
		"attributes": []any{"userName"},
		"startIndex": 1,
		"count":      10,
	}})
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total != 1 || len(l.resources) != 1 || l.ids()[0] != f.ids["bob"] {
		return failf(r, "the search selected %s, want [bob]", f.describe(l.ids()))
	}
	return projected(l.resources[0], r, `"attributes":["userName"]`, []string{"userName"}, [][]string{{"emails"}})
}
