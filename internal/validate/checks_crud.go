package validate

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
)

func userChecks() []Check {
	return []Check{
		{
			ID: "rfc.users.create", Title: "POST /Users answers 201 with the resource, Location and meta; ignores readOnly input; never returns the password",
			Source: "RFC 7644 §3.3; RFC 7643 §3.1, §4.1 (password returned never)", Profiles: in(ProfileRFC), Run: checkCreateUser,
		},
		{
			ID: "rfc.users.single-primary", Title: "A user with two primary emails is refused, or stored with at most one",
			Source: "RFC 7643 §2.4 (primary true MUST appear no more than once)", Profiles: in(ProfileRFC), Run: checkSinglePrimary,
		},
		{
			ID: "rfc.users.last-modified", Title: "meta.lastModified equals meta.created on create and moves forward on change",
			Source: "RFC 7643 §3.1 (lastModified)", Profiles: in(ProfileRFC), Requires: "patch", Run: checkLastModified,
		},
		{
			ID: "rfc.users.get", Title: "GET /Users/{id} returns the stored user",
			Source: "RFC 7644 §3.4.1", Profiles: in(ProfileRFC), Run: checkGetUser,
		},
		{
			ID: "rfc.users.list", Title: "GET /Users returns a ListResponse whose resources carry ids",
			Source: "RFC 7644 §3.4.2", Profiles: in(ProfileRFC), Run: checkListUsers,
		},
		{
			ID: "rfc.users.replace", Title: "PUT replaces the given attributes, multi-valued ones as a whole, and keeps the id",
			Source: "RFC 7644 §3.5.1", Profiles: in(ProfileRFC), Run: checkReplaceUser,
		},
		{
			ID: "rfc.users.delete", Title: "DELETE answers 204; the user is then gone from GET, filters and a second DELETE",
			Source: "RFC 7644 §3.6", Profiles: in(ProfileRFC), Run: checkDeleteUser,
		},
	}
}

// isDateTime reports whether s is an xsd:dateTime (RFC 7643 §2.3.5).
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// checkMeta checks the meta a service provider assigns (RFC 7643 §3.1):
// whichever of resourceType, location, created and lastModified are there
// must be right; required lists the ones that must be there.
func checkMeta(doc map[string]any, r *Response, typ, id string, required ...string) error {
	for _, k := range required {
		if v, ok := lookupString(doc, "meta", k); !ok || v == "" {
			return failf(r, "meta.%s is missing", k)
		}
	}
	if rt, ok := lookupString(doc, "meta", "resourceType"); ok && rt != typ {
		return failf(r, "meta.resourceType is %q, want %q (RFC 7643 §3.1)", rt, typ)
	}
	if loc, ok := lookupString(doc, "meta", "location"); ok && !strings.HasSuffix(loc, endpoint(typ)+"/"+id) {
		return failf(r, "meta.location is %q, want the URI of the resource, ending in %s/%s (RFC 7643 §3.1)", loc, endpoint(typ), id)
	}
	for _, k := range []string{"created", "lastModified"} {
		if v, ok := lookupString(doc, "meta", k); ok && !isDateTime(v) {
			return failf(r, "meta.%s %q is not an xsd:dateTime (RFC 7643 §2.3.5)", k, v)
		}
	}
	return nil
}

// checkCreated checks a 201 answer to a create (RFC 7644 §3.3).
func checkCreated(c *created, typ string) error {
	r := c.resp
	if r.Status != http.StatusCreated {
		return failf(r, "POST %s answered %d, want 201 Created (RFC 7644 §3.3)", endpoint(typ), r.Status)
	}
	if err := checkMeta(c.doc, r, typ, c.id, "location"); err != nil {
		return within("RFC 7644 §3.3: the created resource's URI SHALL be in meta.location", err)
	}
	loc := r.Header.Get("Location")
	if loc == "" {
		return failf(r, "the 201 has no Location header (RFC 7644 §3.3: the URI SHALL be in the Location header and in meta.location)")
	}
	if mloc, _ := lookupString(c.doc, "meta", "location"); loc != mloc {
		return failf(r, "the Location header %q differs from meta.location %q", loc, mloc)
	}
	return nil
}

