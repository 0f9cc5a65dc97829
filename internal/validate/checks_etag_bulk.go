package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

func etagChecks() []Check {
	return []Check{
		{
			ID: "rfc.etag.header", Title: "GET returns an ETag header equal to meta.version",
			Source: "RFC 7644 §3.14; RFC 7643 §3.1 (meta.version)", Profiles: in(ProfileRFC), Requires: "etag", Run: checkETagHeader,
		},
		{
			ID: "rfc.etag.if-none-match", Title: "GET with If-None-Match of the current ETag answers 304",
			Source: "RFC 7644 §3.14; RFC 7232 §3.2", Profiles: in(ProfileRFC), Requires: "etag", Run: checkIfNoneMatch,
		},
		{
			ID: "rfc.etag.if-match", Title: "A write with the current If-Match succeeds and changes the ETag; a stale If-Match answers 412 and changes nothing",
			Source: "RFC 7644 §3.14, §3.12 (412); RFC 7232 §3.1", Profiles: in(ProfileRFC), Requires: "etag,patch", Run: checkIfMatch,
		},
	}
}

// etagOf GETs a user and returns its ETag header.
func (s *Session) etagOf(ctx context.Context, id string) (string, *Response, error) {
	doc, r, err := s.read(ctx, "User", id, "")
	if err != nil {
		return "", r, err
	}
	tag := r.Header.Get("ETag")
	if tag == "" {
		return "", r, failf(r, "GET of a resource has no ETag header although /ServiceProviderConfig advertises etag.supported (RFC 7644 §3.14: ETags MUST be in the HTTP header)")
	}
	if v, ok := lookupString(doc, "meta", "version"); ok && v != tag {
		return "", r, failf(r, "meta.version %q differs from the ETag header %q (RFC 7643 §3.1: they must be the same)", v, tag)
	}
	return tag, r, nil
}

func checkETagHeader(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	_, _, err = s.etagOf(ctx, u.id)
	return err
}

func checkIfNoneMatch(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	tag, _, err := s.etagOf(ctx, u.id)
	if err != nil {
		return err
	}
	r, err := s.get(ctx, resourcePath("User", u.id), "If-None-Match", tag)
	if err != nil {
		return err
	}
	return wantStatus(r, http.StatusNotModified)
}

func checkIfMatch(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, map[string]any{"title": "V1"})
	if err != nil {
		return err
	}
	v1, _, err := s.etagOf(ctx, u.id)
	if err != nil {
		return err
	}
	if _, err := s.patch(ctx, "User", u.id, patchBody(op("replace", "title", "V2")), "If-Match", v1); err != nil {
		return within("PATCH with the current If-Match", err)
	}
	v2, _, err := s.etagOf(ctx, u.id)
	if err != nil {
		return err
	}
	if v2 == v1 {
		r, _ := s.get(ctx, resourcePath("User", u.id))
		return failf(r, "the ETag stayed %s after the resource changed", v1)
	}
	r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath("User", u.id), body: patchBody(op("replace", "title", "V3")), header: []string{"If-Match", v1}})
	if err != nil {
		return err
	}
	if err := wantError(r, http.StatusPreconditionFailed, errorOpts{}); err != nil {
		return within("PATCH with a stale If-Match", err)
	}
	r, err = s.do(ctx, request{method: http.MethodDelete, path: resourcePath("User", u.id), header: []string{"If-Match", v1}})
	if err != nil {
		return err
	}
	if r.Status/100 == 2 {
		s.forget("User", u.id)
	}
	if err := wantError(r, http.StatusPreconditionFailed, errorOpts{}); err != nil {
		return within("DELETE with a stale If-Match", err)
	}
	doc, gr, err := s.read(ctx, "User", u.id, "")
	if err != nil {
		return err
	}
	return within("after the refused writes", wantValue(doc, gr, "V2", "title"))
}

func bulkChecks() []Check {
	return []Check{
		{
			ID: "rfc.bulk.create-with-reference", Title: "Bulk creates a user and a group referring to it by bulkId",
			Source: "RFC 7644 §3.7, §3.7.2 (bulkId references)", Profiles: in(ProfileRFC), Requires: "bulk", Run: checkBulkReference,
		},
		{
			ID: "rfc.bulk.errors", Title: "Bulk reports a failed operation with its status and error, and runs the others",
			Source: "RFC 7644 §3.7, §3.7.3", Profiles: in(ProfileRFC), Requires: "bulk", Run: checkBulkErrors,
		},
		{
			ID: "rfc.bulk.fail-on-errors", Title: "Bulk stops after failOnErrors errors",
			Source: "RFC 7644 §3.7.3 (failOnErrors)", Profiles: in(ProfileRFC), Requires: "bulk", Run: checkBulkFailOnErrors,
		},
		{
			ID: "rfc.bulk.max-operations", Title: "Bulk refuses more operations than maxOperations with 413",
			Source: "RFC 7644 §3.7.4", Profiles: in(ProfileRFC), Requires: "bulk", Run: checkBulkMaxOperations,
		},
	}
}

// bulkResult is one operation of a BulkResponse.
type bulkResult struct {
	method, bulkID, location string
	status                   int
	response                 map[string]any
}

