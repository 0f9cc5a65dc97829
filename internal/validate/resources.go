package validate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// The helpers here create and change the resources checks work on. Setup
// steps are lenient where the step is not what the check is about (a
// create answered 200 instead of 201 still yields a resource), so that one
// defect fails the check about it rather than every check.

// userName returns a unique userName in the email form Entra and Okta use.
func (s *Session) userName(kind string) string {
	return s.name(kind) + "@validate.example"
}

// newUserBody returns a minimal valid User body with a unique userName,
// with extra attributes merged in.
func (s *Session) newUserBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"schemas":  []any{scim.UserURN},
		"userName": s.userName("u"),
		"active":   true,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// created is a resource a check created.
type created struct {
	id   string
	doc  map[string]any // as the create response returned it
	resp *Response
}

// create POSTs body to the type's endpoint and tracks the result for
// cleanup. It accepts any 2xx carrying an id; checks about creation look
// at resp themselves.
func (s *Session) create(ctx context.Context, typ string, body any, header ...string) (*created, error) {
	r, err := s.do(ctx, request{method: http.MethodPost, path: endpoint(typ), body: body, header: header})
	if err != nil {
		return nil, err
	}
	if r.Status/100 != 2 {
		return nil, failf(r, "creating a %s: POST %s answered %d, want 201", typ, endpoint(typ), r.Status)
	}
	doc, err := r.JSON()
	if err != nil {
		return nil, within("creating a "+typ, err)
	}
	id, ok := lookupString(doc, "id")
	if !ok || id == "" {
		return nil, failf(r, "creating a %s: the response has no id (RFC 7643 §3.1: every representation of a resource includes its id)", typ)
	}
	s.track(typ, id)
	return &created{id: id, doc: doc, resp: r}, nil
}

// createUser creates a user from newUserBody(extra).
func (s *Session) createUser(ctx context.Context, extra map[string]any) (*created, error) {
	return s.create(ctx, "User", s.newUserBody(extra))
}

// createGroup creates a group with a unique displayName and the given
// member ids.
func (s *Session) createGroup(ctx context.Context, members ...string) (*created, error) {
	body := map[string]any{"schemas": []any{scim.GroupURN}, "displayName": s.name("g")}
	if len(members) > 0 {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = map[string]any{"value": m}
		}
		body["members"] = ms
	}
	return s.create(ctx, "Group", body)
}

// resourcePath is the path of one resource.
func resourcePath(typ, id string) string {
	return endpoint(typ) + "/" + url.PathEscape(id)
}

// read GETs one resource and checks it is the one asked for.
func (s *Session) read(ctx context.Context, typ, id, q string) (map[string]any, *Response, error) {
	r, err := s.get(ctx, resourcePath(typ, id)+q)
	if err != nil {
		return nil, nil, err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return nil, r, err
	}
	if got, _ := lookupString(doc, "id"); got != id {
		return nil, r, failf(r, "GET %s returned a resource whose id is %q", resourcePath(typ, id), got)
	}
	return doc, r, nil
}

// patch sends a PATCH and checks the answer RFC 7644 §3.5.2 allows: 200
// with the entire resource, or 204 without a body.
func (s *Session) patch(ctx context.Context, typ, id string, body any, header ...string) (*Response, error) {
	r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath(typ, id), body: body, header: header})
	if err != nil {
		return nil, err
	}
	if err := wantStatus(r, http.StatusOK, http.StatusNoContent); err != nil {
		return r, err
	}
	if r.Status == http.StatusOK {
		doc, err := r.JSON()
		if err != nil {
			return r, failf(r, "PATCH answered 200 without the resource; RFC 7644 §3.5.2 requires the entire resource with 200, or 204 without a body")
		}
		if got, _ := lookupString(doc, "id"); got != id {
			return r, failf(r, "PATCH answered 200 with a body whose id is %q, want %q (RFC 7644 §3.5.2: 200 returns the entire resource)", got, id)
		}
	}
	return r, nil
}