func checkCreateUser(ctx context.Context, s *Session) error {
	name := s.userName("create")
	body := map[string]any{
		"schemas":     []any{scim.UserURN},
		"id":          "client-chosen-id-" + s.tag,
		"userName":    name,
		"displayName": "Validate Create",
		"name":        map[string]any{"givenName": "Validate", "familyName": "Create"},
		"emails":      []any{map[string]any{"type": "work", "value": name, "primary": true}},
		"password":    "Ferry-validate-" + s.guid(),
		"meta":        map[string]any{"created": "2001-01-01T00:00:00Z", "resourceType": "Widget"},
		"active":      true,
	}
	c, err := s.create(ctx, "User", body)
	if err != nil {
		return err
	}
	if err := checkCreated(c, "User"); err != nil {
		return err
	}
	r := c.resp
	if c.id == body["id"] {
		return failf(r, "the server kept the id the client sent; id is readOnly and issued by the service provider (RFC 7643 §3.1, RFC 7644 §3.3: readOnly input SHALL be ignored)")
	}
	if v, _ := lookupString(c.doc, "meta", "created"); strings.HasPrefix(v, "2001-01-01") {
		return failf(r, "meta.created is the client's value %q; meta is readOnly (RFC 7643 §3.1)", v)
	}
	if !listHas(c.doc, "schemas", scim.UserURN) {
		return failf(r, "schemas lacks %s", scim.UserURN)
	}
	if err := wantAbsent(c.doc, r, " (RFC 7643 §4.1: password is returned never)", "password"); err != nil {
		return err
	}
	if strings.Contains(string(r.Body), body["password"].(string)) {
		return failf(r, "the response contains the password that was sent")
	}
	for _, e := range []error{
		wantValue(c.doc, r, name, "userName"),
		wantValue(c.doc, r, "Validate", "name", "givenName"),
		wantValue(c.doc, r, "Create", "name", "familyName"),
		wantBool(c.doc, r, true, "active"),
	} {
		if e != nil {
			return e
		}
	}
	if w := element(lookupList(c.doc, "emails"), "type", "work"); w == nil || w["value"] != name {
		return failf(r, "emails is %s, want the work email %q kept as sent", show(lookupList(c.doc, "emails")), name)
	}
	return nil
}

func checkGetUser(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, map[string]any{
		"name":     map[string]any{"givenName": "Get", "familyName": "Me"},
		"title":    "Tester",
		"password": "Ferry-validate-" + s.guid(),
	})
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	name, _ := lookupString(c.doc, "userName")
	for _, e := range []error{
		wantValue(doc, r, name, "userName"),
		wantValue(doc, r, "Get", "name", "givenName"),
		wantValue(doc, r, "Tester", "title"),
		wantAbsent(doc, r, " (RFC 7643 §4.1: password is returned never)", "password"),
		checkMeta(doc, r, "User", c.id),
	} {
		if e != nil {
			return e
		}
	}
	if !listHas(doc, "schemas", scim.UserURN) {
		return failf(r, "schemas lacks %s", scim.UserURN)
	}
	return nil
}

func checkListUsers(ctx context.Context, s *Session) error {
	if _, err := s.createUser(ctx, nil); err != nil {
		return err
	}
	r, err := s.get(ctx, "/Users")
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total < 1 || len(l.resources) < 1 {
		return failf(r, "totalResults %d with %d resources just after a user was created", l.total, len(l.resources))
	}
	for i, id := range l.ids() {
		if id == "" {
			return failf(r, "Resources[%d] has no id (RFC 7643 §3.1: id is returned always)", i)
		}
	}
	return nil
}

func checkReplaceUser(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, map[string]any{
		"title":  "Before",
		"emails": []any{map[string]any{"type": "work", "value": "before@validate.example", "primary": true}},
	})
	if err != nil {
		return err
	}
	name, _ := lookupString(c.doc, "userName")
	body := map[string]any{
		"schemas":  []any{scim.UserURN},
		"id":       c.id,
		"userName": name,
		"title":    "After",
		"active":   true,
		"emails":   []any{map[string]any{"type": "home", "value": "after@validate.example"}},
	}
	r, err := s.do(ctx, request{method: http.MethodPut, path: resourcePath("User", c.id), body: body})
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return within("RFC 7644 §3.5.1: PUT answers 200 with the resource", err)
	}
	verify := func(doc map[string]any, r *Response) error {
		if id, _ := lookupString(doc, "id"); id != c.id {
			return failf(r, "id is %q after PUT, want %q", id, c.id)
		}
		if err := wantValue(doc, r, "After", "title"); err != nil {
			return err
		}
		emails := lookupList(doc, "emails")
		if got := values(emails, "value"); len(got) != 1 || got[0] != "after@validate.example" {
			return failf(r, "emails are %s, want only after@validate.example: a PUT's values SHALL replace the existing ones (RFC 7644 §3.5.1)", show(emails))
		}
		return nil
	}
	if err := within("the PUT response", verify(doc, r)); err != nil {
		return err
	}
	doc, gr, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	return within("GET after PUT", verify(doc, gr))
}

