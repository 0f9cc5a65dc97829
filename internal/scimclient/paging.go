package scimclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
)

// The scimType values of RFC 9865 §2.1 (Pagination Errors), sent with 400.
const (
	ScimTypeInvalidCursor = "invalidCursor"
	ScimTypeExpiredCursor = "expiredCursor"
	ScimTypeInvalidCount  = "invalidCount"
)

// Pagination is what a target's /ServiceProviderConfig says of paging: the
// "pagination" object of RFC 9865 §4. The zero value is what a target that
// says nothing offers: index paging (RFC 7644 §3.4.2.4) only.
type Pagination struct {
	// Advertised says the document had a pagination object.
	Advertised bool
	// Cursor and Index say which methods the target supports. Index is
	// true when the target says nothing: RFC 7644 has no other.
	Cursor, Index bool
	// DefaultMethod is "cursor", "index" or "" (not said).
	DefaultMethod string
	// DefaultPageSize and MaxPageSize are 0 when not said.
	DefaultPageSize, MaxPageSize int
	// CursorTimeout is how long a cursor stays valid between requests; 0
	// when not said.
	CursorTimeout time.Duration
}

// PageSize is the count to ask for when wanted objects a page are
// wanted: at most MaxPageSize (RFC 9865 §4: "the maximum number of results
// returned in a page regardless of what is specified for the count"), so
// that a target that answers a larger count with 400 invalidCount does not
// refuse the listing.
func (p Pagination) PageSize(wanted int) int {
	if p.MaxPageSize > 0 && (wanted <= 0 || wanted > p.MaxPageSize) {
		return p.MaxPageSize
	}
	return wanted
}

// Method is the paging a listing of the target uses: "cursor" when it
// offers cursors, "index" otherwise.
func (p Pagination) Method() string {
	if p.Cursor {
		return "cursor"
	}
	return "index"
}

// Pagination reads the target's /ServiceProviderConfig and returns its
// pagination object (RFC 9865 §4). It is lenient as the rest of the
// client is: keys in any case, booleans and numbers written as strings
// ("True", "500"). A document without the object, or whose object is
// not one, is a target that pages by index only; a failed request or a
// body that is not JSON is an error, which callers may take the same way.
func (c *Client) Pagination(ctx context.Context) (Pagination, error) {
	r := &request{method: http.MethodGet, path: "/ServiceProviderConfig", retry: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return Pagination{Index: true}, err
	}
	doc, err := resource.Decode(resp.body)
	if err != nil {
		return Pagination{Index: true}, c.incompatible(r, resp, "", "the body is not a ServiceProviderConfig: "+err.Error())
	}
	return parsePagination(doc), nil
}

// parsePagination reads the pagination object of a ServiceProviderConfig.
// A member of the wrong type counts as absent: REQUIRED cursor false,
// REQUIRED index true.
func parsePagination(doc resource.Document) Pagination {
	p := Pagination{Index: true}
	_, v, ok := resource.Lookup(doc, "pagination")
	m, isObj := v.(map[string]any)
	if !ok || !isObj {
		return p
	}
	p.Advertised = true
	if _, v, ok := resource.Lookup(m, "cursor"); ok {
		p.Cursor, _ = boolean(v)
	}
	if _, v, ok := resource.Lookup(m, "index"); ok {
		if b, ok := boolean(v); ok {
			p.Index = b
		}
	}
	if _, v, ok := resource.Lookup(m, "defaultPaginationMethod"); ok {
		if s, ok := v.(string); ok {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "cursor":
				p.DefaultMethod = "cursor"
			case "index":
				p.DefaultMethod = "index"
			}
		}
	}
	positive := func(name string) int {
		if _, v, ok := resource.Lookup(m, name); ok {
			if n, ok := number(v); ok && n > 0 {
				return n
			}
		}
		return 0
	}
	p.DefaultPageSize = positive("defaultPageSize")
	p.MaxPageSize = positive("maxPageSize")
	p.CursorTimeout = time.Duration(positive("cursorTimeout")) * time.Second
	return p
}

// boolean reads a JSON boolean, or one written as a string in any case, as
// Entra writes them.
func boolean(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(t))
		return b, err == nil
	case json.Number:
		// 1 and 0, as some targets write flags.
		switch t.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	return false, false
}

// ListCursor reads one page of resourceType by cursor (RFC 9865 §2):
// cursor "" asks for the first page (sent as cursor= with an empty value,
// which RFC 9865 §2 allows and which tells a target that pages both ways
// which one is wanted); count 0 leaves the page size to the target. The
// page's NextCursor is "" on the last page.
func (c *Client) ListCursor(ctx context.Context, resourceType, cursor string, count int, opts ReadOptions) (*Page, error) {
	path, err := resourcePath(resourceType)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	q := opts.query(resourceType)
	q.Set("cursor", cursor)
	if count > 0 {
		q.Set("count", strconv.Itoa(count))
	}
	return c.list(ctx, &request{method: http.MethodGet, path: path, query: q, retry: true})
}

