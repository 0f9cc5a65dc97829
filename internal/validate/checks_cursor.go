package validate

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// The cursor checks exercise RFC 9865 (Cursor-Based Pagination of SCIM
// Resources) on endpoints whose /ServiceProviderConfig advertises it, and
// are skipped, saying why, on the others: cursor pagination is optional.
func cursorChecks() []Check {
	return []Check{
		{
			ID: "rfc.cursor.config", Title: "/ServiceProviderConfig's pagination object has boolean cursor and index, and well-formed defaults and limits",
			Source: "RFC 9865 §4", Profiles: in(ProfileRFC), Run: checkCursorConfig,
		},
		{
			ID: "rfc.cursor.first-page", Title: "An empty cursor with count returns the first page, at most count resources, with nextCursor",
			Source: "RFC 9865 §2", Profiles: in(ProfileRFC), Requires: "filter", Run: checkCursorFirstPage,
		},
		{
			ID: "rfc.cursor.walk", Title: "Following nextCursor returns every resource once and ends with a page without nextCursor",
			Source: "RFC 9865 §2", Profiles: in(ProfileRFC), Requires: "filter", Run: checkCursorWalk,
		},
		{
			ID: "rfc.cursor.count", Title: "A cursor page holds at most count resources, and never more than maxPageSize",
			Source: "RFC 9865 §2, §2.1 (invalidCount), §4 (maxPageSize)", Profiles: in(ProfileRFC), Requires: "filter", Run: checkCursorCount,
		},
		{
			ID: "rfc.cursor.invalid", Title: "A cursor the endpoint never issued gets 400 with scimType invalidCursor",
			Source: "RFC 9865 §2.1", Profiles: in(ProfileRFC), Run: checkCursorInvalid,
		},
	}
}

// cursorPageSize is the count the cursor checks page the shared
// pagination fixture (pageFixtureSize users) with: three pages.
const cursorPageSize = 5

// maxCursorPages bounds a walk, so that an endpoint whose cursors never
// end fails the check instead of hanging the run.
const maxCursorPages = 2*pageFixtureSize + 2

// cursorPagination returns the pagination object when the endpoint
// advertises cursor pagination, and skips the check otherwise. A cursor
// written as the string "true" counts, so that the other checks run; the
// config check fails it.
func (s *Session) cursorPagination(ctx context.Context) (map[string]any, error) {
	p := s.serviceProviderConfig(ctx).pagination
	if p == nil {
		return nil, skipf("/ServiceProviderConfig has no pagination object; cursor pagination (RFC 9865 §4) is not advertised")
	}
	v, _ := lookup(p, "cursor")
	if b, ok := v.(bool); ok && b {
		return p, nil
	}
	if str, ok := v.(string); ok && strings.EqualFold(str, "true") {
		return p, nil
	}
	return nil, skipf("/ServiceProviderConfig advertises pagination.cursor %s; the cursor checks need true (RFC 9865 §4)", show(v))
}

func checkCursorConfig(ctx context.Context, s *Session) error {
	p := s.serviceProviderConfig(ctx).pagination
	if p == nil {
		return skipf("/ServiceProviderConfig has no pagination object; it is OPTIONAL (RFC 9865 §4)")
	}
	r, err := s.get(ctx, "/ServiceProviderConfig")
	if err != nil {
		return err
	}
	for _, k := range []string{"cursor", "index"} {
		if _, ok := lookupBool(p, k); !ok {
			v, _ := lookup(p, k)
			return failf(r, "pagination.%s is %s; it is a REQUIRED boolean (RFC 9865 §4)", k, show(v))
		}
	}
	cursor, _ := lookupBool(p, "cursor")
	index, _ := lookupBool(p, "index")
	if v, ok := lookup(p, "defaultPaginationMethod"); ok {
		m, _ := v.(string)
		switch {
		case m != "cursor" && m != "index":
			return failf(r, `pagination.defaultPaginationMethod is %s; the values are "cursor" and "index" (RFC 9865 §4)`, show(v))
		case m == "cursor" && !cursor, m == "index" && !index:
			return failf(r, "pagination.defaultPaginationMethod is %q but pagination.%s is false", m, m)
		}
	}
	sizes := map[string]int{}
	for _, k := range []string{"defaultPageSize", "maxPageSize", "cursorTimeout"} {
		v, ok := lookup(p, k)
		if !ok {
			continue
		}
		n, isInt := lookupInt(p, k)
		if !isInt || n < 1 {
			return failf(r, "pagination.%s is %s; it is a positive integer when present (RFC 9865 §4)", k, show(v))
		}
		sizes[k] = n
	}
	if d, m := sizes["defaultPageSize"], sizes["maxPageSize"]; d > 0 && m > 0 && d > m {
		return failf(r, "pagination.defaultPageSize %d is larger than pagination.maxPageSize %d", d, m)
	}
	return nil
}

