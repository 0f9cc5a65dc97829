package validate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

func discoveryChecks() []Check {
	return []Check{
		{
			ID: "rfc.discovery.service-provider-config", Title: "/ServiceProviderConfig describes every feature with its required members",
			Source: "RFC 7643 §5; RFC 7644 §4", Profiles: in(ProfileRFC), Run: checkSPC,
		},
		{
			ID: "rfc.discovery.resource-types", Title: "/ResourceTypes lists User (and Group) with name, endpoint and schema, and serves each by id",
			Source: "RFC 7643 §6; RFC 7644 §4", Profiles: in(ProfileRFC), Run: checkResourceTypes,
		},
		{
			ID: "rfc.discovery.schemas", Title: "/Schemas lists the User schema with valid attribute characteristics, and serves each by id",
			Source: "RFC 7643 §7, §4.1; RFC 7644 §4", Profiles: in(ProfileRFC), Run: checkSchemas,
		},
		{
			ID: "rfc.content-type", Title: "Responses with a body are application/scim+json",
			Source: "RFC 7644 §3.1, §8.1; " + msEntraImpl, Profiles: in(ProfileRFC, ProfileEntra), Run: checkContentType,
		},
		{
			ID: "rfc.auth.missing-token", Title: "A request without credentials gets 401 with a SCIM Error",
			Source: "RFC 7644 §2, §3.12", Profiles: in(ProfileRFC), Run: checkMissingToken,
		},
		{
			ID: "rfc.auth.invalid-token", Title: "A request with an invalid bearer token gets 401 with a SCIM Error",
			Source: "RFC 7644 §2, §3.12; " + oktaSpec + " (bad credentials)", Profiles: in(ProfileRFC, ProfileEntra), Run: checkInvalidToken,
		},
	}
}

func checkSPC(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/ServiceProviderConfig")
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	if !listHas(doc, "schemas", scim.ServiceProviderConfigURN) {
		return failf(r, "schemas lacks %s", scim.ServiceProviderConfigURN)
	}
	for _, f := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		if _, ok := lookupBool(doc, f, "supported"); !ok {
			v, _ := lookup(doc, f)
			return failf(r, "%s.supported must be a boolean (RFC 7643 §5: %s is REQUIRED), got %s = %s", f, f, f, show(v))
		}
	}
	if b, _ := lookupBool(doc, "bulk", "supported"); b {
		for _, k := range []string{"maxOperations", "maxPayloadSize"} {
			if _, ok := lookupInt(doc, "bulk", k); !ok {
				return failf(r, "bulk is supported but bulk.%s is not an integer (RFC 7643 §5: REQUIRED)", k)
			}
		}
	}
	if b, _ := lookupBool(doc, "filter", "supported"); b {
		if _, ok := lookupInt(doc, "filter", "maxResults"); !ok {
			return failf(r, "filter is supported but filter.maxResults is not an integer (RFC 7643 §5: REQUIRED)")
		}
	}
	schemes, ok := lookup(doc, "authenticationSchemes")
	list, isList := schemes.([]any)
	if !ok || !isList {
		return failf(r, "authenticationSchemes must be an array (RFC 7643 §5: REQUIRED), got %s", show(schemes))
	}
	for i, e := range list {
		for _, k := range []string{"type", "name", "description"} {
			if v, ok := lookupString(e, k); !ok || v == "" {
				return failf(r, "authenticationSchemes[%d].%s is missing (RFC 7643 §5: REQUIRED)", i, k)
			}
		}
	}
	return nil
}

