package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// The Entra checks replay a provisioning run of Entra ID with the bodies of
// Microsoft's tutorial (msSCIM) and of its compliance page (msFlags), in the
// default form and the aadOptscim062020 ("flagged") form where the two
// differ, and exercise the quirks Microsoft's tests and field reports show
// Entra sends. Each check sets up what its step needs, so that one broken
// step fails one check. Payloads are written as raw JSON, exactly as the
// client sends them (key order, capitalised ops, "$ref": null).

// js encodes a string as a JSON string for raw bodies.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const entraPatchOp = `"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// entraUserBody is the tutorial's Create User body with unique values.
func (s *Session) entraUserBody() (body, userName, externalID, email string) {
	userName = "Test_User_" + s.guid()
	externalID = s.guid()
	email = "Test_User_" + s.guid() + "@testuser.com"
	body = `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": ` + js(externalID) + `,
    "userName": ` + js(userName) + `,
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": ` + js(email) + `
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`
	return body, userName, externalID, email
}

// entraUser creates a user with the tutorial's Create User body.
func (s *Session) entraUser(ctx context.Context) (*created, string, error) {
	body, userName, _, _ := s.entraUserBody()
	c, err := s.create(ctx, "User", body)
	return c, userName, err
}

// entraGroup creates a group with the tutorial's Create Group body: the
// Microsoft schema URN, a GUID-like displayName and no members key.
func (s *Session) entraGroup(ctx context.Context) (*created, string, error) {
	name := s.guid()
	c, err := s.create(ctx, "Group", `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": `+js(s.guid())+`,
    "displayName": `+js(name)+`,
    "meta": {
        "resourceType": "Group"
    }
}`)
	return c, name, err
}

