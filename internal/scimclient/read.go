package scimclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// ReadOptions says which attributes a read asks for (RFC 7644 §3.4.2.5).
// The zero value asks for the target's defaults, except for members.
type ReadOptions struct {
	Attributes         []string
	ExcludedAttributes []string
	// Members asks for a group's members. Without it Groups are read with
	// excludedAttributes=members, as Entra reads them: a large group's
	// member list can run to megabytes, and the engine tracks memberships
	// itself. It has no effect when Attributes is set.
	Members bool
}

func (o ReadOptions) query(resourceType string) url.Values {
	q := url.Values{}
	if len(o.Attributes) > 0 {
		q.Set("attributes", strings.Join(o.Attributes, ","))
	}
	excluded := o.ExcludedAttributes
	if len(o.Attributes) == 0 && !o.Members && isGroups(resourceType) {
		excluded = append([]string{"members"}, excluded...)
	}
	if len(excluded) > 0 {
		q.Set("excludedAttributes", strings.Join(excluded, ","))
	}
	return q
}

func isGroups(resourceType string) bool { return strings.EqualFold(resourceType, "Groups") }

// Get reads the object id of resourceType ("Users", "Groups"). A 404 is an
// *Error for which IsNotFound reports true.
func (c *Client) Get(ctx context.Context, resourceType, id string, opts ReadOptions) (resource.Document, error) {
	path, err := resourcePath(resourceType, id)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	r := &request{method: http.MethodGet, path: path, query: opts.query(resourceType), retry: true, byID: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	doc, err := resource.Decode(resp.body)
	if err != nil {
		return nil, c.incompatible(r, resp, "", "the body is not a SCIM resource: "+err.Error())
	}
	return doc, nil
}

// FindBy queries resourceType for objects whose attribute equals value, the
// query matching sends: GET /Users?filter=userName eq "value". attribute is
// an attribute path such as userName, externalId, displayName or
// `emails[type eq "work"].value` (sent as the RFC's
// emails[type eq "work" and value eq "…"]); value is quoted with the filter
// grammar's escaping, so quotes and backslashes in it are safe.
//
// Every object the target returns is checked against the filter: one whose
// attribute is present with another value is dropped (and logged), so that
// a target that ignores filters cannot make the engine link the wrong
// object. FindBy returns all that remain; Match turns several into
// DuplicateTargetEntries.
func (c *Client) FindBy(ctx context.Context, resourceType, attribute, value string) ([]resource.Document, error) {
	docs, _, err := c.find(ctx, resourceType, attribute, value)
	return docs, err
}

// Match is FindBy for matching, as Entra ID matches objects
// (https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes):
// it returns the one object found, found=false when there is none, and an
// *Error with code DuplicateTargetEntries when there are several.
func (c *Client) Match(ctx context.Context, resourceType, attribute, value string) (doc resource.Document, found bool, err error) {
	docs, r, err := c.find(ctx, resourceType, attribute, value)
	switch {
	case err != nil:
		return nil, false, err
	case len(docs) == 0:
		return nil, false, nil
	case len(docs) == 1:
		return docs[0], true, nil
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i], _ = d.String("id")
	}
	return nil, false, &Error{
		Method: r.method, URL: r.url(c.base), Status: http.StatusOK, Code: CodeDuplicateTargetEntries,
		Expected: "at most one match",
		Detail:   fmt.Sprintf("%d %s match %s: ids %s", len(docs), resourceType, r.query.Get("filter"), strings.Join(ids, ", ")),
	}
}