func checkDeleteUser(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	name, _ := lookupString(c.doc, "userName")
	if err := s.deleteResource(ctx, "User", c.id); err != nil {
		return err
	}
	r, err := s.get(ctx, resourcePath("User", c.id))
	if err != nil {
		return err
	}
	if err := wantError(r, http.StatusNotFound, errorOpts{}); err != nil {
		return within("GET after DELETE (RFC 7644 §3.6: 404 for every operation on a deleted resource)", err)
	}
	if s.unsupported(ctx, "filter") == "" {
		l, err := s.filterQuery(ctx, "User", "userName eq "+quote(name))
		if err != nil {
			return err
		}
		if l.total != 0 {
			return failf(l.resp, "the deleted user is still found by its userName (totalResults %d)", l.total)
		}
	}
	if r, err = s.do(ctx, request{method: http.MethodDelete, path: resourcePath("User", c.id)}); err != nil {
		return err
	}
	return within("a second DELETE (RFC 7644 §3.6)", wantError(r, http.StatusNotFound, errorOpts{}))
}

func groupChecks() []Check {
	return []Check{
		{
			ID: "rfc.groups.create", Title: "POST /Groups with a member answers 201 with the group, its members, Location and meta",
			Source: "RFC 7644 §3.3; RFC 7643 §4.2", Profiles: in(ProfileRFC), Requires: "groups", Run: checkCreateGroup,
		},
		{
			ID: "rfc.groups.get", Title: "GET /Groups/{id} returns the group with its members",
			Source: "RFC 7644 §3.4.1; RFC 7643 §4.2", Profiles: in(ProfileRFC), Requires: "groups", Run: checkGetGroup,
		},
		{
			ID: "rfc.groups.replace", Title: "PUT replaces a group's displayName and members",
			Source: "RFC 7644 §3.5.1", Profiles: in(ProfileRFC), Requires: "groups", Run: checkReplaceGroup,
		},
		{
			ID: "rfc.groups.delete", Title: "DELETE of a group answers 204, the group is gone and its members are not",
			Source: "RFC 7644 §3.6", Profiles: in(ProfileRFC), Requires: "groups", Run: checkDeleteGroup,
		},
		{
			ID: "rfc.groups.user-groups", Title: "A user's groups attribute follows membership changes made on the group",
			Source: "RFC 7643 §4.1.2 (groups, readOnly, changed via the Group resource)", Profiles: in(ProfileRFC), Requires: "groups,patch", Run: checkUserGroups,
		},
		{
			ID: "rfc.groups.filter", Title: "Groups are found by displayName and by member (members[value eq ...])",
			Source: "RFC 7644 §3.4.2.2; " + msSCIM + "#group-provisioning-and-deprovisioning", Profiles: in(ProfileRFC, ProfileEntra), Requires: "groups", Run: checkFilterGroups,
		},
	}
}

func checkCreateGroup(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	name := s.name("group")
	c, err := s.create(ctx, "Group", map[string]any{"schemas": []any{scim.GroupURN}, "displayName": name, "members": memberRefs(u.id)})
	if err != nil {
		return err
	}
	if err := checkCreated(c, "Group"); err != nil {
		return err
	}
	if err := wantValue(c.doc, c.resp, name, "displayName"); err != nil {
		return err
	}
	if !listHas(c.doc, "schemas", scim.GroupURN) {
		return failf(c.resp, "schemas lacks %s", scim.GroupURN)
	}
	return wantMembers(c.doc, c.resp, []string{u.id}, " (the member sent in the POST)")
}

func checkGetGroup(ctx context.Context, s *Session) error {
	u1, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	u2, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	g, err := s.createGroup(ctx, u1.id, u2.id)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "Group", g.id, "")
	if err != nil {
		return err
	}
	if err := checkMeta(doc, r, "Group", g.id); err != nil {
		return err
	}
	return wantMembers(doc, r, []string{u1.id, u2.id}, "")
}

func checkReplaceGroup(ctx context.Context, s *Session) error {
	u1, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	u2, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	g, err := s.createGroup(ctx, u1.id)
	if err != nil {
		return err
	}
	name := s.name("renamed")
	r, err := s.do(ctx, request{method: http.MethodPut, path: resourcePath("Group", g.id), body: map[string]any{
		"schemas": []any{scim.GroupURN}, "id": g.id, "displayName": name, "members": memberRefs(u2.id),
	}})
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	verify := func(doc map[string]any, r *Response) error {
		if err := wantValue(doc, r, name, "displayName"); err != nil {
			return err
		}
		return wantMembers(doc, r, []string{u2.id}, " (the PUT's members replace the old ones)")
	}
	if err := within("the PUT response", verify(doc, r)); err != nil {
		return err
	}
	doc, gr, err := s.read(ctx, "Group", g.id, "")
	if err != nil {
		return err
	}
	return within("GET after PUT", verify(doc, gr))
}

