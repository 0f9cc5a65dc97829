package validate

import (
	"context"
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// patchCase is one PATCH of a user: the attributes the user starts with,
// the request, and what the user must look like after it (checked on the
// 200 body when there is one, and on a GET).
type patchCase struct {
	id, title, source string
	setup             map[string]any
	body              func(u *created) any
	verify            func(doc map[string]any, r *Response, u *created) error
}

const rfcPatch = "RFC 7644 §3.5.2"

func userPatchCases() []patchCase {
	work := map[string]any{"type": "work", "value": "work@validate.example", "primary": true}
	home := map[string]any{"type": "home", "value": "home@validate.example"}
	name := map[string]any{"givenName": "Given", "familyName": "Family"}
	both := func() []any { return []any{work, home} }
	return []patchCase{
		{id: "rfc.patch.add-simple", title: "add sets a single-valued attribute", source: rfcPatch + ".1",
			body: constBody(patchBody(op("add", "nickName", "Nick"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantValue(d, r, "Nick", "nickName")
			}},
		{id: "rfc.patch.add-replaces-single", title: "add on a single-valued attribute that has a value replaces it", source: rfcPatch + ".1 (the existing value is replaced)",
			setup: map[string]any{"title": "Old"},
			body:  constBody(patchBody(op("add", "title", "New"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantValue(d, r, "New", "title")
			}},
		{id: "rfc.patch.primary-exclusive", title: "Adding a primary email makes the other emails non-primary", source: rfcPatch + " (setting primary true SHALL set the others false); RFC 7643 §2.4",
			setup: map[string]any{"emails": []any{work}},
			body:  constBody(patchBody(op("add", "emails", []any{map[string]any{"type": "home", "value": "home@validate.example", "primary": true}}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				if err := wantEmails(d, r, "work@validate.example", "home@validate.example"); err != nil {
					return err
				}
				var primaries []string
				for _, e := range lookupList(d, "emails") {
					if p, _ := lookupBool(e, "primary"); p {
						v, _ := lookupString(e, "value")
						primaries = append(primaries, v)
					}
				}
				if len(primaries) != 1 || primaries[0] != "home@validate.example" {
					return failf(r, "the primary emails are %s, want only the newly added home@validate.example", show(primaries))
				}
				return nil
			}},
		{id: "rfc.patch.replace-simple", title: "replace changes a single-valued attribute", source: rfcPatch + ".3",
			setup: map[string]any{"title": "Old"},
			body:  constBody(patchBody(op("replace", "title", "New"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantValue(d, r, "New", "title")
			}},
		{id: "rfc.patch.remove-simple", title: "remove unassigns a single-valued attribute and nothing else", source: rfcPatch + ".2",
			setup: map[string]any{"nickName": "Gone", "title": "Stays"},
			body:  constBody(patchBody(op("remove", "nickName", nil))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantAbsent(d, r, "", "nickName"), wantValue(d, r, "Stays", "title"))
			}},
		{id: "rfc.patch.replace-boolean", title: "replace sets a boolean as a JSON boolean", source: rfcPatch + ".3; RFC 7643 §2.3.2",
			body: constBody(patchBody(op("replace", "active", false))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantBool(d, r, false, "active")
			}},
		{id: "rfc.patch.add-sub-attribute", title: "add on name.middleName sets it and keeps the other sub-attributes", source: rfcPatch + ".1",
			setup: map[string]any{"name": name},
			body:  constBody(patchBody(op("add", "name.middleName", "Middle"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantValue(d, r, "Middle", "name", "middleName"), wantValue(d, r, "Given", "name", "givenName"))
			}},
		{id: "rfc.patch.replace-complex", title: "replace of a complex attribute leaves unmentioned sub-attributes unchanged", source: rfcPatch + ".3 (sub-attributes not specified are left unchanged)",
			setup: map[string]any{"name": name},
			body:  constBody(patchBody(op("replace", "name", map[string]any{"givenName": "Other"}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantValue(d, r, "Other", "name", "givenName"), wantValue(d, r, "Family", "name", "familyName"))
			}},
		{id: "rfc.patch.remove-sub-attribute", title: "remove of name.familyName keeps name.givenName", source: rfcPatch + ".2",
			setup: map[string]any{"name": name},
			body:  constBody(patchBody(op("remove", "name.familyName", nil))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantAbsent(d, r, "", "name", "familyName"), wantValue(d, r, "Given", "name", "givenName"))
			}},
		{id: "rfc.patch.add-multi-valued", title: "add to a multi-valued attribute appends and keeps the existing values", source: rfcPatch + ".1 (a new value is added)",
			setup: map[string]any{"emails": []any{work}},
			body:  constBody(patchBody(op("add", "emails", []any{home}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantEmails(d, r, "work@validate.example", "home@validate.example")
			}},
		{id: "rfc.patch.replace-filtered", title: `replace on emails[type eq "work"].value changes only the work email`, source: rfcPatch + ".3 (valuePath); " + msSCIM + "#update-user-multi-valued-properties",
			setup: map[string]any{"emails": both()},
			body:  constBody(patchBody(op("replace", `emails[type eq "work"].value`, "new@validate.example"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				if err := wantEmails(d, r, "new@validate.example", "home@validate.example"); err != nil {
					return err
				}
				if w := element(lookupList(d, "emails"), "type", "work"); w == nil || w["value"] != "new@validate.example" {
					return failf(r, "the work email is %s, want new@validate.example", show(w))
				}
				return nil
			}},
		{id: "rfc.patch.remove-filtered", title: `remove of emails[type eq "home"] removes only that value`, source: rfcPatch + ".2 (valuePath filter)",
			setup: map[string]any{"emails": both()},
			body:  constBody(patchBody(op("remove", `emails[type eq "home"]`, nil))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantEmails(d, r, "work@validate.example")
			}},
		{id: "rfc.patch.replace-multi-valued", title: "replace of a whole multi-valued attribute replaces all its values", source: rfcPatch + ".3 (no filter: all values are replaced)",
			setup: map[string]any{"emails": both()},
			body:  constBody(patchBody(op("replace", "emails", []any{map[string]any{"type": "other", "value": "other@validate.example"}}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantEmails(d, r, "other@validate.example")
			}},
		{id: "rfc.patch.remove-multi-valued", title: "remove of a whole multi-valued attribute removes all its values", source: rfcPatch + ".2 (no filter: all values are removed)",
			setup: map[string]any{"emails": both(), "title": "Stays"},
			body:  constBody(patchBody(op("remove", "emails", nil))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantAbsent(d, r, "", "emails"), wantValue(d, r, "Stays", "title"))
			}},
		{id: "rfc.patch.extension-add", title: "add on a URN-qualified enterprise attribute sets it in the extension", source: rfcPatch + ".1; RFC 7644 §3.10; RFC 7643 §4.3",
			body: constBody(patchBody(op("add", scim.EnterpriseUserURN+":department", "Research"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantValue(d, r, "Research", scim.EnterpriseUserURN, "department")
			}},
		{id: "rfc.patch.extension-remove", title: "remove of an enterprise attribute keeps the extension's other attributes", source: rfcPatch + ".2; RFC 7643 §4.3",
			setup: map[string]any{"schemas": []any{scim.UserURN, scim.EnterpriseUserURN}, scim.EnterpriseUserURN: map[string]any{"department": "Gone", "employeeNumber": "42"}},
			body:  constBody(patchBody(op("remove", scim.EnterpriseUserURN+":department", nil))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantAbsent(d, r, "", scim.EnterpriseUserURN, "department"), wantValue(d, r, "42", scim.EnterpriseUserURN, "employeeNumber"))
			}},
		{id: "rfc.patch.pathless-add", title: "add without a path sets every attribute of the value", source: rfcPatch + ".1 (path omitted: the resource itself)",
			body: constBody(patchBody(op("add", "", map[string]any{"nickName": "Nick", "title": "Title"}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantValue(d, r, "Nick", "nickName"), wantValue(d, r, "Title", "title"))
			}},
		{id: "rfc.patch.pathless-replace", title: "replace without a path replaces every attribute of the value", source: rfcPatch + ".3 (path omitted); " + oktaSCIM + " (deactivate)",
			setup: map[string]any{"name": name, "title": "Old"},
			body:  constBody(patchBody(op("replace", "", map[string]any{"title": "New", "name": map[string]any{"givenName": "Other"}, "active": false}))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return firstErr(wantValue(d, r, "New", "title"), wantValue(d, r, "Other", "name", "givenName"), wantBool(d, r, false, "active"))
			}},
		{id: "rfc.patch.operations-in-order", title: "Operations apply in order: a later replace wins over an earlier add", source: rfcPatch + " (operations are applied in sequence)",
			body: constBody(patchBody(op("add", "nickName", "First"), op("replace", "nickName", "Second"))),
			verify: func(d map[string]any, r *Response, _ *created) error {
				return wantValue(d, r, "Second", "nickName")
			}},
	}
}

func constBody(b any) func(*created) any { return func(*created) any { return b } }

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// wantEmails checks the email values are exactly want.
func wantEmails(d map[string]any, r *Response, want ...string) error {
	emails := lookupList(d, "emails")
	if got := values(emails, "value"); !sameSet(got, want) {
		return failf(r, "emails are %s, want exactly the values %s", show(emails), show(want))
	}
	return nil
}

func patchChecks() []Check {
	var out []Check
	for _, pc := range userPatchCases() {
		out = append(out, Check{
			ID: pc.id, Title: "PATCH: " + pc.title, Source: pc.source, Profiles: in(ProfileRFC), Requires: "patch",
			Run: func(ctx context.Context, s *Session) error {
				u, err := s.createUser(ctx, pc.setup)
				if err != nil {
					return err
				}
				return s.patchThenRead(ctx, "User", u.id, pc.body(u), func(d map[string]any, r *Response) error {
					return pc.verify(d, r, u)
				})
			},
		})
	}
	out = append(out,
		Check{
			ID: "rfc.patch.atomic", Title: "PATCH: a request with a failing operation changes nothing",
			Source: rfcPatch + " (a PATCH request SHALL be treated as atomic)", Profiles: in(ProfileRFC), Requires: "patch", Run: checkPatchAtomic,
		},
		Check{
			ID: "rfc.patch.remove-without-path", Title: "PATCH: remove without a path answers 400 noTarget",
			Source: rfcPatch + ".2 (path unspecified: 400 noTarget)", Profiles: in(ProfileRFC), Requires: "patch", Run: func(ctx context.Context, s *Session) error {
				u, err := s.createUser(ctx, nil)
				if err != nil {
					return err
				}
				r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath("User", u.id), body: patchBody(op("remove", "", nil))})
				if err != nil {
					return err
				}
				return wantError(r, http.StatusBadRequest, errorOpts{scimType: scim.NoTarget})
			},
		},
		Check{
			ID: "rfc.patch.read-only", Title: "PATCH: replacing the readOnly id answers 400 mutability and keeps the id",
			Source: rfcPatch + " (operations must be compatible with mutability); RFC 7643 §3.1, §7", Profiles: in(ProfileRFC), Requires: "patch", Run: checkPatchReadOnly,
		},
	)
	for _, gc := range groupPatchCases() {
		out = append(out, Check{
			ID: gc.id, Title: "PATCH: " + gc.title, Source: gc.source, Profiles: in(ProfileRFC), Requires: "groups,patch",
			Run: func(ctx context.Context, s *Session) error { return s.runGroupPatch(ctx, gc) },
		})
	}
	return out
}

func checkPatchAtomic(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, map[string]any{"title": "Before"})
	if err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath("User", u.id), body: patchBody(
		op("replace", "title", "After"),
		op("replace", `emails[type eq`, "broken@validate.example"),
	)})
	if err != nil {
		return err
	}
	if r.Status/100 == 2 {
		return failf(r, "a PATCH whose second operation has an invalid path succeeded; it must fail as a whole")
	}
	if err := wantError(r, http.StatusBadRequest, errorOpts{}); err != nil {
		return err
	}
	doc, gr, err := s.read(ctx, "User", u.id, "")
	if err != nil {
		return err
	}
	if err := wantValue(doc, gr, "Before", "title"); err != nil {
		return within("the first operation of the failed PATCH was applied; the original resource MUST be restored", err)
	}
	return nil
}

func checkPatchReadOnly(ctx context.Context, s *Session) error {
	u, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath("User", u.id), body: patchBody(op("replace", "id", "changed-"+s.tag))})
	if err != nil {
		return err
	}
	if r.Status/100 == 2 {
		if _, _, err := s.read(ctx, "User", u.id, ""); err != nil {
			return within("after a PATCH that replaced id, the user is no longer at its id", err)
		}
		return failf(r, "replacing the readOnly id was accepted; it must be refused (RFC 7644 §3.5.2: a client MUST NOT modify a readOnly attribute, and the server SHALL answer with an error)")
	}
	return wantError(r, http.StatusBadRequest, errorOpts{scimType: scim.Mutability})
}

// groupPatchCase is one PATCH of a group with three users u[0..2].
type groupPatchCase struct {
	id, title, source string
	members           []int // initial members, by user index
	body              func(u []string) any
	want              []int // members after, by user index
	rename            bool  // the body renames the group to "<old>-renamed"
}

func groupPatchCases() []groupPatchCase {
	return []groupPatchCase{
		{id: "rfc.patch.members-add", title: "add to members appends the new members and keeps the others", source: rfcPatch + ".1",
			members: []int{0}, want: []int{0, 1, 2},
			body: func(u []string) any { return patchBody(op("add", "members", memberRefs(u[1], u[2]))) }},
		{id: "rfc.patch.members-add-existing", title: "add of a member already in the group changes nothing and succeeds", source: rfcPatch + ".1 (a value already there: no change, success)",
			members: []int{0, 1}, want: []int{0, 1},
			body: func(u []string) any { return patchBody(op("add", "members", memberRefs(u[0]))) }},
		{id: "rfc.patch.members-remove-filter", title: `remove of members[value eq "id"] removes that member only`, source: rfcPatch + ".2 (valuePath filter); " + msFlags + " (remove a group member, with the flag)",
			members: []int{0, 1}, want: []int{1},
			body: func(u []string) any { return patchBody(op("remove", "members[value eq "+quote(u[0])+"]", nil)) }},
		{id: "rfc.patch.members-remove-all", title: "remove of members without a filter removes every member", source: rfcPatch + ".2 (no filter: all values are removed)",
			members: []int{0, 1}, want: nil,
			body: func([]string) any { return patchBody(op("remove", "members", nil)) }},
		{id: "rfc.patch.members-replace", title: "replace of members sets exactly the given members", source: rfcPatch + ".3; " + oktaSCIM + " (Group Push: full push)",
			members: []int{0, 1}, want: []int{2},
			body: func(u []string) any { return patchBody(op("replace", "members", memberRefs(u[2]))) }},
		{id: "rfc.patch.group-display-name", title: "replace of displayName renames the group and keeps its members", source: rfcPatch + ".3",
			members: []int{0}, want: []int{0}, rename: true},
	}
}

func (s *Session) runGroupPatch(ctx context.Context, gc groupPatchCase) error {
	var users []string
	for range 3 {
		u, err := s.createUser(ctx, nil)
		if err != nil {
			return err
		}
		users = append(users, u.id)
	}
	var initial []string
	for _, i := range gc.members {
		initial = append(initial, users[i])
	}
	g, err := s.createGroup(ctx, initial...)
	if err != nil {
		return err
	}
	name, _ := lookupString(g.doc, "displayName")
	var body any
	if gc.rename {
		name += "-renamed"
		body = patchBody(op("replace", "displayName", name))
	} else {
		body = gc.body(users)
	}
	var want []string
	for _, i := range gc.want {
		want = append(want, users[i])
	}
	labels := map[string]string{users[0]: "u0", users[1]: "u1", users[2]: "u2"}
	return s.patchThenRead(ctx, "Group", g.id, body, func(d map[string]any, r *Response) error {
		if err := wantValue(d, r, name, "displayName"); err != nil {
			return err
		}
		got := memberIDs(d)
		if !sameSet(got, want) {
			return failf(r, "members are %s, want %s", nameIDs(got, labels), nameIDs(want, labels))
		}
		return nil
	})
}

// nameIDs renders ids with their labels for a message.
func nameIDs(ids []string, labels map[string]string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if l, ok := labels[id]; ok {
			out[i] = l + "(" + id + ")"
		} else {
			out[i] = id
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}
