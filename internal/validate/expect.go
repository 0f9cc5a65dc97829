package validate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// Attribute names are case-insensitive (RFC 7643 §2.1), so every lookup in a
// response ignores case, as a tolerant client's would.

// lookup follows keys from v through nested objects, ignoring case.
func lookup(v any, keys ...string) (any, bool) {
	cur := v
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if _, next, found := resource.Lookup(m, k); found {
			cur = next
		} else {
			return nil, false
		}
	}
	return cur, true
}

func lookupString(v any, keys ...string) (string, bool) {
	x, ok := lookup(v, keys...)
	s, isString := x.(string)
	return s, ok && isString
}

func lookupBool(v any, keys ...string) (bool, bool) {
	x, ok := lookup(v, keys...)
	b, isBool := x.(bool)
	return b, ok && isBool
}

// lookupInt returns an integer value. A JSON string holding digits is not
// an integer: Okta requires real numbers.
func lookupInt(v any, keys ...string) (int, bool) {
	x, ok := lookup(v, keys...)
	if !ok {
		return 0, false
	}
	switch n := x.(type) {
	case json.Number:
		i, err := strconv.Atoi(n.String())
		return i, err == nil
	case float64:
		if n == float64(int(n)) {
			return int(n), true
		}
	}
	return 0, false
}

// lookupList returns a multi-valued attribute's elements.
func lookupList(v any, keys ...string) []any {
	x, _ := lookup(v, keys...)
	l, _ := x.([]any)
	return l
}

// present reports whether a value counts as present: RFC 7643 §2.5 treats
// null, an empty array and (for us) an empty string or object as unassigned.
func present(v any, ok bool) bool {
	if !ok || v == nil {
		return false
	}
	switch x := v.(type) {
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		for _, e := range x {
			if present(e, true) {
				return true
			}
		}
		return false
	}
	return true
}

// show renders a value compactly for a message.
func show(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// element returns the first element of a multi-valued complex attribute
// whose sub-attribute key equals want (ignoring case).
func element(list []any, key, want string) map[string]any {
	for _, e := range list {
		m, _ := e.(map[string]any)
		if v, ok := lookupString(m, key); ok && strings.EqualFold(v, want) {
			return m
		}
	}
	return nil
}

// values returns the string sub-attribute key of every element.
func values(list []any, key string) []string {
	var out []string
	for _, e := range list {
		if v, ok := lookupString(e, key); ok {
			out = append(out, v)
		}
	}
	return out
}

// wantStatus fails unless the response has one of the statuses.
func wantStatus(r *Response, statuses ...int) error {
	if slices.Contains(statuses, r.Status) {
		return nil
	}
	want := make([]string, len(statuses))
	for i, s := range statuses {
		want[i] = strconv.Itoa(s)
	}
	return failf(r, "%s %s answered %d, want %s", r.Method, shortURL(r.URL), r.Status, strings.Join(want, " or "))
}

// shortURL drops the scheme and host, which every exchange shares, from a
// message (the exchange itself keeps the full URL).
func shortURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.Index(u[i+3:], "/"); j >= 0 {
			return u[i+3+j:]
		}
	}
	return u
}

// wantJSON checks the status and decodes the JSON object body.
func wantJSON(r *Response, statuses ...int) (map[string]any, error) {
	if err := wantStatus(r, statuses...); err != nil {
		return nil, err
	}
	return r.JSON()
}

// errorOpts says what an error response must carry beyond RFC 7644 §3.12.
type errorOpts struct {
	scimType string // required scimType, "" for any
	detail   bool   // detail must be non-empty (Okta's tests require it)
}

// wantError checks a SCIM Error response (RFC 7644 §3.12): the status, a
// JSON body whose schemas list the Error URN, "status" as a JSON string
// equal to the HTTP status, and the scimType and detail asked for.
func wantError(r *Response, status int, o errorOpts) error {
	if err := wantStatus(r, status); err != nil {
		return err
	}
	doc, err := r.JSON()
	if err != nil {
		return failf(r, "a %d must carry a SCIM Error body (RFC 7644 §3.12), got %q", status, excerpt(r.Body))
	}
	if !listHas(doc, "schemas", scim.ErrorURN) {
		return failf(r, "the error body's schemas lack %s (RFC 7644 §3.12)", scim.ErrorURN)
	}
	raw, ok := lookup(doc, "status")
	if !ok {
		return failf(r, "the error body has no status (RFC 7644 §3.12: REQUIRED)")
	}
	if _, isString := raw.(string); !isString {
		return failf(r, "the error body's status is %s, a JSON %s; RFC 7644 §3.12 requires the HTTP status as a JSON string (\"%d\"), which Okta's tests also assert", show(raw), jsonKind(raw), status)
	}
	e, err := scimError(r)
	if err != nil {
		return err
	}
	if e.Status != status {
		return failf(r, "the error body's status is %q but the HTTP status is %d", show(raw), status)
	}
	if o.scimType != "" && e.ScimType != o.scimType {
		return failf(r, "the error's scimType is %q, want %q (RFC 7644 §3.12, Table 9)", e.ScimType, o.scimType)
	}
	if o.detail && strings.TrimSpace(e.Detail) == "" {
		return failf(r, "the error body has no detail")
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case string:
		return "string"
	case nil:
		return "null"
	case []any:
		return "array"
	}
	return "object"
}