// bulk sends a BulkRequest and decodes the BulkResponse, tracking what it
// created. Statuses may be strings (as the RFC's examples) or numbers.
func (s *Session) bulk(ctx context.Context, failOnErrors int, ops ...map[string]any) ([]bulkResult, *Response, error) {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	body := map[string]any{"schemas": []any{scim.BulkRequestURN}, "Operations": list}
	if failOnErrors > 0 {
		body["failOnErrors"] = failOnErrors
	}
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Bulk", body: body})
	if err != nil {
		return nil, nil, err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return nil, r, err
	}
	if !listHas(doc, "schemas", scim.BulkResponseURN) {
		return nil, r, failf(r, "schemas lacks %s (RFC 7644 §3.7)", scim.BulkResponseURN)
	}
	var out []bulkResult
	for i, o := range lookupList(doc, "Operations") {
		m, _ := o.(map[string]any)
		var res bulkResult
		res.method, _ = lookupString(m, "method")
		res.bulkID, _ = lookupString(m, "bulkId")
		res.location, _ = lookupString(m, "location")
		st, _ := lookup(m, "status")
		switch v := st.(type) {
		case string:
			res.status, _ = strconv.Atoi(v)
		case json.Number:
			n, _ := v.Int64()
			res.status = int(n)
		}
		if res.status == 0 {
			return nil, r, failf(r, "Operations[%d].status is %s, not an HTTP status (RFC 7644 §3.7: REQUIRED)", i, show(st))
		}
		if resp, ok := lookup(m, "response"); ok {
			res.response, _ = resp.(map[string]any)
		}
		if strings.EqualFold(res.method, http.MethodPost) && res.status == http.StatusCreated && res.location != "" {
			id := res.location[strings.LastIndex(res.location, "/")+1:]
			if strings.Contains(res.location, "/Groups/") {
				s.track("Group", id)
			} else {
				s.track("User", id)
			}
		}
		out = append(out, res)
	}
	return out, r, nil
}

func byBulkID(results []bulkResult, id string) *bulkResult {
	for i := range results {
		if results[i].bulkID == id {
			return &results[i]
		}
	}
	return nil
}

func checkBulkReference(ctx context.Context, s *Session) error {
	results, r, err := s.bulk(ctx, 0,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": s.newUserBody(nil)},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
			"schemas": []any{scim.GroupURN}, "displayName": s.name("bulk"), "members": []any{map[string]any{"type": "User", "value": "bulkId:u1"}},
		}},
	)
	if err != nil {
		return err
	}
	u, g := byBulkID(results, "u1"), byBulkID(results, "g1")
	for _, res := range []*bulkResult{u, g} {
		if res == nil {
			return failf(r, "the BulkResponse lacks an operation result per bulkId (RFC 7644 §3.7: bulkId is echoed)")
		}
		if res.status != http.StatusCreated || res.location == "" {
			return failf(r, "operation %s answered status %d with location %q, want 201 and the new resource's location", res.bulkID, res.status, res.location)
		}
	}
	userID := u.location[strings.LastIndex(u.location, "/")+1:]
	groupID := g.location[strings.LastIndex(g.location, "/")+1:]
	doc, gr, err := s.read(ctx, "Group", groupID, "")
	if err != nil {
		return err
	}
	return within(`the group's member "bulkId:u1" must resolve to the user created in the same request`, wantMembers(doc, gr, []string{userID}, ""))
}

func checkBulkErrors(ctx context.Context, s *Session) error {
	taken, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	name, _ := lookupString(taken.doc, "userName")
	results, r, err := s.bulk(ctx, 0,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": s.newUserBody(map[string]any{"userName": name})},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "ok", "data": s.newUserBody(nil)},
	)
	if err != nil {
		return err
	}
	dup, ok := byBulkID(results, "dup"), byBulkID(results, "ok")
	if dup == nil || ok == nil {
		return failf(r, "the BulkResponse has %d results, want one per operation", len(results))
	}
	if dup.status != http.StatusConflict {
		return failf(r, "the duplicate userName's operation answered %d, want 409", dup.status)
	}
	if dup.response == nil || !listHas(dup.response, "schemas", scim.ErrorURN) {
		return failf(r, "the failed operation carries no SCIM Error in response (RFC 7644 §3.7: MUST contain the error)")
	}
	if ok.status != http.StatusCreated {
		return failf(r, "the valid operation after the failed one answered %d, want 201 (without failOnErrors every operation runs)", ok.status)
	}
	return nil
}

func checkBulkFailOnErrors(ctx context.Context, s *Session) error {
	taken, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	name, _ := lookupString(taken.doc, "userName")
	never := s.userName("never")
	results, r, err := s.bulk(ctx, 1,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": s.newUserBody(map[string]any{"userName": name})},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "after", "data": s.newUserBody(map[string]any{"userName": never})},
	)
	if err != nil {
		return err
	}
	if byBulkID(results, "after") != nil {
		return failf(r, "with failOnErrors 1 the operation after the first error still ran")
	}
	l, err := s.filterQuery(ctx, "User", "userName eq "+quote(never))
	if err != nil {
		return err
	}
	if l.total != 0 {
		return failf(l.resp, "with failOnErrors 1 the user of the operation after the first error was created")
	}
	return nil
}

func checkBulkMaxOperations(ctx context.Context, s *Session) error {
	max := s.serviceProviderConfig(ctx).bulkMaxOps
	if max <= 0 {
		return failf(nil, "/ServiceProviderConfig advertises bulk but no bulk.maxOperations (RFC 7643 §5: REQUIRED)")
	}
	if max > 10000 {
		return skipf("bulk.maxOperations is %d; sending more than that is not reasonable", max)
	}
	var b strings.Builder
	b.WriteString(`{"schemas":["` + scim.BulkRequestURN + `"],"Operations":[`)
	for i := range max + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		// Deleting ids that do not exist is harmless if the server runs them anyway.
		fmt.Fprintf(&b, `{"method":"DELETE","path":"/Users/%s-missing-%d"}`, s.tag, i)
	}
	b.WriteString("]}")
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Bulk", body: b.String()})
	if err != nil {
		return err
	}
	return within(fmt.Sprintf("%d operations with maxOperations %d", max+1, max), wantError(r, http.StatusRequestEntityTooLarge, errorOpts{}))
}