func entraChecks() []Check {
	checks := []Check{
		{ID: "entra.test-connection", Title: "Test Connection: a userName filter with a random GUID answers 200 with an empty ListResponse",
			Source: msSCIM + "#getting-started (Test Connection)", Run: checkEntraTestConnection},
		{ID: "entra.group-test-connection", Title: "A displayName filter with excludedAttributes=members first answers 200 with an empty ListResponse",
			Source: msSCIM + "#get-group-by-displayname", Requires: "groups", Run: checkEntraGroupTestConnection},
		{ID: "entra.service-provider-config", Title: "/ServiceProviderConfig advertises patch and filter",
			Source: msEntraImpl + "; RFC 7643 §5", Run: checkEntraSPC},
		{ID: "entra.schemas", Title: "/Schemas lists the User, EnterpriseUser and Group schemas",
			Source: msSCIM + "#discover-schema", Run: checkEntraSchemas},
		{ID: "entra.schema-discoverable", Title: "Every attribute of Entra's default mappings is discoverable in /Schemas",
			Source: msGallery + " (Schema_Discoverability_Test)", Run: checkEntraDiscoverable},
		{ID: "entra.create-user", Title: "Create User with the enterprise URN, client meta and empty roles: 201, values kept exactly",
			Source: msSCIM + "#create-user", Run: checkEntraCreateUser},
		{ID: "entra.find-user", Title: "The created user is found by userName and by externalId",
			Source: msSCIM + "#get-user-by-query", Run: checkEntraFindUser},
		{ID: "entra.get-user", Title: "Get User by id returns what was created",
			Source: msSCIM + "#get-user", Run: checkEntraGetUser},
		{ID: "entra.patch-multi-valued", Title: "Replace of the work email and name.familyName in one PATCH",
			Source: msSCIM + "#update-user-multi-valued-properties", Run: checkEntraPatchMultiValued},
		{ID: "entra.patch-user-name", Title: "Replace of userName changes it and nothing else",
			Source: msSCIM + "#update-user-single-valued-properties", Run: checkEntraPatchUserName},
		{ID: "entra.replace-attributes.default", Title: "Replace of several attributes, one op each, including employeeNumber (default form)",
			Source: msFlags + " (replace multiple attributes, without the flag)", Run: checkEntraReplaceDefault},
		{ID: "entra.replace-attributes.flagged", Title: "Path-less replace with dotted and URN-qualified keys (aadOptscim062020 form)",
			Source: msFlags + " (replace multiple attributes, with the flag)", Run: checkEntraReplaceFlagged},
		{ID: "entra.add-attribute.default", Title: `"Add" of a single-valued string attribute (default form)`,
			Source: msFlags + " (add a single-value string attribute, without the flag)", Run: func(ctx context.Context, s *Session) error {
				return checkEntraAddNickName(ctx, s, "Add")
			}},
		{ID: "entra.add-attribute.flagged", Title: `"add" of a single-valued string attribute (aadOptscim062020 form)`,
			Source: msFlags + " (add a single-value string attribute, with the flag)", Run: func(ctx context.Context, s *Session) error {
				return checkEntraAddNickName(ctx, s, "add")
			}},
		{ID: "entra.add-missing-work-email", Title: `Add on emails[type eq "work"].value for a user without one creates it`,
			Source: "https://github.com/wireapp/wire-server/pull/5419 (Entra's Add to a missing work email)", Run: checkEntraAddWorkEmail},
		{ID: "entra.manager", Title: "Manager set by bare id, replaced, cleared with an empty Replace and with Remove; returned as {value}",
			Source: msGallery + " (SCIM_Update_Manager_Test)", Run: checkEntraManager},
		{ID: "entra.manager-reference-query", Title: `The reference check "id eq ... and manager eq ..." with attributes=id finds the user`,
			Source: msSCIM + "#handling-provisioning-and-deprovisioning-of-users (Example 4)", Run: checkEntraManagerQuery},
		{ID: "entra.disable.default", Title: `Disable with "False" (a string) and enable with "True"; the disabled user stays readable and findable`,
			Source: msFlags + " (disable users, without the flag)", Run: func(ctx context.Context, s *Session) error {
				return checkEntraDisable(ctx, s, false)
			}},
		{ID: "entra.disable.flagged", Title: "Disable with a boolean false (Operations before schemas) and enable with true",
			Source: msSCIM + "#disable-user", Run: func(ctx context.Context, s *Session) error {
				return checkEntraDisable(ctx, s, true)
			}},
		{ID: "entra.create-group", Title: "Create Group with the Microsoft schema URN, a GUID name and no members key: 201",
			Source: msSCIM + "#create-group", Requires: "groups", Run: checkEntraCreateGroup},
		{ID: "entra.get-group-excluding-members", Title: "GET of a group with members and excludedAttributes=members has no members key",
			Source: msSCIM + "#get-group", Requires: "groups", Run: checkEntraGetGroupExcluded},
		{ID: "entra.find-group-excluding-members", Title: "Group found by displayName with excludedAttributes=members, without members",
			Source: msSCIM + "#get-group-by-displayname", Requires: "groups", Run: checkEntraFindGroupExcluded},
		{ID: "entra.patch-group-name", Title: "Replace of a group's displayName answers 204 (200 tolerated) and renames it",
			Source: msSCIM + "#update-group-non-member-attributes", Requires: "groups", Run: checkEntraRenameGroup},
		{ID: "entra.add-members", Title: `Add of two members in one operation with "$ref": null`,
			Source: msSCIM + "#update-group-add-members", Requires: "groups", Run: checkEntraAddMembers},
		{ID: "entra.remove-member.default", Title: "Remove with a value array removes only the listed member; the other stays",
			Source: msSCIM + "#update-group-remove-members", Requires: "groups", Run: func(ctx context.Context, s *Session) error {
				return checkEntraRemoveMember(ctx, s, false)
			}},
		{ID: "entra.remove-member.flagged", Title: `remove of members[value eq "id"] removes only that member; the other stays`,
			Source: msFlags + " (remove a group member, with the flag)", Requires: "groups", Run: func(ctx context.Context, s *Session) error {
				return checkEntraRemoveMember(ctx, s, true)
			}},
		{ID: "entra.delete-group", Title: "Delete Group answers 204 and the group is no longer found by displayName",
			Source: msSCIM + "#delete-group", Requires: "groups", Run: checkEntraDeleteGroup},
		{ID: "entra.delete-user", Title: "Delete User answers 204; then GET is 404 and the filter finds nothing",
			Source: msSCIM + "#delete-user", Run: checkEntraDeleteUser},
		{ID: "entra.duplicate-user", Title: "Creating a user with a taken userName answers 409 with a SCIM Error",
			Source: "RFC 7644 §3.3 (409 uniqueness)", Run: checkEntraDuplicate},
		{ID: "entra.unknown-user", Title: "GET /Users/00919288221112222 answers 404 with a SCIM Error whose status is \"404\"",
			Source: msSCIM + "#get-user", Run: func(ctx context.Context, s *Session) error {
				r, err := s.get(ctx, "/Users/00919288221112222")
				if err != nil {
					return err
				}
				return wantError(r, http.StatusNotFound, errorOpts{})
			}},
		{ID: "entra.pagination", Title: "startIndex=1,6,11 with count=5 on /Users: startIndex echoed, pages distinct, totals constant",
			Source: msGallery + " (SCIM_User_Pagination_Test)", Run: checkEntraPagination},
		{ID: "entra.group-display-name-unique", Title: "A second group with the same displayName answers 409",
			Source: msEntraImpl + " (/Groups: displayName must be unique)", Requires: "groups", Run: checkEntraGroupUnique},
		{ID: "entra.q1-case-insensitive-patch", Title: "Capitalised ops (Add, Replace, Remove) and attribute names (Name.FamilyName) in one PATCH",
			Source: msEntraImpl + " (op is not case-sensitive); RFC 7643 §2.1", Run: checkEntraCaseInsensitivePatch},
		{ID: "entra.q2-boolean-string-create", Title: `POST with "active": "True" creates an active user with a boolean true`,
			Source: msTests + ` (POST with "active": "True")`, Run: checkEntraBooleanString},
		{ID: "entra.q5-member-add-variants", Title: "Member adds with display/displayName keys, an op name, a top-level id and two ops in one PATCH",
			Source: msTests + " (member adds in the group tests)", Requires: "groups", Run: checkEntraMemberVariants},
		{ID: "entra.q7-manager-in-create", Title: "A manager given as a bare id in a POST body is stored as {value: id}",
			Source: "https://github.com/Budibase/budibase/pull/17071 (Entra sends the manager as a bare id)", Run: checkEntraManagerInCreate},
		{ID: "entra.q7-legacy-manager", Title: `The legacy manager PATCH (path "manager", value [{"$ref", "value"}]) sets the manager`,
			Source: msSCIM + "#handling-provisioning-and-deprovisioning-of-users (Example 5)", Run: checkEntraLegacyManager},
		{ID: "entra.q8-remove-with-value", Title: `Remove of emails[type eq "work"].value carrying a value removes it rather than writing it`,
			Source: "https://github.com/AzureAD/SCIMReferenceCode/pull/87", Run: checkEntraRemoveWithValue},
		{ID: "entra.q9-clear-with-empty-and-null", Title: "Replace with \"\" and with null clears attributes",
			Source: msGallery + " (SCIM_Null_Update_Test)", Run: checkEntraClear},
		{ID: "entra.q9-legacy-create", Title: "The legacy create body (nulls, misspelled enterprise URN, top-level department) answers 201",
			Source: msSCIM + "#handling-provisioning-and-deprovisioning-of-users (Example 2)", Run: checkEntraLegacyCreate},
		{ID: "entra.q11-roles", Title: "Roles added with a JSON-encoded string value are kept as sent; replace sets the whole list",
			Source: msMappings + "#provisioning-a-role-to-a-scim-app", Run: checkEntraRoles},
		{ID: "entra.q12-filter-variants", Title: "Filters with %20 spaces, an unquoted value, a capitalised attribute and attributes=id",
			Source: msSCIM + "#handling-provisioning-and-deprovisioning-of-users (Example 1); " + msTests, Run: checkEntraFilterVariants},
		{ID: "entra.q13-duplicate-external-id", Title: "Two users may share an externalId; the filter finds both",
			Source: msTests + " (users sharing an externalId)", Run: checkEntraDuplicateExternalID},
		{ID: "entra.q14-repeated-updates", Title: "The same PATCH sent twice succeeds twice",
			Source: "https://github.com/MicrosoftDocs/azure-docs/issues/11784 (the manager is patched every cycle)", Run: checkEntraRepeatedUpdate},
		{ID: "entra.q16-unknown-attributes", Title: "Unknown attributes in POST and PUT are ignored, not rejected nor echoed",
			Source: msTests + ` (PUT with the misspelled "adreses")`, Run: checkEntraUnknownAttributes},
	}
	for i := range checks {
		checks[i].Profiles = in(ProfileEntra)
	}
	return checks
}