// patchThenRead PATCHes and then GETs the resource, returning what GET
// shows; when PATCH answered 200, its body must agree with GET on every
// attribute the caller asks about, which check does.
func (s *Session) patchThenRead(ctx context.Context, typ, id string, body any, check func(doc map[string]any, r *Response) error) error {
	pr, err := s.patch(ctx, typ, id, body)
	if err != nil {
		return err
	}
	if pr.Status == http.StatusOK && check != nil {
		doc, _ := pr.JSON()
		if err := within("the PATCH response body", check(doc, pr)); err != nil {
			return err
		}
	}
	doc, gr, err := s.read(ctx, typ, id, "")
	if err != nil {
		return after(pr, within("reading the resource after PATCH", err))
	}
	if check != nil {
		return after(pr, within("GET after PATCH", check(doc, gr)))
	}
	return nil
}

// patchBody builds a PatchOp request from operations.
func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{scim.PatchOpURN}, "Operations": list}
}

// op builds one PATCH operation; an empty path and a nil value are left
// out, as clients leave them out.
func op(kind, path string, value any) map[string]any {
	o := map[string]any{"op": kind}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// memberRefs builds a members value array.
func memberRefs(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// memberIDs returns the member values of a group document.
func memberIDs(doc map[string]any) []string {
	return values(lookupList(doc, "members"), "value")
}

// sameSet reports whether a and b hold the same strings, ignoring order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
		if count[x] < 0 {
			return false
		}
	}
	return true
}

// wantMembers checks a group document's members are exactly want.
func wantMembers(doc map[string]any, r *Response, want []string, why string) error {
	got := memberIDs(doc)
	if !sameSet(got, want) {
		return failf(r, "members are %s, want %s%s", show(got), show(want), why)
	}
	return nil
}

// filterQuery GETs the type's endpoint with a filter and decodes the list.
func (s *Session) filterQuery(ctx context.Context, typ, filter string, more ...string) (*listResponse, error) {
	r, err := s.get(ctx, endpoint(typ)+query(append([]string{"filter", filter}, more...)...))
	if err != nil {
		return nil, err
	}
	return wantList(r)
}

// findOne runs a filter that must match exactly the resource id.
func (s *Session) findOne(ctx context.Context, typ, filter, id string, more ...string) (*listResponse, error) {
	l, err := s.filterQuery(ctx, typ, filter, more...)
	if err != nil {
		return nil, err
	}
	if l.total != 1 || len(l.resources) != 1 || l.ids()[0] != id {
		return l, failf(l.resp, "filter %s matched %d (ids %s), want exactly the resource %s", filter, l.total, show(l.ids()), id)
	}
	return l, nil
}

// quote writes a string as a filter value (a JSON string, RFC 7644
// §3.4.2.2).
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wantValue checks that a string attribute has the given value.
func wantValue(doc map[string]any, r *Response, want string, keys ...string) error {
	got, ok := lookup(doc, keys...)
	if s, isString := got.(string); !ok || !isString || s != want {
		if !ok {
			return failf(r, "%s is absent, want %q", strings.Join(keys, "."), want)
		}
		return failf(r, "%s is %s, want %q", strings.Join(keys, "."), show(got), want)
	}
	return nil
}

// wantBool checks that a boolean attribute is a JSON boolean with the
// given value.
func wantBool(doc map[string]any, r *Response, want bool, keys ...string) error {
	got, ok := lookup(doc, keys...)
	if b, isBool := got.(bool); !ok || !isBool || b != want {
		if !ok {
			return failf(r, "%s is absent, want %v", strings.Join(keys, "."), want)
		}
		return failf(r, "%s is %s, want the JSON boolean %v", strings.Join(keys, "."), show(got), want)
	}
	return nil
}

// wantAbsent checks that an attribute is unassigned (absent, null, "" or
// an empty array or object: RFC 7643 §2.5).
func wantAbsent(doc map[string]any, r *Response, why string, keys ...string) error {
	if v, ok := lookup(doc, keys...); present(v, ok) {
		return failf(r, "%s is %s, want it absent%s", strings.Join(keys, "."), show(v), why)
	}
	return nil
}