// cursorPage is a ListResponse of a cursor query (RFC 9865 §2).
type cursorPage struct {
	resp      *Response
	total     int // -1 when absent: RFC 9865 §2 lets cursor pages omit it
	resources []map[string]any
	next      string // "" when absent
}

func (p *cursorPage) ids() []string {
	return (&listResponse{resources: p.resources}).ids()
}

// cursorQuery GETs /Users with the filter, the cursor (empty for the first
// page) and count, in one order for every page: RFC 9865 §2 requires the
// same parameters on each.
func (s *Session) cursorQuery(ctx context.Context, filter, cursor string, count int) (*Response, error) {
	params := []string{"cursor", cursor, "count", strconv.Itoa(count)}
	if filter != "" {
		params = append([]string{"filter", filter}, params...)
	}
	return s.get(ctx, "/Users"+query(params...))
}

// wantCursorPage checks a 200 ListResponse to a cursor query: the
// ListResponse URN, totalResults an integer when present, Resources an
// array of objects, itemsPerPage matching it when present, and nextCursor
// and previousCursor non-empty strings of URL-safe characters when present.
func wantCursorPage(r *Response) (*cursorPage, error) {
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if !listHas(doc, "schemas", scim.ListResponseURN) {
		return nil, failf(r, "the body's schemas lack %s (RFC 7644 §3.4.2)", scim.ListResponseURN)
	}
	p := &cursorPage{resp: r, total: -1}
	if v, ok := lookup(doc, "totalResults"); ok {
		n, isInt := lookupInt(doc, "totalResults")
		if !isInt {
			return nil, failf(r, "totalResults is %s; when present it is an integer (RFC 7644 §3.4.2, RFC 9865 §2)", show(v))
		}
		p.total = n
	}
	if v, ok := lookup(doc, "Resources"); ok && v != nil {
		items, isList := v.([]any)
		if !isList {
			return nil, failf(r, "Resources is %s, not an array", jsonKind(v))
		}
		for _, it := range items {
			m, isObj := it.(map[string]any)
			if !isObj {
				return nil, failf(r, "Resources holds a %s, not a resource object", jsonKind(it))
			}
			p.resources = append(p.resources, m)
		}
	}
	if n, ok := lookupInt(doc, "itemsPerPage"); ok && n != len(p.resources) {
		return nil, failf(r, "itemsPerPage is %d but Resources holds %d", n, len(p.resources))
	}
	for _, k := range []string{"nextCursor", "previousCursor"} {
		v, ok := lookup(doc, k)
		if !ok || v == nil {
			continue
		}
		c, isString := v.(string)
		if !isString || c == "" {
			return nil, failf(r, "%s is %s; it is a non-empty string, absent when there is no such page (RFC 9865 §2)", k, show(v))
		}
		if i := strings.IndexFunc(c, func(r rune) bool { return !isUnreserved(r) }); i >= 0 {
			return nil, failf(r, "%s %q holds %q; cursor values use only RFC 3986's unreserved characters (RFC 9865 §2)", k, c, c[i:i+1])
		}
		if k == "nextCursor" {
			p.next = c
		}
	}
	return p, nil
}

// isUnreserved reports whether r is one of RFC 3986's unreserved
// characters: ALPHA / DIGIT / "-" / "." / "_" / "~".
func isUnreserved(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
}

func checkCursorFirstPage(ctx context.Context, s *Session) error {
	if _, err := s.cursorPagination(ctx); err != nil {
		return err
	}
	f, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	r, err := s.cursorQuery(ctx, f.filter, "", cursorPageSize)
	if err != nil {
		return err
	}
	p, err := wantCursorPage(r)
	if err != nil {
		return err
	}
	switch {
	case len(p.resources) == 0:
		return failf(r, "the first page of %d matching users is empty", pageFixtureSize)
	case len(p.resources) > cursorPageSize:
		return failf(r, "the first page holds %d resources for count=%d; the service provider MUST NOT return more (RFC 9865 §2)", len(p.resources), cursorPageSize)
	case p.next == "":
		return failf(r, "the first page of %d matching users (%d on it) has no nextCursor; it is omitted only on the last page (RFC 9865 §2)", pageFixtureSize, len(p.resources))
	case p.total >= 0 && p.total != pageFixtureSize:
		return failf(r, "totalResults is %d, want %d", p.total, pageFixtureSize)
	}
	return nil
}