func checkEntraTestConnection(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/Users"+query("filter", "userName eq "+quote(s.guid())))
	if err != nil {
		return err
	}
	return wantEmptyList(r, true)
}

func checkEntraGroupTestConnection(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/Groups"+query("excludedAttributes", "members", "filter", "displayName eq "+quote(s.guid())))
	if err != nil {
		return err
	}
	return wantEmptyList(r, true)
}

func checkEntraSPC(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/ServiceProviderConfig")
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return err
	}
	for _, f := range []string{"patch", "filter"} {
		if b, _ := lookupBool(doc, f, "supported"); !b {
			return failf(r, "%s.supported is not true; Entra updates with PATCH and matches with filters", f)
		}
	}
	return nil
}

func checkEntraSchemas(ctx context.Context, s *Session) error {
	r, err := s.get(ctx, "/Schemas")
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	var ids []string
	for _, sc := range l.resources {
		id, _ := lookupString(sc, "id")
		ids = append(ids, strings.ToLower(id))
	}
	for _, want := range []string{scim.UserURN, scim.EnterpriseUserURN, scim.GroupURN} {
		found := false
		for _, id := range ids {
			found = found || id == strings.ToLower(want)
		}
		if !found {
			return failf(r, "/Schemas lacks %s (Microsoft's gallery tests fail group tests without the Group schema)", want)
		}
	}
	return nil
}

func checkEntraDiscoverable(ctx context.Context, s *Session) error {
	want := map[string][]string{
		scim.UserURN: {"userName", "active", "displayName", "title", "externalId", "name.givenName", "name.familyName", "name.formatted",
			"emails.value", "emails.type", "phoneNumbers.value", "phoneNumbers.type", "addresses.streetAddress", "addresses.postalCode",
			"addresses.formatted", "addresses.type", "roles.value"},
		scim.EnterpriseUserURN: {"employeeNumber", "department", "manager.value"},
		scim.GroupURN:          {"displayName", "members.value", "externalId"},
	}
	var missing []string
	for _, urn := range []string{scim.UserURN, scim.EnterpriseUserURN, scim.GroupURN} {
		sc := s.schema(ctx, urn)
		if sc == nil {
			missing = append(missing, urn)
			continue
		}
		for _, path := range want[urn] {
			if attributeDef(sc, path) == nil {
				missing = append(missing, urn+":"+path)
			}
		}
	}
	if len(missing) > 0 {
		r, _ := s.get(ctx, "/Schemas")
		return failf(r, "not discoverable in /Schemas: %s (Microsoft's Schema_Discoverability_Test fails every mapped attribute it cannot find)", strings.Join(missing, ", "))
	}
	return nil
}

func checkEntraCreateUser(ctx context.Context, s *Session) error {
	body, userName, externalID, email := s.entraUserBody()
	c, err := s.create(ctx, "User", body)
	if err != nil {
		return err
	}
	r := c.resp
	if err := wantStatus(r, http.StatusCreated); err != nil {
		return err
	}
	return firstErr(
		wantValue(c.doc, r, userName, "userName"),
		wantValue(c.doc, r, externalID, "externalId"),
		wantBool(c.doc, r, true, "active"),
		wantValue(c.doc, r, "givenName familyName", "name", "formatted"),
		wantValue(c.doc, r, "familyName", "name", "familyName"),
		wantValue(c.doc, r, "givenName", "name", "givenName"),
		wantWorkEmail(c.doc, r, email, true),
	)
}

// wantWorkEmail checks the work email's value, and that it is primary
// when primary is true.
func wantWorkEmail(doc map[string]any, r *Response, value string, primary bool) error {
	w := element(lookupList(doc, "emails"), "type", "work")
	if w == nil {
		return failf(r, "there is no work email; emails are %s, want %q", show(lookupList(doc, "emails")), value)
	}
	if v, _ := lookupString(w, "value"); v != value {
		return failf(r, "the work email is %q, want %q exactly as sent", v, value)
	}
	if p, _ := lookupBool(w, "primary"); primary && !p {
		return failf(r, "the work email lost primary: %s", show(w))
	}
	return nil
}