func checkResourceTypes(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/ResourceTypes")
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	want := map[string][2]string{"user": {"/Users", scim.UserURN}, "group": {"/Groups", scim.GroupURN}}
	var userID string
	for _, rt := range l.resources {
		name, _ := lookupString(rt, "name")
		for _, k := range []string{"name", "endpoint", "schema"} {
			if v, ok := lookupString(rt, k); !ok || v == "" {
				return failf(r, "resource type %q has no %s (RFC 7643 §6: REQUIRED)", name, k)
			}
		}
		if !listHas(rt, "schemas", scim.ResourceTypeURN) {
			return failf(r, "resource type %q: schemas lacks %s", name, scim.ResourceTypeURN)
		}
		w, known := want[strings.ToLower(name)]
		if !known {
			continue
		}
		ep, _ := lookupString(rt, "endpoint")
		sc, _ := lookupString(rt, "schema")
		if strings.TrimSuffix(ep, "/") != w[0] || !strings.EqualFold(sc, w[1]) {
			return failf(r, "resource type %s has endpoint %q and schema %q, want %q and %q (RFC 7643 §8.6)", name, ep, sc, w[0], w[1])
		}
		if strings.EqualFold(name, "User") {
			userID, _ = lookupString(rt, "id")
			if userID == "" {
				userID = name
			}
		}
	}
	if userID == "" {
		return failf(r, "no resource type is named User")
	}
	r, err = s.get(ctx, "/ResourceTypes/"+url.PathEscape(userID))
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return within("RFC 7644 §4: a single resource type is served like a single resource", err)
	}
	if name, _ := lookupString(doc, "name"); !strings.EqualFold(name, "User") {
		return failf(r, "GET /ResourceTypes/%s returned %q, want the User resource type itself (not a ListResponse)", userID, name)
	}
	return nil
}