// CursorProblem returns the RFC 9865 §2.1 scimType with which the target
// refused a cursor, ScimTypeInvalidCursor or ScimTypeExpiredCursor, or ""
// when err is no such refusal.
func CursorProblem(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		return ""
	}
	switch {
	case strings.EqualFold(e.ScimType, ScimTypeExpiredCursor):
		return ScimTypeExpiredCursor
	case strings.EqualFold(e.ScimType, ScimTypeInvalidCursor):
		return ScimTypeInvalidCursor
	}
	return ""
}

// Walk iterates over every object of resourceType the way the target
// pages: by cursor when p.Cursor (RFC 9865), by startIndex otherwise (All).
// count is the page size wanted, capped at p.MaxPageSize; 0 leaves it to
// the target.
//
// A cursor walk follows nextCursor until a page has none. It never yields
// an object twice: when the target refuses a cursor in the middle of the
// walk (RFC 9865 §2.1 expiredCursor, invalidCursor), the walk ends with an
// error that says so, how far it got and, for an expired cursor, the
// target's cursorTimeout; the *Error stays reachable with errors.As, and
// CursorProblem names the refusal. Starting again is the caller's
// choice, as only it knows what it kept of the objects already yielded.
// A target that sends a cursor it sent before, or whose first page has no
// nextCursor although totalResults says more objects exist (it ignored
// the cursor), ends the walk with CodeServiceIncompatible.
func (c *Client) Walk(ctx context.Context, resourceType string, p Pagination, count int, opts ReadOptions) iter.Seq2[resource.Document, error] {
	count = p.PageSize(count)
	if !p.Cursor {
		return c.All(ctx, resourceType, count, opts)
	}
	return func(yield func(resource.Document, error) bool) {
		seen := map[string]bool{}
		cursor, pages, objects := "", 0, 0
		for {
			page, err := c.ListCursor(ctx, resourceType, cursor, count, opts)
			if err != nil {
				if pages > 0 {
					err = c.cursorFailure(resourceType, p, pages, objects, err)
				}
				yield(nil, err)
				return
			}
			pages++
			for _, d := range page.Resources {
				if !yield(d, nil) {
					return
				}
			}
			objects += len(page.Resources)
			if page.NextCursor == "" {
				if pages == 1 && page.TotalResults > objects {
					yield(nil, c.walkIncompatible(resourceType, cursor, count, opts, fmt.Sprintf(
						"the target advertises cursor pagination (RFC 9865) but its first page of %s has no nextCursor while totalResults is %d and the page holds %d; it seems to ignore the cursor parameter",
						resourceType, page.TotalResults, objects)))
				}
				return
			}
			if seen[page.NextCursor] || page.NextCursor == cursor {
				yield(nil, c.walkIncompatible(resourceType, cursor, count, opts, fmt.Sprintf(
					"the target sent nextCursor %q again after %d pages of %s; following it would never end",
					clip(page.NextCursor, 64), pages, resourceType)))
				return
			}
			seen[page.NextCursor] = true
			cursor = page.NextCursor
		}
	}
}

// cursorFailure says what a refusal in the middle of a cursor walk means.
func (c *Client) cursorFailure(resourceType string, p Pagination, pages, objects int, err error) error {
	switch CursorProblem(err) {
	case ScimTypeExpiredCursor:
		timeout := "it advertises no cursorTimeout"
		if p.CursorTimeout > 0 {
			timeout = "its cursorTimeout is " + p.CursorTimeout.String()
		}
		return fmt.Errorf("list %s by cursor: the target's cursor expired after %d pages (%d objects) (RFC 9865 §2.1 expiredCursor; %s): %w",
			resourceType, pages, objects, timeout, err)
	case ScimTypeInvalidCursor:
		return fmt.Errorf("list %s by cursor: the target refused the nextCursor it sent with page %d (%d objects) as invalid (RFC 9865 §2.1 invalidCursor): %w",
			resourceType, pages, objects, err)
	}
	return fmt.Errorf("list %s by cursor: page %d (after %d objects): %w", resourceType, pages+1, objects, err)
}

func (c *Client) walkIncompatible(resourceType, cursor string, count int, opts ReadOptions, problem string) *Error {
	q := opts.query(resourceType)
	q.Set("cursor", cursor)
	if count > 0 {
		q.Set("count", strconv.Itoa(count))
	}
	path, _ := resourcePath(resourceType) // it served a page: the type is valid
	r := &request{method: http.MethodGet, path: path, query: q}
	return &Error{Method: r.method, URL: r.url(c.base), Status: http.StatusOK, Code: CodeServiceIncompatible, Detail: c.redact(problem)}
}