func checkCursorWalk(ctx context.Context, s *Session) error {
	if _, err := s.cursorPagination(ctx); err != nil {
		return err
	}
	f, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 1; ; pages++ {
		if pages > maxCursorPages {
			return failf(nil, "%d pages of %d users with count=%d, and the last still has a nextCursor; the walk does not end", maxCursorPages, pageFixtureSize, cursorPageSize)
		}
		r, err := s.cursorQuery(ctx, f.filter, cursor, cursorPageSize)
		if err != nil {
			return err
		}
		p, err := wantCursorPage(r)
		if err != nil {
			return within(fmt.Sprintf("page %d", pages), err)
		}
		if len(p.resources) > cursorPageSize {
			return failf(r, "page %d holds %d resources for count=%d (RFC 9865 §2: MUST NOT return more)", pages, len(p.resources), cursorPageSize)
		}
		if p.total >= 0 && p.total != pageFixtureSize {
			return failf(r, "page %d says totalResults %d, want %d on every page", pages, p.total, pageFixtureSize)
		}
		for _, id := range p.ids() {
			if !slices.Contains(f.ids, id) {
				return failf(r, "page %d holds %s, which the filter %s does not select", pages, id, f.filter)
			}
			if seen[id] {
				return failf(r, "resource %s appears on two pages of one cursor walk", id)
			}
			seen[id] = true
		}
		if p.next == "" {
			break
		}
		if p.next == cursor {
			return failf(r, "page %d gives as nextCursor the cursor it was asked for, %q: the walk would never end", pages, cursor)
		}
		cursor = p.next
	}
	for _, id := range f.ids {
		if !seen[id] {
			return failf(nil, "the walk by cursor with count=%d ended without returning user %s of the %d the filter selects", cursorPageSize, id, pageFixtureSize)
		}
	}
	return nil
}

func checkCursorCount(ctx context.Context, s *Session) error {
	pg, err := s.cursorPagination(ctx)
	if err != nil {
		return err
	}
	f, err := s.pageFixture(ctx)
	if err != nil {
		return err
	}
	r, err := s.cursorQuery(ctx, f.filter, "", 3)
	if err != nil {
		return err
	}
	p, err := wantCursorPage(r)
	if err != nil {
		return err
	}
	if len(p.resources) > 3 || len(p.resources) == 0 {
		return failf(r, "count=3 over %d matching users returned %d resources, want 1 to 3 (RFC 9865 §2)", pageFixtureSize, len(p.resources))
	}
	maxSize, ok := lookupInt(pg, "maxPageSize")
	if !ok || maxSize < 1 {
		return nil
	}
	// A count above maxPageSize gets at most maxPageSize resources
	// (RFC 9865 §4: "regardless of what is specified for the count"), or
	// 400 invalidCount (§2.1).
	if r, err = s.cursorQuery(ctx, "", "", maxSize+1); err != nil {
		return err
	}
	if r.Status == http.StatusBadRequest {
		e, err := scimError(r)
		if err != nil {
			return err
		}
		if e.ScimType != "invalidCount" {
			return failf(r, "count=%d above maxPageSize %d answered 400 with scimType %q; RFC 9865 §2.1 names invalidCount", maxSize+1, maxSize, e.ScimType)
		}
		return nil
	}
	if p, err = wantCursorPage(r); err != nil {
		return within(fmt.Sprintf("count=%d above maxPageSize", maxSize+1), err)
	}
	if len(p.resources) > maxSize {
		return failf(r, "count=%d returned %d resources, more than the advertised maxPageSize %d (RFC 9865 §4)", maxSize+1, len(p.resources), maxSize)
	}
	return nil
}

func checkCursorInvalid(ctx context.Context, s *Session) error {
	if _, err := s.cursorPagination(ctx); err != nil {
		return err
	}
	r, err := s.cursorQuery(ctx, "", "fv-"+s.tag+"-never-issued", cursorPageSize)
	if err != nil {
		return err
	}
	if err := wantError(r, http.StatusBadRequest, errorOpts{}); err != nil {
		return within("a cursor the endpoint never issued (RFC 9865 §2.1: 400 invalidCursor)", err)
	}
	e, err := scimError(r)
	if err != nil {
		return err
	}
	if e.ScimType != "invalidCursor" {
		return failf(r, "a cursor the endpoint never issued answered 400 with scimType %q, want invalidCursor (RFC 9865 §2.1)", e.ScimType)
	}
	return nil
}