// checkAttributeDefs validates attribute definitions recursively
// (RFC 7643 §7); where is the path so far.
func checkAttributeDefs(r *Response, attrs []any, where string) error {
	attrTypes := []string{"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"}
	characteristics := []struct {
		key     string
		allowed []string
	}{
		{"mutability", []string{"readOnly", "readWrite", "immutable", "writeOnly"}},
		{"returned", []string{"always", "never", "default", "request"}},
		{"uniqueness", []string{"none", "server", "global"}},
	}
	for _, a := range attrs {
		name, ok := lookupString(a, "name")
		if !ok || name == "" {
			return failf(r, "%s: an attribute has no name", where)
		}
		path := where + "." + name
		typ, _ := lookupString(a, "type")
		if !slices.Contains(attrTypes, typ) {
			return failf(r, "%s: type %q is not one of %s (RFC 7643 §2.3; Entra requires camelCase too)", path, typ, strings.Join(attrTypes, ", "))
		}
		for _, c := range characteristics {
			if v, ok := lookup(a, c.key); ok {
				if s, _ := v.(string); !slices.Contains(c.allowed, s) {
					return failf(r, "%s: %s %s is not one of %s (RFC 7643 §7)", path, c.key, show(v), strings.Join(c.allowed, ", "))
				}
			}
		}
		for _, key := range []string{"multiValued", "required", "caseExact"} {
			if v, ok := lookup(a, key); ok {
				if _, isBool := v.(bool); !isBool {
					return failf(r, "%s: %s is %s, not a boolean (RFC 7643 §7)", path, key, show(v))
				}
			}
		}
		if typ == "complex" {
			if err := checkAttributeDefs(r, lookupList(a, "subAttributes"), path); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSchemas(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/Schemas")
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	var user map[string]any
	for _, sc := range l.resources {
		id, ok := lookupString(sc, "id")
		if !ok || id == "" {
			return failf(r, "a schema has no id (RFC 7643 §7: REQUIRED)")
		}
		if err := checkAttributeDefs(r, lookupList(sc, "attributes"), id); err != nil {
			return err
		}
		if strings.EqualFold(id, scim.UserURN) {
			user = sc
		}
	}
	if user == nil {
		return failf(r, "/Schemas does not list %s", scim.UserURN)
	}
	un := attributeDef(user, "userName")
	if un == nil {
		return failf(r, "the User schema has no userName attribute (RFC 7643 §4.1)")
	}
	if req, _ := lookupBool(un, "required"); !req {
		return failf(r, "the User schema's userName is not required (RFC 7643 §4.1: userName is REQUIRED)")
	}
	r, err = s.get(ctx, "/Schemas/"+scim.UserURN)
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return within("RFC 7644 §4: a single schema is served like a single resource", err)
	}
	if id, _ := lookupString(doc, "id"); !strings.EqualFold(id, scim.UserURN) {
		return failf(r, "GET /Schemas/%s returned id %q, want the User schema itself", scim.UserURN, id)
	}
	return nil
}

// attributeDef finds the definition of a dotted attribute path in a
// schema document, ignoring case.
func attributeDef(schemaDoc map[string]any, path string) map[string]any {
	attrs := lookupList(schemaDoc, "attributes")
	var cur map[string]any
	for _, part := range strings.Split(path, ".") {
		cur = nil
		for _, a := range attrs {
			if n, _ := lookupString(a, "name"); strings.EqualFold(n, part) {
				cur, _ = a.(map[string]any)
				break
			}
		}
		if cur == nil {
			return nil
		}
		attrs = lookupList(cur, "subAttributes")
	}
	return cur
}

func checkContentType(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	if !isSCIMContentType(u.resp.ContentType) {
		return failf(u.resp, "POST /Users answered Content-Type %q, want application/scim+json", u.resp.ContentType)
	}
	for _, path := range []string{"/ServiceProviderConfig", resourcePath("User", u.id), "/Users" + query("filter", "userName eq "+quote(s.guid())), resourcePath("User", s.guid())} {
		r, err := s.get(ctx, path)
		if err != nil {
			return err
		}
		if len(r.Body) > 0 && !isSCIMContentType(r.ContentType) {
			return failf(r, "GET %s answered Content-Type %q, want application/scim+json", path, r.ContentType)
		}
	}
	return nil
}

func checkMissingToken(ctx context.Context, s *Session) error {
	r, err := s.do(ctx, request{method: http.MethodGet, path: "/Users", noAuth: true})
	if err != nil {
		return err
	}
	return wantError(r, http.StatusUnauthorized, errorOpts{})
}

func checkInvalidToken(ctx context.Context, s *Session) error {
	r, err := s.do(ctx, request{method: http.MethodGet, path: "/Users" + query("filter", "userName eq "+quote(s.guid())), token: "Bearer " + s.guid()})
	if err != nil {
		return err
	}
	if r.Status == http.StatusOK {
		return failf(r, "a made-up bearer token was accepted")
	}
	return wantError(r, http.StatusUnauthorized, errorOpts{})
}

func errorChecks() []Check {
	return []Check{
		{
			ID: "rfc.error.not-found", Title: "GET, PUT, PATCH and DELETE of an unknown id answer 404 with a SCIM Error",
			Source: "RFC 7644 §3.12, §3.4.1; " + msSCIM + "#get-user", Profiles: in(ProfileRFC), Run: checkNotFound,
		},
		{
			ID: "rfc.error.unknown-endpoint", Title: "An unknown endpoint answers 404 with a SCIM Error",
			Source: "RFC 7644 §3.12 (404: resource or endpoint does not exist)", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				r, err := s.get(ctx, "/"+strings.ReplaceAll(s.name("Widgets"), "-", ""))
				if err != nil {
					return err
				}
				return wantError(r, http.StatusNotFound, errorOpts{})
			},
		},
		{
			ID: "rfc.error.invalid-filter", Title: "A malformed filter answers 400 invalidFilter",
			Source: "RFC 7644 §3.4.2.2, §3.12 Table 9", Profiles: in(ProfileRFC), Requires: "filter", Run: func(ctx context.Context, s *Session) error {
				r, err := s.get(ctx, "/Users"+query("filter", "userName eq"))
				if err != nil {
					return err
				}
				return wantError(r, http.StatusBadRequest, errorOpts{scimType: scim.InvalidFilter})
			},
		},
		{
			ID: "rfc.error.malformed-json", Title: "A POST whose body is not JSON answers 400",
			Source: "RFC 7644 §3.12 (invalidSyntax); " + msTests + " (malformed JSON)", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: `{"schemas":["` + scim.UserURN + `"],"userName":"` + s.userName("bad") + `","acve": tre}`})
				if err != nil {
					return err
				}
				if r.Status/100 == 2 {
					if doc, err := r.JSON(); err == nil {
						if id, ok := lookupString(doc, "id"); ok {
							s.track("User", id)
						}
					}
				}
				return wantError(r, http.StatusBadRequest, errorOpts{})
			},
		},
		{
			ID: "rfc.error.missing-username", Title: "Creating a user without userName answers 400",
			Source: "RFC 7643 §4.1 (userName REQUIRED); RFC 7644 §3.3; " + msTests + " (POST without userName)", Profiles: in(ProfileRFC, ProfileEntra), Run: func(ctx context.Context, s *Session) error {
				r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: map[string]any{
					"schemas": []any{scim.UserURN}, "name": map[string]any{"givenName": "No", "familyName": "Username"}, "externalId": s.name("x"),
				}})
				if err != nil {
					return err
				}
				if r.Status/100 == 2 {
					if doc, err := r.JSON(); err == nil {
						if id, ok := lookupString(doc, "id"); ok {
							s.track("User", id)
						}
					}
				}
				return wantError(r, http.StatusBadRequest, errorOpts{})
			},
		},
		{
			ID: "rfc.error.uniqueness", Title: "Creating a user with a taken userName answers 409 uniqueness",
			Source: "RFC 7644 §3.3, §3.12 Table 9", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				u, err := s.createUser(ctx, nil)
				if err != nil {
					return err
				}
				name, _ := lookupString(u.doc, "userName")
				r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: s.newUserBody(map[string]any{"userName": name})})
				if err != nil {
					return err
				}
				trackIfCreated(s, "User", r)
				return wantError(r, http.StatusConflict, errorOpts{scimType: scim.Uniqueness})
			},
		},
		{
			ID: "rfc.error.uniqueness-case", Title: "userName uniqueness ignores case: the same name in upper case answers 409",
			Source: "RFC 7643 §4.1 (userName is case insensitive, uniqueness server), §2.1", Profiles: in(ProfileRFC), Run: func(ctx context.Context, s *Session) error {
				u, err := s.createUser(ctx, nil)
				if err != nil {
					return err
				}
				name, _ := lookupString(u.doc, "userName")
				r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: s.newUserBody(map[string]any{"userName": strings.ToUpper(name)})})
				if err != nil {
					return err
				}
				trackIfCreated(s, "User", r)
				if r.Status/100 == 2 {
					return failf(r, "%q was created although %q exists; userName is caseExact false, so they are the same name", strings.ToUpper(name), name)
				}
				return wantError(r, http.StatusConflict, errorOpts{scimType: scim.Uniqueness})
			},
		},
	}
}

// trackIfCreated tracks a resource a negative test created by mistake, so
// that cleanup still removes it.
func trackIfCreated(s *Session, typ string, r *Response) {
	if r.Status/100 != 2 {
		return
	}
	if doc, err := r.JSON(); err == nil {
		if id, ok := lookupString(doc, "id"); ok && id != "" {
			s.track(typ, id)
		}
	}
}

func checkNotFound(ctx context.Context, s *Session) error {
	id := s.guid()
	path := resourcePath("User", id)
	reqs := []request{
		{method: http.MethodGet, path: path},
		{method: http.MethodPut, path: path, body: s.newUserBody(nil)},
		{method: http.MethodPatch, path: path, body: patchBody(op("replace", "title", "x"))},
		{method: http.MethodDelete, path: path},
	}
	for _, req := range reqs {
		r, err := s.do(ctx, req)
		if err != nil {
			return err
		}
		trackIfCreated(s, "User", r)
		if err := wantError(r, http.StatusNotFound, errorOpts{}); err != nil {
			return within(fmt.Sprintf("%s of an unknown id", req.method), err)
		}
	}
	return nil
}