func checkEntraFindUser(ctx context.Context, s *Session) error {
	body, userName, externalID, _ := s.entraUserBody()
	c, err := s.create(ctx, "User", body)
	if err != nil {
		return err
	}
	if _, err := s.findOne(ctx, "User", "userName eq "+quote(userName), c.id); err != nil {
		return err
	}
	_, err = s.findOne(ctx, "User", "externalId eq "+quote(externalID), c.id)
	return err
}

func checkEntraGetUser(ctx context.Context, s *Session) error {
	body, userName, externalID, email := s.entraUserBody()
	c, err := s.create(ctx, "User", body)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	return firstErr(
		wantValue(doc, r, userName, "userName"),
		wantValue(doc, r, externalID, "externalId"),
		wantBool(doc, r, true, "active"),
		wantValue(doc, r, "familyName", "name", "familyName"),
		wantWorkEmail(doc, r, email, true),
		checkMeta(doc, r, "User", c.id),
	)
}

func checkEntraPatchMultiValued(ctx context.Context, s *Session) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	email := "updatedEmail-" + s.tag + "@microsoft.com"
	body := `{
    ` + entraPatchOp + `,
    "Operations": [
            {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": ` + js(email) + `
            },
            {
            "op": "Replace",
            "path": "name.familyName",
            "value": "updatedFamilyName"
            }
    ]
}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		if n := len(lookupList(d, "emails")); n != 1 {
			return failf(r, "there are %d emails after replacing the work email's value, want 1: %s", n, show(lookupList(d, "emails")))
		}
		return firstErr(wantWorkEmail(d, r, email, true), wantValue(d, r, "updatedFamilyName", "name", "familyName"))
	})
}

func checkEntraPatchUserName(ctx context.Context, s *Session) error {
	body, _, externalID, email := s.entraUserBody()
	c, err := s.create(ctx, "User", body)
	if err != nil {
		return err
	}
	newName := s.guid() + "@testuser.com"
	patch := `{
    ` + entraPatchOp + `,
    "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": ` + js(newName) + `
    }]
}`
	return s.patchThenRead(ctx, "User", c.id, patch, func(d map[string]any, r *Response) error {
		return firstErr(wantValue(d, r, newName, "userName"), wantValue(d, r, externalID, "externalId"), wantWorkEmail(d, r, email, true))
	})
}

func checkEntraReplaceDefault(ctx context.Context, s *Session) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	email := "TestBcwqnm-" + s.tag + "@test.microsoft.com"
	body := `{
  ` + entraPatchOp + `,
  "Operations": [
    { "op": "Replace", "path": "displayName", "value": "Pvlo" },
    { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": ` + js(email) + ` },
    { "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
    { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
    { "op": "Replace", "path": "externalId", "value": "Eqpj" },
    { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }
  ]
}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		return firstErr(
			wantValue(d, r, "Pvlo", "displayName"),
			wantWorkEmail(d, r, email, false),
			wantValue(d, r, "Gtfd", "name", "givenName"),
			wantValue(d, r, "Pkqf", "name", "familyName"),
			wantValue(d, r, "Eqpj", "externalId"),
			wantValue(d, r, "Eqpj", scim.EnterpriseUserURN, "employeeNumber"),
		)
	})
}

func checkEntraReplaceFlagged(ctx context.Context, s *Session) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	email := "TestMhvaes-" + s.tag + "@test.microsoft.com"
	body := `{
  ` + entraPatchOp + `,
  "Operations": [
    { "op": "replace", "path": "emails[type eq \"work\"].value", "value": ` + js(email) + ` },
    { "op": "replace",
      "value": {
        "displayName": "Bjfe",
        "name.givenName": "Kkom",
        "name.familyName": "Unua",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
      } }
  ]
}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		if v, ok := lookup(d, "name.givenName"); ok {
			return failf(r, `the dotted key was stored as an attribute literally named "name.givenName" (%s) instead of name.givenName`, show(v))
		}
		return firstErr(
			wantValue(d, r, "Bjfe", "displayName"),
			wantWorkEmail(d, r, email, false),
			wantValue(d, r, "Kkom", "name", "givenName"),
			wantValue(d, r, "Unua", "name", "familyName"),
			wantValue(d, r, "Aklq", scim.EnterpriseUserURN, "employeeNumber"),
		)
	})
}

func checkEntraAddNickName(ctx context.Context, s *Session, opName string) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	body := `{
  ` + entraPatchOp + `,
  "Operations": [ { "op": ` + js(opName) + `, "path": "nickName", "value": "Babs" } ]
}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		return wantValue(d, r, "Babs", "nickName")
	})
}

func checkEntraAddWorkEmail(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	email := "boss-" + s.tag + "@contoso.com"
	body := `{` + entraPatchOp + `,"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":` + js(email) + `}]}`
	r, err := s.do(ctx, request{method: http.MethodPatch, path: resourcePath("User", c.id), body: body})
	if err != nil {
		return err
	}
	if r.Status == http.StatusBadRequest {
		return failf(r, "the Add was refused; with no work email the server must create {type: work, value} (a 400 noTarget breaks Entra)")
	}
	if err := wantStatus(r, http.StatusOK, http.StatusNoContent); err != nil {
		return err
	}
	doc, gr, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	return wantWorkEmail(doc, gr, email, false)
}

const managerPath = scim.EnterpriseUserURN + ":manager"

