package validate

import (
	"context"
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// The Okta checks replay what Okta's client sends (oktaSCIM) and Okta's SCIM
// 2.0 SPEC test (oktaSpec) with Okta's headers, including a Content-Type on
// GET and application/json on create.

// oktaHeaders are the SPEC test's default headers.
func oktaHeaders() []string {
	return []string{
		"Accept", "application/scim+json",
		"Accept-Charset", "utf-8",
		"Content-Type", "application/scim+json; charset=utf-8",
		"User-Agent", "OKTA SCIM Integration",
	}
}

func (s *Session) oktaGet(ctx context.Context, path string) (*Response, error) {
	return s.get(ctx, path, oktaHeaders()...)
}

// oktaUser creates a user with Okta's create body.
func (s *Session) oktaUser(ctx context.Context, header ...string) (*created, map[string]any, error) {
	email := s.userName("okta")
	body := map[string]any{
		"schemas":     []any{scim.UserURN},
		"userName":    email,
		"name":        map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":      []any{map[string]any{"primary": true, "value": email, "type": "work"}},
		"displayName": "Test User",
		"locale":      "en-US",
		"externalId":  "00u" + s.tag + "T6Aj10h7",
		"groups":      []any{},
		"password":    "1mz050nq-" + s.tag,
		"active":      true,
	}
	if len(header) == 0 {
		header = oktaHeaders()
	}
	c, err := s.create(ctx, "User", body, header...)
	return c, body, err
}

func oktaChecks() []Check {
	checks := []Check{
		{ID: "okta.lookup", Title: "The existence check with startIndex=1&count=100 answers 200 with integer counts and no match",
			Source: oktaSCIM + " (Create users: determine if the user already exists)", Run: checkOktaLookup},
		{ID: "okta.create-user", Title: "Okta's create (password, locale, groups: []) sent as application/json answers 201 with the user",
			Source: oktaSCIM + " (Create users)", Run: checkOktaCreate},
		{ID: "okta.get-user", Title: "GET by id returns id, userName, name, active and emails, non-empty",
			Source: oktaSpec + " (GET of a user by id)", Run: checkOktaGet},
		{ID: "okta.list-users", Title: "count=1&startIndex=1 returns one user with integer counts; pages are stable",
			Source: oktaSpec + " (first step: count=1&startIndex=1)", Run: checkOktaList},
		{ID: "okta.duplicate-user", Title: "Creating the same userName again answers 409 with a SCIM Error and a detail",
			Source: oktaSpec + " (the same user created twice)", Run: checkOktaDuplicate},
		{ID: "okta.user-name-case", Title: "A userName lookup in capitals answers 200 and finds the user",
			Source: oktaSpec + " (userName in capitals); RFC 7643 §4.1", Run: checkOktaCase},
		{ID: "okta.list-groups", Title: "GET /Groups answers 200 with a ListResponse",
			Source: oktaSpec + " (GET /Groups, optional there: skipped when the endpoint has no groups)", Requires: "groups", Run: checkOktaGroups},
		{ID: "okta.bad-credentials", Title: `"Authorization: non-token" answers 401 with detail, status "401" and the Error schema`,
			Source: oktaSpec + " (bad credentials)", Run: checkOktaBadCredentials},
		{ID: "okta.unknown-user", Title: `An unknown id answers 404 with detail, status "404" and the Error schema`,
			Source: oktaSpec + " (an id that does not exist)", Run: checkOktaUnknown},
		{ID: "okta.put-user", Title: "GET then PUT of the entire object with one change answers 200 with the change",
			Source: oktaSCIM + " (Update a specific user: PUT)", Run: checkOktaPut},
		{ID: "okta.deactivate", Title: `Path-less replace {"active": false} deactivates; the user stays readable; true reactivates`,
			Source: oktaSCIM + " (Update a specific user: PATCH to deactivate and reactivate)", Run: checkOktaDeactivate},
		{ID: "okta.group-push", Title: "Group push: create with members [], add a member, read it back with value and display",
			Source: oktaSCIM + " (Group Push)", Requires: "groups", Run: checkOktaGroupPush},
		{ID: "okta.group-membership", Title: "One PATCH renaming path-less (with id) and removing one member by filter and adding another",
			Source: oktaSCIM + " (Group Push)", Requires: "groups", Run: checkOktaGroupMembership},
		{ID: "okta.group-full-push", Title: "Full push replaces members; DELETE answers 204",
			Source: oktaSCIM + " (Group Push)", Requires: "groups", Run: checkOktaFullPush},
	}
	for i := range checks {
		checks[i].Profiles = in(ProfileOkta)
	}
	return checks
}

func checkOktaLookup(ctx context.Context, s *Session) error {
	r, err := s.oktaGet(ctx, "/Users?filter="+escape20("userName eq "+quote(s.userName("absent")))+"&startIndex=1&count=100")
	if err != nil {
		return err
	}
	if err := wantEmptyList(r, false); err != nil {
		return err
	}
	l, _ := wantList(r)
	if l.startIndex != 1 {
		return failf(r, "startIndex is %s, want the requested 1 as an integer", orAbsent(l.startIndex))
	}
	return nil
}

func checkOktaCreate(ctx context.Context, s *Session) error {
	c, body, err := s.oktaUser(ctx, "Content-Type", "application/json", "Accept", "application/scim+json; charset=utf-8", "User-Agent", "OKTA SCIM Integration")
	if err != nil {
		return err
	}
	r := c.resp
	if err := wantStatus(r, http.StatusCreated); err != nil {
		return err
	}
	if !listHas(c.doc, "schemas", scim.UserURN) {
		return failf(r, "schemas lacks %s", scim.UserURN)
	}
	if strings.Contains(string(r.Body), body["password"].(string)) {
		return failf(r, "the response contains the password")
	}
	return firstErr(
		wantValue(c.doc, r, body["userName"].(string), "userName"),
		wantValue(c.doc, r, "Test", "name", "givenName"),
		wantValue(c.doc, r, "User", "name", "familyName"),
		wantBool(c.doc, r, true, "active"),
		wantValue(c.doc, r, "User", "meta", "resourceType"),
	)
}

// wantOktaFields checks the fields Okta's tests require to be non-empty.
func wantOktaFields(doc map[string]any, r *Response) error {
	for _, keys := range [][]string{{"id"}, {"userName"}, {"name", "familyName"}, {"name", "givenName"}, {"active"}} {
		if v, ok := lookup(doc, keys...); !present(v, ok) {
			return failf(r, "%s is empty; Okta's SPEC test requires it", strings.Join(keys, "."))
		}
	}
	emails := lookupList(doc, "emails")
	if len(emails) == 0 {
		return failf(r, "emails[0].value is empty; Okta's SPEC test requires it")
	}
	if v, _ := lookupString(emails[0], "value"); v == "" {
		return failf(r, "emails[0].value is empty; Okta's SPEC test requires it")
	}
	return nil
}

func checkOktaGet(ctx context.Context, s *Session) error {
	c, _, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	r, err := s.oktaGet(ctx, resourcePath("User", c.id))
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	if id, _ := lookupString(doc, "id"); id != c.id {
		return failf(r, "id is %q, want the requested %q", id, c.id)
	}
	return wantOktaFields(doc, r)
}

func checkOktaList(ctx context.Context, s *Session) error {
	for range 2 {
		if _, _, err := s.oktaUser(ctx); err != nil {
			return err
		}
	}
	r, err := s.oktaGet(ctx, "/Users?count=1&startIndex=1")
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if len(l.resources) != 1 {
		return failf(r, "count=1 returned %d resources, want 1", len(l.resources))
	}
	if l.startIndex != 1 || l.itemsPerPage != 1 {
		return failf(r, "startIndex %s and itemsPerPage %s, want integers 1 and 1", orAbsent(l.startIndex), orAbsent(l.itemsPerPage))
	}
	r, err = s.oktaGet(ctx, "/Users?startIndex=1&count=2")
	if err != nil {
		return err
	}
	two, err := wantList(r)
	if err != nil {
		return err
	}
	r, err = s.oktaGet(ctx, "/Users?startIndex=2&count=1")
	if err != nil {
		return err
	}
	second, err := wantList(r)
	if err != nil {
		return err
	}
	if len(two.resources) != 2 || len(second.resources) != 1 || two.ids()[1] != second.ids()[0] {
		return failf(r, "startIndex=2&count=1 returned %s but the second of startIndex=1&count=2 was %s; Okta imports page by page and needs a stable order", show(second.ids()), show(two.ids()))
	}
	return nil
}

func checkOktaDuplicate(ctx context.Context, s *Session) error {
	_, body, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: body, header: oktaHeaders()})
	if err != nil {
		return err
	}
	trackIfCreated(s, "User", r)
	return wantError(r, http.StatusConflict, errorOpts{detail: true})
}