func checkDeleteGroup(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	g, err := s.createGroup(ctx, u.id)
	if err != nil {
		return err
	}
	if err := s.deleteResource(ctx, "Group", g.id); err != nil {
		return err
	}
	r, err := s.get(ctx, resourcePath("Group", g.id))
	if err != nil {
		return err
	}
	if err := wantError(r, http.StatusNotFound, errorOpts{}); err != nil {
		return within("GET after DELETE", err)
	}
	if _, _, err := s.read(ctx, "User", u.id, ""); err != nil {
		return within("the deleted group's member must still exist", err)
	}
	return nil
}

func checkUserGroups(ctx context.Context, s *Session) error {
	if sc := s.schema(ctx, scim.UserURN); sc != nil && attributeDef(sc, "groups") == nil {
		return skipf("the User schema served from /Schemas has no groups attribute")
	}
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	g, err := s.createGroup(ctx, u.id)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", u.id, "")
	if err != nil {
		return err
	}
	if got := values(lookupList(doc, "groups"), "value"); !sameSet(got, []string{g.id}) {
		return failf(r, "groups is %s, want the group %s the user was made a member of", show(lookupList(doc, "groups")), g.id)
	}
	if _, err := s.patch(ctx, "Group", g.id, patchBody(op("remove", `members[value eq `+quote(u.id)+`]`, nil))); err != nil {
		return within("removing the member", err)
	}
	doc, r, err = s.read(ctx, "User", u.id, "")
	if err != nil {
		return err
	}
	return wantAbsent(doc, r, " after the user left its only group", "groups")
}

func checkFilterGroups(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	other, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	g, err := s.createGroup(ctx, u.id)
	if err != nil {
		return err
	}
	if _, err := s.createGroup(ctx, other.id); err != nil {
		return err
	}
	name, _ := lookupString(g.doc, "displayName")
	if _, err := s.findOne(ctx, "Group", "displayName eq "+quote(name), g.id); err != nil {
		return err
	}
	_, err = s.findOne(ctx, "Group", "members[value eq "+quote(u.id)+"]", g.id)
	return err
}

func checkSinglePrimary(ctx context.Context, s *Session) error {
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: s.newUserBody(map[string]any{
		"emails": []any{
			map[string]any{"type": "work", "value": "one@validate.example", "primary": true},
			map[string]any{"type": "home", "value": "two@validate.example", "primary": true},
		},
	})})
	if err != nil {
		return err
	}
	trackIfCreated(s, "User", r)
	if r.Status == http.StatusBadRequest {
		return wantError(r, http.StatusBadRequest, errorOpts{})
	}
	doc, err := wantJSON(r, http.StatusCreated)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range lookupList(doc, "emails") {
		if p, _ := lookupBool(e, "primary"); p {
			n++
		}
	}
	if n > 1 {
		return failf(r, "the user was stored with %d primary emails", n)
	}
	return nil
}

func checkLastModified(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	created, _ := lookupString(c.doc, "meta", "created")
	first, _ := lookupString(c.doc, "meta", "lastModified")
	tc, err1 := time.Parse(time.RFC3339Nano, created)
	t1, err2 := time.Parse(time.RFC3339Nano, first)
	if err1 != nil || err2 != nil {
		return failf(c.resp, "meta.created %q and meta.lastModified %q must both be xsd:dateTime values", created, first)
	}
	if !tc.Equal(t1) {
		return failf(c.resp, "a new resource has meta.lastModified %s but meta.created %s; they MUST be the same until it is modified", first, created)
	}
	// A second is the coarsest precision a dateTime may reasonably have.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(1100 * time.Millisecond):
	}
	if _, err := s.patch(ctx, "User", c.id, patchBody(op("replace", "title", "Changed"))); err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	after, _ := lookupString(doc, "meta", "lastModified")
	t2, err := time.Parse(time.RFC3339Nano, after)
	if err != nil || !t2.After(t1) {
		return failf(r, "meta.lastModified is %q after a change made more than a second after creation (%s); it must be the time of the most recent update", after, first)
	}
	if c2, _ := lookupString(doc, "meta", "created"); c2 != created {
		return failf(r, "meta.created changed from %s to %s on update", created, c2)
	}
	return nil
}