// wantManager checks the enterprise manager is {"value": id}, or absent
// when id is "".
func wantManager(d map[string]any, r *Response, id string) error {
	if id == "" {
		return wantAbsent(d, r, " after clearing it", scim.EnterpriseUserURN, "manager")
	}
	m, ok := lookup(d, scim.EnterpriseUserURN, "manager")
	if !ok {
		return failf(r, "the enterprise manager is absent, want {\"value\": %q}", id)
	}
	if _, isObject := m.(map[string]any); !isObject {
		return failf(r, "the manager is %s; return it as a complex object {\"value\": id} (Entra fails to read other forms)", show(m))
	}
	return wantValue(d, r, id, scim.EnterpriseUserURN, "manager", "value")
}

func managerOp(opName string, value any) string {
	v, _ := json.Marshal(value)
	if value == nil {
		return `{` + entraPatchOp + `,"Operations":[{"op":` + js(opName) + `,"path":"` + managerPath + `"}]}`
	}
	return `{` + entraPatchOp + `,"Operations":[{"op":` + js(opName) + `,"path":"` + managerPath + `","value":` + string(v) + `}]}`
}

func checkEntraManager(ctx context.Context, s *Session) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	m1, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	m2, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	steps := []struct {
		what, body, want string
	}{
		{"Add with a bare id", managerOp("Add", m1.id), m1.id},
		{"Replace with another id", managerOp("Replace", m2.id), m2.id},
		{`Replace with ""`, managerOp("Replace", ""), ""},
		{"Add again", managerOp("Add", m1.id), m1.id},
		{"Remove", managerOp("Remove", nil), ""},
	}
	for _, st := range steps {
		err := s.patchThenRead(ctx, "User", c.id, st.body, func(d map[string]any, r *Response) error {
			return wantManager(d, r, st.want)
		})
		if err != nil {
			return within("manager "+st.what, err)
		}
	}
	return nil
}

func checkEntraManagerQuery(ctx context.Context, s *Session) error {
	c, _, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	m, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := s.patch(ctx, "User", c.id, managerOp("Add", m.id)); err != nil {
		return within("setting the manager", err)
	}
	l, err := s.findOne(ctx, "User", "id eq "+quote(c.id)+" and manager eq "+quote(m.id), c.id, "attributes", "id")
	if err != nil {
		return err
	}
	return projected(l.resources[0], l.resp, "attributes=id", []string{"id"}, [][]string{{"userName"}, {"emails"}})
}

func checkEntraDisable(ctx context.Context, s *Session, flagged bool) error {
	c, userName, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	disable := `{
  ` + entraPatchOp + `,
  "Operations": [
    { "op": "Replace", "path": "active", "value": "False" }
  ]
}`
	enable := `{` + entraPatchOp + `,"Operations":[{"op":"Replace","path":"active","value":"True"}]}`
	if flagged {
		disable = `{
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": false
        }
    ],
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ]
}`
		enable = `{` + entraPatchOp + `,"Operations":[{"op":"replace","path":"active","value":true}]}`
	}
	err = s.patchThenRead(ctx, "User", c.id, disable, func(d map[string]any, r *Response) error {
		return wantBool(d, r, false, "active")
	})
	if err != nil {
		return within("disable", err)
	}
	l, err := s.findOne(ctx, "User", "userName eq "+quote(userName), c.id)
	if err != nil {
		return within("a disabled user must still be found by queries", err)
	}
	if err := wantBool(l.resources[0], l.resp, false, "active"); err != nil {
		return err
	}
	return within("enable", s.patchThenRead(ctx, "User", c.id, enable, func(d map[string]any, r *Response) error {
		return wantBool(d, r, true, "active")
	}))
}

func checkEntraCreateGroup(ctx context.Context, s *Session) error {
	c, name, err := s.entraGroup(ctx)
	if err != nil {
		return err
	}
	r := c.resp
	if err := wantStatus(r, http.StatusCreated); err != nil {
		return err
	}
	if err := wantValue(c.doc, r, name, "displayName"); err != nil {
		return err
	}
	if ms := memberIDs(c.doc); len(ms) != 0 {
		return failf(r, "the new group has members %s; none were sent", show(ms))
	}
	return checkMeta(c.doc, r, "Group", c.id)
}

// entraGroupWithMembers creates a group and adds n new users to it with
// Entra's Add (so that the test does not depend on members in POST).
func (s *Session) entraGroupWithMembers(ctx context.Context, n int) (*created, string, []string, error) {
	g, name, err := s.entraGroup(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	var ids []string
	var refs []string
	for range n {
		u, err := s.createUser(ctx, nil)
		if err != nil {
			return nil, "", nil, err
		}
		ids = append(ids, u.id)
		refs = append(refs, `{"$ref": null, "value": `+js(u.id)+`}`)
	}
	if n > 0 {
		body := `{` + entraPatchOp + `,"Operations":[{"op":"Add","path":"members","value":[` + strings.Join(refs, ",") + `]}]}`
		if _, err := s.patch(ctx, "Group", g.id, body); err != nil {
			return nil, "", nil, within("adding members", err)
		}
	}
	return g, name, ids, nil
}

func checkEntraGetGroupExcluded(ctx context.Context, s *Session) error {
	g, name, _, err := s.entraGroupWithMembers(ctx, 1)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "Group", g.id, query("excludedAttributes", "members"))
	if err != nil {
		return err
	}
	if _, has := lookup(doc, "members"); has {
		return failf(r, "the group has a members key although excludedAttributes=members was asked for")
	}
	return wantValue(doc, r, name, "displayName")
}