// listHas reports whether the string array at key contains want (ignoring
// case, as URNs compare).
func listHas(doc any, key, want string) bool {
	for _, v := range lookupList(doc, key) {
		if s, ok := v.(string); ok && strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

// listResponse is a decoded ListResponse.
type listResponse struct {
	resp         *Response
	total        int
	startIndex   int // -1 when absent
	itemsPerPage int // -1 when absent
	resources    []map[string]any
	hasResources bool
}

// wantList checks a 200 ListResponse (RFC 7644 §3.4.2): the ListResponse
// URN, totalResults, startIndex and itemsPerPage as integers when present,
// Resources as an array of objects when present and required when
// totalResults is not zero, and no more resources than itemsPerPage says.
func wantList(r *Response) (*listResponse, error) {
	if r.Status == http.StatusNotFound && strings.Contains(r.URL, "filter=") {
		return nil, failf(r, "a filter query answered 404; a query answers 200 with a ListResponse, with totalResults 0 when nothing matches (RFC 7644 §3.4.2; 404 is for GET by id only)")
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if !listHas(doc, "schemas", scim.ListResponseURN) {
		return nil, failf(r, "the body's schemas lack %s (RFC 7644 §3.4.2)", scim.ListResponseURN)
	}
	l := &listResponse{resp: r, startIndex: -1, itemsPerPage: -1}
	var ok bool
	if l.total, ok = lookupInt(doc, "totalResults"); !ok {
		v, _ := lookup(doc, "totalResults")
		return nil, failf(r, "totalResults is %s; RFC 7644 §3.4.2 requires an integer (Okta rejects anything else)", show(v))
	}
	for _, k := range []string{"startIndex", "itemsPerPage"} {
		v, has := lookup(doc, k)
		if !has {
			continue
		}
		n, isInt := lookupInt(doc, k)
		if !isInt {
			return nil, failf(r, "%s is %s; it must be an integer (RFC 7644 §3.4.2; Okta rejects anything else)", k, show(v))
		}
		if k == "startIndex" {
			l.startIndex = n
		} else {
			l.itemsPerPage = n
		}
	}
	res, has := lookup(doc, "Resources")
	if has && res != nil {
		items, ok := res.([]any)
		if !ok {
			return nil, failf(r, "Resources is %s, not an array", jsonKind(res))
		}
		l.hasResources = true
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, failf(r, "Resources holds a %s, not a resource object", jsonKind(it))
			}
			l.resources = append(l.resources, m)
		}
	} else if l.total > 0 {
		return nil, failf(r, "totalResults is %d but there is no Resources array (RFC 7644 §3.4.2: REQUIRED when totalResults is not 0)", l.total)
	}
	if l.itemsPerPage >= 0 && len(l.resources) != l.itemsPerPage {
		return nil, failf(r, "itemsPerPage is %d but Resources holds %d (RFC 7644 §3.4.2: itemsPerPage is the number returned)", l.itemsPerPage, len(l.resources))
	}
	if len(l.resources) > l.total {
		return nil, failf(r, "Resources holds %d but totalResults is %d", len(l.resources), l.total)
	}
	return l, nil
}

// orAbsent renders a ListResponse number, -1 meaning absent.
func orAbsent(n int) string {
	if n < 0 {
		return "absent"
	}
	return strconv.Itoa(n)
}

// ids returns the ids of the listed resources, in order.
func (l *listResponse) ids() []string {
	out := make([]string, 0, len(l.resources))
	for _, m := range l.resources {
		id, _ := lookupString(m, "id")
		out = append(out, id)
	}
	return out
}

// wantEmptyList checks the answer to a query that matches nothing: 200 with
// totalResults 0 and, when strict, a present, empty Resources array, which
// Entra (msSCIM's Get User by query - Zero results) and Microsoft's tests
// (msTests) require.
func wantEmptyList(r *Response, strict bool) error {
	if r.Status == http.StatusNotFound {
		return failf(r, "a query that matches nothing answered 404; RFC 7644 §3.4.2 requires 200 with totalResults 0, and Entra quarantines an app whose filter answers 404")
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total != 0 || len(l.resources) != 0 {
		return failf(r, "totalResults %d with %d resources, want 0 matches", l.total, len(l.resources))
	}
	if strict && !l.hasResources {
		return failf(r, `the empty ListResponse has no "Resources": [] (Entra's and Microsoft's tests expect an empty array)`)
	}
	return nil
}