func checkOktaCase(ctx context.Context, s *Session) error {
	c, body, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	r, err := s.oktaGet(ctx, "/Users"+query("filter", "userName eq "+quote(strings.ToUpper(body["userName"].(string)))))
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total != 1 || len(l.resources) != 1 || l.ids()[0] != c.id {
		return failf(r, "the upper-case userName found %s, want %s: userName is caseExact false", show(l.ids()), c.id)
	}
	return nil
}

func checkOktaGroups(ctx context.Context, s *Session) error {
	r, err := s.oktaGet(ctx, "/Groups")
	if err != nil {
		return err
	}
	_, err = wantList(r)
	return err
}

func checkOktaBadCredentials(ctx context.Context, s *Session) error {
	r, err := s.do(ctx, request{method: http.MethodGet, path: "/Users" + query("filter", "userName eq "+quote(s.userName("CAPS"))), token: "non-token", header: oktaHeaders()})
	if err != nil {
		return err
	}
	return wantError(r, http.StatusUnauthorized, errorOpts{detail: true})
}

func checkOktaUnknown(ctx context.Context, s *Session) error {
	for _, id := range []string{s.guid(), "00919288221112222"} {
		r, err := s.oktaGet(ctx, resourcePath("User", id))
		if err != nil {
			return err
		}
		if err := wantError(r, http.StatusNotFound, errorOpts{detail: true}); err != nil {
			return err
		}
	}
	return nil
}