func checkEntraFindGroupExcluded(ctx context.Context, s *Session) error {
	g, name, _, err := s.entraGroupWithMembers(ctx, 1)
	if err != nil {
		return err
	}
	r, err := s.get(ctx, "/Groups"+query("excludedAttributes", "members", "filter", "displayName eq "+quote(name)))
	if err != nil {
		return err
	}
	l, err := wantList(r)
	if err != nil {
		return err
	}
	if l.total != 1 || len(l.resources) != 1 || l.ids()[0] != g.id {
		return failf(r, "the displayName filter found %s, want only %s", show(l.ids()), g.id)
	}
	if _, has := lookup(l.resources[0], "members"); has {
		return failf(r, "the group in the list has a members key although excludedAttributes=members was asked for")
	}
	return nil
}

func checkEntraRenameGroup(ctx context.Context, s *Session) error {
	g, name, members, err := s.entraGroupWithMembers(ctx, 1)
	if err != nil {
		return err
	}
	name += "updatedDisplayName"
	body := `{
    ` + entraPatchOp + `,
    "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": ` + js(name) + `
    }]
}`
	return s.patchThenRead(ctx, "Group", g.id, body, func(d map[string]any, r *Response) error {
		return firstErr(wantValue(d, r, name, "displayName"), wantMembers(d, r, members, " (a rename must keep the members)"))
	})
}

func checkEntraAddMembers(ctx context.Context, s *Session) error {
	g, _, _, err := s.entraGroupWithMembers(ctx, 0)
	if err != nil {
		return err
	}
	u1, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	u2, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	body := `{
    ` + entraPatchOp + `,
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": ` + js(u1.id) + `
        }, {
            "$ref": null,
            "value": ` + js(u2.id) + `
        }]
    }]
}`
	return s.patchThenRead(ctx, "Group", g.id, body, func(d map[string]any, r *Response) error {
		return wantMembers(d, r, []string{u1.id, u2.id}, "")
	})
}

func checkEntraRemoveMember(ctx context.Context, s *Session, flagged bool) error {
	g, _, ids, err := s.entraGroupWithMembers(ctx, 2)
	if err != nil {
		return err
	}
	body := `{
    ` + entraPatchOp + `,
    "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": ` + js(ids[0]) + `
        }]
    }]
}`
	if flagged {
		body = `{
  ` + entraPatchOp + `,
  "Operations": [
    { "op": "remove", "path": ` + js("members[value eq "+quote(ids[0])+"]") + ` }
  ]
}`
	}
	return s.patchThenRead(ctx, "Group", g.id, body, func(d map[string]any, r *Response) error {
		got := memberIDs(d)
		if len(got) == 0 {
			return failf(r, "every member is gone; only %s was to be removed and %s must stay (a Remove carrying a value array removes only the listed members)", ids[0], ids[1])
		}
		return wantMembers(d, r, ids[1:], "")
	})
}

func checkEntraDeleteGroup(ctx context.Context, s *Session) error {
	g, name, err := s.entraGroup(ctx)
	if err != nil {
		return err
	}
	if err := s.deleteResource(ctx, "Group", g.id); err != nil {
		return err
	}
	r, err := s.get(ctx, "/Groups"+query("filter", "displayName eq "+quote(name)))
	if err != nil {
		return err
	}
	return within("the deleted group by displayName", wantEmptyList(r, false))
}

func checkEntraDeleteUser(ctx context.Context, s *Session) error {
	c, userName, err := s.entraUser(ctx)
	if err != nil {
		return err
	}
	if err := s.deleteResource(ctx, "User", c.id); err != nil {
		return err
	}
	r, err := s.get(ctx, resourcePath("User", c.id))
	if err != nil {
		return err
	}
	if err := within("GET after DELETE", wantError(r, http.StatusNotFound, errorOpts{})); err != nil {
		return err
	}
	r, err = s.get(ctx, "/Users"+query("filter", "userName eq "+quote(userName)))
	if err != nil {
		return err
	}
	return within("the deleted user by userName", wantEmptyList(r, false))
}

func checkEntraDuplicate(ctx context.Context, s *Session) error {
	body, _, _, _ := s.entraUserBody()
	if _, err := s.create(ctx, "User", body); err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Users", body: body})
	if err != nil {
		return err
	}
	trackIfCreated(s, "User", r)
	return wantError(r, http.StatusConflict, errorOpts{})
}

func checkEntraPagination(ctx context.Context, s *Session) error {
	if _, err := s.pageFixture(ctx); err != nil {
		return err
	}
	seen := map[string]bool{}
	total := -1
	for _, start := range []int{1, 6, 11} {
		l, err := s.page(ctx, "", start, 5)
		if err != nil {
			return err
		}
		if total >= 0 && l.total != total {
			return failf(l.resp, "totalResults changed from %d to %d between pages", total, l.total)
		}
		total = l.total
		if l.total < pageFixtureSize {
			return failf(l.resp, "totalResults is %d although at least %d users exist", l.total, pageFixtureSize)
		}
		if l.startIndex != start {
			return failf(l.resp, "startIndex is %s, want %d: Microsoft's pagination test requires page*5+1", orAbsent(l.startIndex), start)
		}
		if len(l.resources) > 5 || len(l.resources) == 0 {
			return failf(l.resp, "the page at startIndex %d has %d resources, want 1 to 5", start, len(l.resources))
		}
		for _, id := range l.ids() {
			if seen[id] {
				return failf(l.resp, "resource %s appears on two pages (the order must be stable)", id)
			}
			seen[id] = true
		}
	}
	return nil
}