func (c *Client) find(ctx context.Context, resourceType, attribute, value string) ([]resource.Document, *request, error) {
	query, eq, present, err := equality(attribute, value)
	if err != nil {
		return nil, nil, fmt.Errorf("find %s by %s: %w", resourceType, attribute, err)
	}
	path, err := resourcePath(resourceType)
	if err != nil {
		return nil, nil, fmt.Errorf("find: %w", err)
	}
	q := ReadOptions{}.query(resourceType)
	q.Set("filter", query)
	r := &request{method: http.MethodGet, path: path, query: q, retry: true}
	page, err := c.list(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	kept := page.Resources[:0:0]
	for _, d := range page.Resources {
		if filter.Match(present, d, nil) && !filter.Match(eq, d, nil) {
			id, _ := d.String("id")
			c.log.LogAttrs(ctx, slog.LevelWarn, "scim target returned an object its filter does not match; ignoring it",
				slog.String("url", r.url(c.base)), slog.String("id", id))
			continue
		}
		kept = append(kept, d)
	}
	return kept, r, nil
}

// equality builds `attribute eq "value"` as sent, and as expressions to
// check results with: the comparison and the attribute's presence. A
// value-path attribute, emails[type eq "work"].value, is sent as
// emails[type eq "work" and value eq "…"]: RFC 7644's grammar has no
// comparison after a bracket.
func equality(attribute, value string) (query string, eq, present filter.Expr, err error) {
	p, err := filter.ParsePath(attribute)
	if err != nil {
		return "", nil, nil, err
	}
	val := filter.Value{Kind: filter.StringValue, Str: value}
	if p.Filter == nil {
		eq = &filter.Compare{Path: p.Attr, Op: filter.Eq, Value: val}
		return eq.String(), eq, &filter.Compare{Path: p.Attr, Op: filter.Pr}, nil
	}
	sub := filter.AttrPath{Name: p.Sub}
	if sub.Name == "" {
		sub.Name = "value"
	}
	cmp := &filter.Compare{Path: sub, Op: filter.Eq, Value: val}
	// Logical.String would add parentheses inside the brackets; this is
	// the form the RFC's examples use.
	query = p.Attr.String() + "[" + p.Filter.String() + " and " + cmp.String() + "]"
	eq = &filter.ValuePath{Attr: p.Attr, Filter: &filter.Logical{Op: filter.And, Left: p.Filter, Right: cmp}}
	present = &filter.ValuePath{Attr: p.Attr, Filter: &filter.Logical{Op: filter.And, Left: p.Filter,
		Right: &filter.Compare{Path: sub, Op: filter.Pr}}}
	return query, eq, present, nil
}

// Page is one page of a query's results (an RFC 7644 §3.4.2 ListResponse).
type Page struct {
	Resources []resource.Document
	// TotalResults is the number of results of the whole query, or -1 when
	// the target omitted it (RFC 7644 requires it; some targets forget).
	TotalResults int
	StartIndex   int // 1-based index of the first resource; 0 when omitted
	ItemsPerPage int // 0 when omitted
	// NextCursor and PreviousCursor are a cursor listing's (RFC 9865 §2);
	// NextCursor is "" on the last page.
	NextCursor, PreviousCursor string
}

// List reads one page of resourceType: count objects from the 1-based
// startIndex (RFC 7644 §3.4.2.4). count 0 leaves the page size to the
// target. It is how the engine pre-matches against a small or empty target
// with one listing instead of a query per object.
func (c *Client) List(ctx context.Context, resourceType string, startIndex, count int, opts ReadOptions) (*Page, error) {
	path, err := resourcePath(resourceType)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	q := opts.query(resourceType)
	q.Set("startIndex", strconv.Itoa(max(startIndex, 1)))
	if count > 0 {
		q.Set("count", strconv.Itoa(count))
	}
	return c.list(ctx, &request{method: http.MethodGet, path: path, query: q, retry: true})
}

// All iterates over every object of resourceType, count per page (0 leaves
// the page size to the target). It stops after an empty page or once
// totalResults objects have been seen. A page shorter than count ends the
// listing only when the target gives no totalResults, because targets cap
// the page size silently (AWS Identity Center at 50). The first error is
// yielded and ends the iteration.
func (c *Client) All(ctx context.Context, resourceType string, count int, opts ReadOptions) iter.Seq2[resource.Document, error] {
	return func(yield func(resource.Document, error) bool) {
		start, seen := 1, 0
		var firstID string
		for {
			page, err := c.List(ctx, resourceType, start, count, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page.Resources) == 0 {
				return
			}
			// A target that ignores startIndex returns its first page again.
			id, _ := page.Resources[0].String("id")
			if start > 1 && id != "" && id == firstID {
				yield(nil, fmt.Errorf("list %s: the target returned its first page again for startIndex %d; it ignores paging", resourceType, start))
				return
			}
			if start == 1 {
				firstID = id
			}
			for _, d := range page.Resources {
				if !yield(d, nil) {
					return
				}
			}
			seen += len(page.Resources)
			start += len(page.Resources)
			switch {
			case page.TotalResults >= 0 && seen >= page.TotalResults:
				return
			case page.TotalResults < 0 && count > 0 && len(page.Resources) < count:
				return
			}
		}
	}
}

// list sends a query and decodes its ListResponse.
func (c *Client) list(ctx context.Context, r *request) (*Page, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	page, problem := parseList(resp.body)
	if problem != "" {
		return nil, c.incompatible(r, resp, "", problem)
	}
	return page, nil
}

// parseList decodes a ListResponse, leniently about key case and numbers
// written as strings. It returns what is wrong with a body that is not one.
func parseList(body []byte) (*Page, string) {
	doc, err := resource.Decode(body)
	if err != nil {
		return nil, "the body is not a SCIM ListResponse: " + err.Error()
	}
	page := &Page{TotalResults: -1}
	_, total, hasTotal := resource.Lookup(doc, "totalResults")
	_, items, hasItems := resource.Lookup(doc, "Resources")
	if !hasTotal && !hasItems {
		return nil, "the body is not a SCIM ListResponse: it has neither totalResults nor Resources"
	}
	if hasTotal {
		n, ok := number(total)
		if !ok || n < 0 {
			return nil, fmt.Sprintf("the ListResponse's totalResults %v is not a count", total)
		}
		page.TotalResults = n
	}
	if _, v, ok := resource.Lookup(doc, "startIndex"); ok {
		page.StartIndex, _ = number(v)
	}
	if _, v, ok := resource.Lookup(doc, "itemsPerPage"); ok {
		page.ItemsPerPage, _ = number(v)
	}
	page.NextCursor = cursorValue(doc, "nextCursor")
	page.PreviousCursor = cursorValue(doc, "previousCursor")
	switch list := items.(type) {
	case nil:
	case []any:
		for i, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Sprintf("the ListResponse's Resources[%d] is not an object", i)
			}
			page.Resources = append(page.Resources, resource.Document(m))
		}
	default:
		return nil, "the ListResponse's Resources is not an array"
	}
	return page, ""
}