func checkOktaPut(ctx context.Context, s *Session) error {
	c, body, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	r, err := s.oktaGet(ctx, resourcePath("User", c.id))
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	name, _ := lookup(doc, "name")
	nm, ok := name.(map[string]any)
	if !ok {
		return failf(r, "the user has no name object to change")
	}
	for k := range nm {
		if strings.EqualFold(k, "givenName") {
			nm[k] = "Changed"
		}
	}
	r, err = s.do(ctx, request{method: http.MethodPut, path: resourcePath("User", c.id), body: doc, header: oktaHeaders()})
	if err != nil {
		return err
	}
	out, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	return firstErr(
		wantValue(out, r, c.id, "id"),
		wantValue(out, r, "Changed", "name", "givenName"),
		wantValue(out, r, "User", "name", "familyName"),
		wantValue(out, r, body["userName"].(string), "userName"),
		wantOktaFields(out, r),
	)
}

func checkOktaDeactivate(ctx context.Context, s *Session) error {
	c, _, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	for _, active := range []bool{false, true} {
		err := s.patchThenRead(ctx, "User", c.id, patchBody(op("replace", "", map[string]any{"active": active})), func(d map[string]any, r *Response) error {
			return wantBool(d, r, active, "active")
		})
		if err != nil {
			if active {
				return within("reactivating", err)
			}
			return within("deactivating (the user must stay readable: Okta never deletes users)", err)
		}
	}
	return nil
}

func checkOktaGroupPush(ctx context.Context, s *Session) error {
	u, body, err := s.oktaUser(ctx)
	if err != nil {
		return err
	}
	g, err := s.create(ctx, "Group", map[string]any{"schemas": []any{scim.GroupURN}, "displayName": s.name("Test SCIMv2"), "members": []any{}}, oktaHeaders()...)
	if err != nil {
		return err
	}
	if err := wantStatus(g.resp, http.StatusCreated); err != nil {
		return err
	}
	add := patchBody(op("add", "members", []any{map[string]any{"value": u.id, "display": body["userName"]}}))
	if _, err := s.patch(ctx, "Group", g.id, add, oktaHeaders()...); err != nil {
		return err
	}
	r, err := s.oktaGet(ctx, resourcePath("Group", g.id))
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	ms := lookupList(doc, "members")
	if len(ms) != 1 {
		return failf(r, "members are %s, want the one member added", show(ms))
	}
	if v, _ := lookupString(ms[0], "value"); v != u.id {
		return failf(r, "the member's value is %q, want %q", v, u.id)
	}
	if d, _ := lookupString(ms[0], "display"); d == "" {
		return failf(r, "the member has no display; Okta reads members as value + display")
	}
	return nil
}

// oktaGroup creates a group with the given members for the membership checks.
func (s *Session) oktaGroup(ctx context.Context, n int) (*created, []string, error) {
	var ids []string
	for range n {
		u, err := s.createUser(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, u.id)
	}
	g, err := s.createGroup(ctx, ids[:n-1]...)
	return g, ids, err
}

func checkOktaGroupMembership(ctx context.Context, s *Session) error {
	g, ids, err := s.oktaGroup(ctx, 3)
	if err != nil {
		return err
	}
	name := s.name("renamed")
	body := patchBody(
		op("replace", "", map[string]any{"id": g.id, "displayName": name}),
		op("remove", "members[value eq "+quote(ids[0])+"]", nil),
		op("add", "members", []any{map[string]any{"value": ids[2], "display": "test.user@okta.local"}}),
	)
	if _, err := s.patch(ctx, "Group", g.id, body, oktaHeaders()...); err != nil {
		return err
	}
	doc, gr, err := s.read(ctx, "Group", g.id, "")
	if err != nil {
		return err
	}
	return firstErr(wantValue(doc, gr, name, "displayName"), wantMembers(doc, gr, []string{ids[1], ids[2]}, ""))
}

func checkOktaFullPush(ctx context.Context, s *Session) error {
	g, ids, err := s.oktaGroup(ctx, 3)
	if err != nil {
		return err
	}
	body := patchBody(op("replace", "members", []any{map[string]any{"value": ids[0], "display": "a"}, map[string]any{"value": ids[2], "display": "c"}}))
	if _, err := s.patch(ctx, "Group", g.id, body, oktaHeaders()...); err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "Group", g.id, "")
	if err != nil {
		return err
	}
	if err := wantMembers(doc, r, []string{ids[0], ids[2]}, ""); err != nil {
		return err
	}
	return s.deleteResource(ctx, "Group", g.id, oktaHeaders()...)
}
