package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// TestEntraReplay replays a provisioning run of Microsoft Entra ID with the
// request bodies of https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
// and https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility,
// once with the default (unflagged) payloads and once with the
// aadOptscim062020 ones.
func TestEntraReplay(t *testing.T) {
	t.Parallel()
	for _, flagged := range []bool{false, true} {
		t.Run(fmt.Sprintf("aadOptscim062020=%v", flagged), func(t *testing.T) {
			t.Parallel()
			replayEntra(t, newTestServer(t), flagged)
		})
	}
}

func replayEntra(t *testing.T, ts *testServer, flagged bool) {
	filterQuery := func(f string) string { return url.QueryEscape(f) }

	// 1. Test Connection: a random GUID as the matching attribute.
	r := ts.do(t, "GET", "/Users?filter="+filterQuery(`userName eq "`+randomGUID(t)+`"`), "")
	r.wantStatus(t, "test connection", 200)
	r.expect(t, "test connection", map[string]any{"schemas.0": "urn:ietf:params:scim:api:messages:2.0:ListResponse", "totalResults": 0, "startIndex": 1, "itemsPerPage": 0})
	if res, ok := r.Body["Resources"].([]any); !ok || len(res) != 0 {
		t.Fatalf("Resources = %v, want []", r.Body["Resources"])
	}
	// 2. Groups by displayName, members excluded.
	r = ts.do(t, "GET", "/Groups?excludedAttributes=members&filter="+filterQuery(`displayName eq "`+randomGUID(t)+`"`), "")
	r.wantStatus(t, "group test connection", 200)
	r.expect(t, "group test connection", map[string]any{"totalResults": 0})
	// 3. Schema discovery.
	r = ts.do(t, "GET", "/Schemas", "")
	r.wantStatus(t, "schemas", 200)
	var ids []string
	for _, s := range r.Body["Resources"].([]any) {
		ids = append(ids, s.(map[string]any)["id"].(string))
	}
	for _, want := range []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseURN, "urn:ietf:params:scim:schemas:core:2.0:Group"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("/Schemas lacks %s: %v", want, ids)
		}
	}

	// 4. Create User with the enterprise URN, client meta and empty roles.
	userName := "Test_User_" + randomGUID(t)
	r = ts.do(t, "POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "`+userName+`",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": []}`)
	r.wantStatus(t, "create user", 201)
	id, _ := r.Body["id"].(string)
	if !guidPattern.MatchString(id) {
		t.Fatalf("created id %q is not a server-assigned UUID", id)
	}
	r.expect(t, "create user", map[string]any{
		"userName": userName, "active": true, "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"emails.0.value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", "emails.0.type": "work", "emails.0.primary": true,
		"name.givenName": "givenName", "meta.resourceType": "User", "roles": absent,
	})
	if loc := r.Header.Get("Location"); loc != ts.URL+"/Users/"+id {
		t.Errorf("Location %q, want %q", loc, ts.URL+"/Users/"+id)
	}
	if r.Header.Get("ETag") == "" || r.Header.Get("ETag") != r.Body["meta"].(map[string]any)["version"] {
		t.Errorf("ETag %q does not equal meta.version %v", r.Header.Get("ETag"), r.Body["meta"])
	}

	// 5. Find by userName — case-insensitively, as RFC 7643 says userName is caseExact=false.
	r = ts.do(t, "GET", "/Users?filter="+filterQuery(`userName eq "`+strings.ToUpper(userName)+`"`), "")
	r.wantStatus(t, "get by userName", 200)
	r.expect(t, "get by userName", map[string]any{"totalResults": 1, "Resources.0.id": id, "itemsPerPage": 1})
	// 6. Get by id.
	ts.do(t, "GET", "/Users/"+id, "").expect(t, "get user", map[string]any{"id": id, "userName": userName, "active": true})

	// 7. Update multi-valued attributes.
	r = ts.do(t, "PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [
			{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
			{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]}`)
	r.wantStatus(t, "patch multi-valued", 200)
	r.expect(t, "patch multi-valued", map[string]any{"emails.0.value": "updatedEmail@microsoft.com", "emails.0.primary": true, "name.familyName": "updatedFamilyName"})
	// The work-email filter Entra uses for matching finds it.
	r = ts.do(t, "GET", "/Users?filter="+filterQuery(`emails[type eq "work"].value eq "updatedemail@microsoft.com"`), "")
	r.expect(t, "filter by work email", map[string]any{"totalResults": 1, "Resources.0.id": id})

	// 8. Update userName.
	userName = "5b50642d-" + randomGUID(t) + "@testuser.com"
	ts.do(t, "PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [{"op": "Replace","path": "userName","value": "`+userName+`"}]}`).
		expect(t, "patch userName", map[string]any{"userName": userName})

	// 9. Replace several attributes.
	if flagged {
		r = ts.do(t, "PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [
			{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
			{ "op": "replace", "value": { "displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
			  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq" } }]}`)
	} else {
		r = ts.do(t, "PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [
			{ "op": "Replace", "path": "displayName", "value": "Bjfe" },
			{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
			{ "op": "Replace", "path": "name.givenName", "value": "Kkom" },
			{ "op": "Replace", "path": "name.familyName", "value": "Unua" },
			{ "op": "Replace", "path": "externalId", "value": "Eqpj" },
			{ "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Aklq" }]}`)
	}
	r.wantStatus(t, "replace several", 200)
	ts.do(t, "GET", "/Users/"+id, "").expect(t, "after replace several", map[string]any{
		"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua", "emails.0.value": "TestMhvaes@test.microsoft.com",
		"[" + enterpriseURN + "].employeeNumber": "Aklq",
	})

	// 10. Add a work email to a user that has none.
	r = ts.do(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"manager-`+randomGUID(t)+`","active":true}`)
	r.wantStatus(t, "create manager", 201)
	managerID := r.Body["id"].(string)
	ts.do(t, "PATCH", "/Users/"+managerID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"boss@contoso.com"}]}`).
		expect(t, "add missing work email", map[string]any{"emails.0.type": "work", "emails.0.value": "boss@contoso.com"})

	// 11. Manager: add as a bare id, replace, clear.
	managerPath := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
	ts.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"`+managerPath+`","value":"`+managerID+`"}]}`).
		expect(t, "add manager", map[string]any{"[" + enterpriseURN + "].manager.value": managerID})
	r = ts.do(t, "GET", "/Users?attributes=id&filter="+filterQuery(`id eq "`+id+`" and manager eq "`+managerID+`"`), "")
	r.expect(t, "manager reference check", map[string]any{"totalResults": 1, "Resources.0.id": id, "Resources.0.userName": absent})
	ts.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"`+managerPath+`","value":"other-manager"}]}`).
		expect(t, "replace manager", map[string]any{"[" + enterpriseURN + "].manager.value": "other-manager"})
	ts.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"`+managerPath+`","value":""}]}`).
		expect(t, "clear manager", map[string]any{"[" + enterpriseURN + "].manager": absent, "[" + enterpriseURN + "].employeeNumber": "Aklq"})

	// 12. Disable and re-enable; a disabled user is still found (soft delete).
	disable := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`
	if flagged {
		disable = `{"Operations":[{"op":"replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`
	}
	ts.do(t, "PATCH", "/Users/"+id, disable).expect(t, "disable", map[string]any{"active": false})
	ts.do(t, "GET", "/Users?filter="+filterQuery(`userName eq "`+userName+`"`), "").expect(t, "disabled still found", map[string]any{"totalResults": 1, "Resources.0.active": false})
	ts.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":true}]}`).
		expect(t, "enable", map[string]any{"active": true})

	// 13. Create a group with the Microsoft schema URN and no members.
	groupName := randomGUID(t)
	r = ts.do(t, "POST", "/Groups", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "`+groupName+`", "meta": {"resourceType": "Group"}}`)
	r.wantStatus(t, "create group", 201)
	gid := r.Body["id"].(string)
	r.expect(t, "create group", map[string]any{"displayName": groupName, "meta.resourceType": "Group", "schemas.0": "urn:ietf:params:scim:schemas:core:2.0:Group"})
	// 14. Get it without members.
	r = ts.do(t, "GET", "/Groups/"+gid+"?excludedAttributes=members", "")
	r.wantStatus(t, "get group", 200)
	r.expect(t, "get group", map[string]any{"members": absent, "displayName": groupName, "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"})
	// 15. Rename.
	groupName += "updatedDisplayName"
	ts.do(t, "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [{"op": "Replace","path": "displayName","value": "`+groupName+`"}]}`).
		wantStatus(t, "rename group", 204)
	// 16. Add two members in one op, with "$ref": null.
	ts.do(t, "PATCH", "/Groups/"+gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [{"op": "Add","path": "members",
		"value": [{"$ref": null, "value": "`+id+`"}, {"$ref": null, "value": "`+managerID+`"}]}]}`).wantStatus(t, "add members", 204)
	ts.do(t, "GET", "/Groups?excludedAttributes=members&filter="+filterQuery(`displayName eq "`+groupName+`"`), "").
		expect(t, "group by name", map[string]any{"totalResults": 1, "Resources.0.id": gid, "Resources.0.members": absent})
	ts.do(t, "GET", "/Groups?filter="+filterQuery(`members[value eq "`+id+`"]`), "").
		expect(t, "group by member", map[string]any{"totalResults": 1, "Resources.0.id": gid})
	ts.do(t, "GET", "/Users/"+id, "").expect(t, "user's groups", map[string]any{"groups.0.value": gid, "groups.0.display": groupName})
	// 17/18. Remove one member: a value array (default) or a filter (flagged); the other stays.
	remove := `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [{"op": "Remove","path": "members","value": [{"$ref": null,"value": "` + managerID + `"}]}]}`
	if flagged {
		remove = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations": [{"op": "remove","path": "members[value eq \"` + managerID + `\"]"}]}`
	}
	ts.do(t, "PATCH", "/Groups/"+gid, remove).wantStatus(t, "remove member", 204)
	r = ts.do(t, "GET", "/Groups/"+gid, "")
	r.expect(t, "after removing one member", map[string]any{"members.0.value": id, "members.0.type": "User", "members.1": absent})

	// 19. Delete the group.
	ts.do(t, "DELETE", "/Groups/"+gid, "").wantStatus(t, "delete group", 204)
	ts.do(t, "GET", "/Groups?filter="+filterQuery(`displayName eq "`+groupName+`"`), "").expect(t, "deleted group", map[string]any{"totalResults": 0})
	ts.do(t, "GET", "/Users/"+id, "").expect(t, "groups after group delete", map[string]any{"groups": absent})
	// 20. Delete the user.
	ts.do(t, "DELETE", "/Users/"+id, "").wantStatus(t, "delete user", 204)
	ts.do(t, "GET", "/Users/"+id, "").wantError(t, "deleted user", 404, "")
	ts.do(t, "GET", "/Users?filter="+filterQuery(`userName eq "`+userName+`"`), "").expect(t, "deleted user by filter", map[string]any{"totalResults": 0})

	// 21. Negative cases.
	r = ts.do(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+strings.ToUpper("manager-")+`x"}`)
	r.wantStatus(t, "create", 201)
	ts.do(t, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"MANAGER-X"}`).wantError(t, "duplicate userName", 409, "uniqueness")
	ts.doWith(t, "not-a-token", "GET", "/Users", "").wantError(t, "bad token", 401, "")
	ts.do(t, "GET", "/Users/00919288221112222", "").wantError(t, "unknown id", 404, "")

	// 22. Pagination over 11 more users.
	for i := 0; i < 11; i++ {
		ts.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"page-%02d"}`, i)).wantStatus(t, "seed", http.StatusCreated)
	}
	var seen []string
	for _, start := range []int{1, 6, 11} {
		r := ts.do(t, "GET", fmt.Sprintf("/Users?filter=%s&startIndex=%d&count=5", filterQuery(`userName sw "page-"`), start), "")
		r.expect(t, "page", map[string]any{"totalResults": 11, "startIndex": start})
		for _, res := range r.Body["Resources"].([]any) {
			seen = append(seen, res.(map[string]any)["userName"].(string))
		}
		if n := int(r.Body["itemsPerPage"].(float64)); n > 5 || n != len(r.Body["Resources"].([]any)) {
			t.Errorf("itemsPerPage %d with %d resources", n, len(r.Body["Resources"].([]any)))
		}
	}
	if len(seen) != 11 || !distinct(seen) {
		t.Errorf("pages returned %v; want each of the 11 users once", seen)
	}
}

func distinct(s []string) bool {
	m := map[string]bool{}
	for _, v := range s {
		if m[v] {
			return false
		}
		m[v] = true
	}
	return true
}