// cursorValue reads a cursor of a ListResponse: a string, or a number some
// targets send their offsets as; null and absent are "".
func cursorValue(doc resource.Document, name string) string {
	_, v, _ := resource.Lookup(doc, name)
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return ""
}

func number(v any) (int, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = t
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// incompatible is the *Error for a 2xx response whose content breaks the
// protocol.
func (c *Client) incompatible(r *request, resp *response, expected, problem string) *Error {
	return &Error{
		Method: r.method, URL: r.url(c.base), Status: resp.status, Code: CodeServiceIncompatible,
		Expected: expected, Detail: c.redact(problem), Attempts: resp.attempts,
	}
}

// testExpected is what Test Connection needs, in its error messages.
const testExpected = "200 with an empty ListResponse"

// TestConnection checks the endpoint and token as Entra's Test Connection
// does (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#getting-started):
// it queries for a user that cannot exist, GET /Users?filter=userName eq
// "<random GUID>", and passes only on 200 with a ListResponse holding no
// resources. Any other answer is an *Error that says what was sent, what
// came back and what was expected.
func (c *Client) TestConnection(ctx context.Context) error {
	guid := c.guid()
	q := url.Values{}
	q.Set("filter", (&filter.Compare{Path: filter.AttrPath{Name: "userName"}, Op: filter.Eq,
		Value: filter.Value{Kind: filter.StringValue, Str: guid}}).String())
	r := &request{method: http.MethodGet, path: "/Users", query: q, retry: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Expected = testExpected
		}
		return err
	}
	if resp.status != http.StatusOK {
		return c.incompatible(r, resp, testExpected, "a query must answer 200")
	}
	page, problem := parseList(resp.body)
	if problem != "" {
		return c.incompatible(r, resp, testExpected, problem)
	}
	if page.TotalResults > 0 || len(page.Resources) > 0 {
		return c.incompatible(r, resp, testExpected, fmt.Sprintf(
			"the ListResponse has totalResults %d and %d Resources for a random userName no user can have; the target seems to ignore the filter",
			page.TotalResults, len(page.Resources)))
	}
	return nil
}