func checkEntraGroupUnique(ctx context.Context, s *Session) error {
	_, name, err := s.entraGroup(ctx)
	if err != nil {
		return err
	}
	r, err := s.do(ctx, request{method: http.MethodPost, path: "/Groups", body: map[string]any{"schemas": []any{scim.GroupURN}, "displayName": name}})
	if err != nil {
		return err
	}
	trackIfCreated(s, "Group", r)
	return wantError(r, http.StatusConflict, errorOpts{})
}

func checkEntraCaseInsensitivePatch(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, map[string]any{"displayName": "Gone", "title": "Old", "name": map[string]any{"givenName": "G", "familyName": "F"}})
	if err != nil {
		return err
	}
	body := `{` + entraPatchOp + `,"Operations":[
		{"op":"Add","path":"nickName","value":"Nick"},
		{"op":"Replace","path":"Name.FamilyName","value":"Upper"},
		{"op":"Replace","path":"title","value":"New"},
		{"op":"Remove","path":"displayName"}]}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		if m, ok := lookup(d, "name"); ok {
			if mm, _ := m.(map[string]any); mm != nil {
				n := 0
				for k := range mm {
					if strings.EqualFold(k, "familyName") {
						n++
					}
				}
				if n > 1 {
					return failf(r, "name has both familyName and FamilyName: %s; attribute names are case-insensitive (RFC 7643 §2.1)", show(mm))
				}
			}
		}
		return firstErr(
			wantValue(d, r, "Nick", "nickName"),
			wantValue(d, r, "Upper", "name", "familyName"),
			wantValue(d, r, "G", "name", "givenName"),
			wantValue(d, r, "New", "title"),
			wantAbsent(d, r, "", "displayName"),
		)
	})
}

func checkEntraBooleanString(ctx context.Context, s *Session) error {
	c, err := s.create(ctx, "User", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(s.userName("emp"))+`,"active":"True"}`)
	if err != nil {
		return err
	}
	if err := wantStatus(c.resp, http.StatusCreated); err != nil {
		return err
	}
	return wantBool(c.doc, c.resp, true, "active")
}

func checkEntraMemberVariants(ctx context.Context, s *Session) error {
	g, _, _, err := s.entraGroupWithMembers(ctx, 0)
	if err != nil {
		return err
	}
	u1, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	u2, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	body := `{"id":` + js(g.id) + `,"Operations":[
		{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new User","value":` + js(u1.id) + `}]},
		{"op":"Add","path":"members","value":[{"display":"VP","value":` + js(u2.id) + `,"$ref":null}]}],
		"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`
	return s.patchThenRead(ctx, "Group", g.id, body, func(d map[string]any, r *Response) error {
		return wantMembers(d, r, []string{u1.id, u2.id}, "")
	})
}

func checkEntraManagerInCreate(ctx context.Context, s *Session) error {
	m, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	c, err := s.create(ctx, "User", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":`+js(s.userName("mgd"))+`,"active":true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":`+js(m.id)+`}}`)
	if err != nil {
		return err
	}
	doc, r, err := s.read(ctx, "User", c.id, "")
	if err != nil {
		return err
	}
	return wantManager(doc, r, m.id)
}

func checkEntraLegacyManager(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	m, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"Add","path":"manager","value":[{"$ref":` + js(s.base+"/Users/"+m.id) + `,"value":` + js(m.id) + `}]}]}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		return wantManager(d, r, m.id)
	})
}

func checkEntraRemoveWithValue(ctx context.Context, s *Session) error {
	old := "old-" + s.tag + "@contoso.com"
	c, err := s.createUser(ctx, map[string]any{"emails": []any{map[string]any{"type": "work", "value": old, "primary": true}}})
	if err != nil {
		return err
	}
	body := `{` + entraPatchOp + `,"Operations":[{"op":"Remove","path":"emails[type eq \"work\"].value","value":` + js(old) + `}]}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		for _, v := range values(lookupList(d, "emails"), "value") {
			if v == old {
				return failf(r, "the work email %q is still there after Remove", old)
			}
		}
		return nil
	})
}

func checkEntraClear(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, map[string]any{"title": "Title", "nickName": "Nick", "displayName": "Display"})
	if err != nil {
		return err
	}
	body := `{` + entraPatchOp + `,"Operations":[{"op":"Replace","path":"title","value":""},{"op":"Replace","path":"nickName","value":null}]}`
	return s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
		return firstErr(wantAbsent(d, r, ` after Replace with ""`, "title"), wantAbsent(d, r, " after Replace with null", "nickName"), wantValue(d, r, "Display", "displayName"))
	})
}

func checkEntraLegacyCreate(ctx context.Context, s *Session) error {
	userName := s.userName("jyoung")
	c, err := s.create(ctx, "User", `{
   "schemas":
   [
     "urn:ietf:params:scim:schemas:core:2.0:User",
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
   "externalId":"jyoung",
   "userName":`+js(userName)+`,
   "active":true,
   "addresses":null,
   "displayName":"Joy Young",
   "emails": [
     {
       "type":"work",
       "value":"jyoung@Contoso.com",
       "primary":true}],
   "meta": {
     "resourceType":"User"},
    "name":{
     "familyName":"Young",
     "givenName":"Joy"},
   "phoneNumbers":null,
   "preferredLanguage":null,
   "title":null,
   "department":null,
   "manager":null}`)
	if err != nil {
		return err
	}
	if err := wantStatus(c.resp, http.StatusCreated); err != nil {
		return err
	}
	return firstErr(wantValue(c.doc, c.resp, userName, "userName"), wantValue(c.doc, c.resp, "Young", "name", "familyName"),
		wantWorkEmail(c.doc, c.resp, "jyoung@Contoso.com", true), wantAbsent(c.doc, c.resp, " (it was sent as null)", "title"))
}

func checkEntraRoles(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	role := `{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}`
	add := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"Add","path":"roles","value":[{"value":` + js(role) + `}]}]}`
	err = s.patchThenRead(ctx, "User", c.id, add, func(d map[string]any, r *Response) error {
		if got := values(lookupList(d, "roles"), "value"); len(got) != 1 || got[0] != role {
			return failf(r, "roles values are %s, want the one string sent, unchanged: %s", show(got), role)
		}
		return nil
	})
	if err != nil {
		return within("Add roles (SingleAppRoleAssignment)", err)
	}
	replace := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[{"op":"replace","path":"roles","value":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"},{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Test","value":"Test"}]}]}`
	return within("replace roles (AssertiveAppRoleAssignmentsComplex)", s.patchThenRead(ctx, "User", c.id, replace, func(d map[string]any, r *Response) error {
		if got := values(lookupList(d, "roles"), "value"); !sameSet(got, []string{"User", "Test"}) {
			return failf(r, "roles values are %s, want exactly [User Test]", show(got))
		}
		return nil
	}))
}

func checkEntraFilterVariants(ctx context.Context, s *Session) error {
	ext := "jyoung" + s.tag
	c, err := s.createUser(ctx, map[string]any{"externalId": ext, "displayName": "Bob Is Amazing " + s.tag})
	if err != nil {
		return err
	}
	userName, _ := lookupString(c.doc, "userName")
	variants := []struct{ what, path string }{
		{"spaces as %20", "/Users?filter=" + escape20("userName eq "+quote(userName))},
		{"an unquoted value (Microsoft's tutorial, Example 1)", "/Users?filter=externalId+eq+" + ext},
		{"a capitalised attribute name, + for spaces, trailing slash (Microsoft's reference tests)", "/Users/?filter=DisplayName+eq+%22Bob+Is+Amazing+" + s.tag + "%22"},
	}
	for _, v := range variants {
		r, err := s.get(ctx, v.path)
		if err != nil {
			return err
		}
		l, err := wantList(r)
		if err != nil {
			return within("a filter with "+v.what, err)
		}
		if l.total != 1 || len(l.resources) != 1 || l.ids()[0] != c.id {
			return failf(r, "a filter with %s found %s, want only %s", v.what, show(l.ids()), c.id)
		}
	}
	l, err := s.findOne(ctx, "User", "userName eq "+quote(userName), c.id, "attributes", "id")
	if err != nil {
		return err
	}
	return projected(l.resources[0], l.resp, "attributes=id", []string{"id"}, [][]string{{"userName"}, {"displayName"}})
}

func checkEntraDuplicateExternalID(ctx context.Context, s *Session) error {
	ext := s.guid()
	a, err := s.createUser(ctx, map[string]any{"externalId": ext})
	if err != nil {
		return err
	}
	b, err := s.create(ctx, "User", s.newUserBody(map[string]any{"externalId": ext}))
	if err != nil {
		return within("a second user with the same externalId must be created (externalId is not unique)", err)
	}
	l, err := s.filterQuery(ctx, "User", "externalId eq "+quote(ext))
	if err != nil {
		return err
	}
	if !sameSet(l.ids(), []string{a.id, b.id}) {
		return failf(l.resp, "externalId eq found %s, want both %s and %s", show(l.ids()), a.id, b.id)
	}
	return nil
}

func checkEntraRepeatedUpdate(ctx context.Context, s *Session) error {
	c, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	m, err := s.createUser(ctx, nil)
	if err != nil {
		return err
	}
	body := `{` + entraPatchOp + `,"Operations":[{"op":"Replace","path":"title","value":"Same"},{"op":"Add","path":"` + managerPath + `","value":` + js(m.id) + `}]}`
	for i := range 2 {
		err := s.patchThenRead(ctx, "User", c.id, body, func(d map[string]any, r *Response) error {
			return firstErr(wantValue(d, r, "Same", "title"), wantManager(d, r, m.id))
		})
		if err != nil {
			return within(fmt.Sprintf("sending the PATCH for the %s time", []string{"first", "second"}[i]), err)
		}
	}
	return nil
}

func checkEntraUnknownAttributes(ctx context.Context, s *Session) error {
	userName := s.userName("typo")
	c, err := s.create(ctx, "User", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+js(userName)+`,
		"adreses":[{"type":"work","country":"Germany"}],"favouriteColour":"teal"}`)
	if err != nil {
		return err
	}
	if err := wantStatus(c.resp, http.StatusCreated); err != nil {
		return err
	}
	for _, k := range []string{"adreses", "favouriteColour"} {
		if _, has := lookup(c.doc, k); has {
			return failf(c.resp, "the unknown attribute %q was stored and echoed; it must be ignored", k)
		}
	}
	r, err := s.do(ctx, request{method: http.MethodPut, path: resourcePath("User", c.id), body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":` + js(c.id) + `,"userName":` + js(userName) + `,
		"adreses":[{"type":"work","country":"Germany"}]}`})
	if err != nil {
		return err
	}
	doc, err := wantJSON(r, http.StatusOK)
	if err != nil {
		return within("PUT with a misspelled attribute", err)
	}
	if _, has := lookup(doc, "adreses"); has {
		return failf(r, `the misspelled "adreses" was stored by PUT`)
	}
	return nil
}
