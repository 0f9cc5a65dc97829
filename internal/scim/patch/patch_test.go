package patch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

const (
	userURN  = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	bothURN  = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`
	groupURN = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	ent      = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
)

// entraUser is the user of Entra's Create User request
// (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#create-user) after creation.
const entraUser = `{` + userURN + `,"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,
	"emails":[{"primary":true,"type":"work","value":"Test_User_11bb@testuser.com"}],
	"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"}}`

const group = `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u1"},{"value":"u2"},{"value":"f648f8d5ea4e4cd38e9c"}]}`

func decode(t testing.TB, s string) resource.Document {
	t.Helper()
	d, err := resource.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return d
}

func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(out)
	return string(b)
}

type patchCase struct {
	name  string
	rt    string // "User" or "Group"
	start string // the stored, normalized document
	body  string // the PATCH request body, as the client sends it
	want  string // the resulting document; "" when an error is expected
	// On error: the status, scimType and a substring of the detail.
	status   int
	scimType string
	detail   string
}

func runPatchCases(t *testing.T, cases []patchCase) {
	t.Helper()
	catalog := schema.Builtin()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := catalog.ResourceType(tt.rt)
			start := decode(t, tt.start)
			before := canonical(t, start)
			ops, err := Parse([]byte(tt.body))
			var got resource.Document
			if err == nil {
				got, _, err = Apply(start, rt, ops)
			}
			if canonical(t, start) != before {
				t.Fatal("the stored document was modified")
			}
			if tt.want == "" {
				if err == nil {
					t.Fatalf("no error; result %s", canonical(t, got))
				}
				e, ok := scim.AsError(err)
				if !ok || e.Status != tt.status || e.ScimType != tt.scimType || !strings.Contains(e.Detail, tt.detail) {
					t.Fatalf("got error %v, want %d %s containing %q", err, tt.status, tt.scimType, tt.detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, w := canonical(t, got), canonical(t, decode(t, tt.want)); g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// TestEntraForms replays the PATCH forms Entra ID sends, with the request
// bodies of https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
// and https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility,
// and the variants seen in the field that apply.go accepts.
func TestEntraForms(t *testing.T) {
	t.Parallel()
	runPatchCases(t, []patchCase{
		{
			name: "replace work email and familyName (capitalised op)", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
				{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`,
			want: `{` + userURN + `,"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,
				"emails":[{"primary":true,"type":"work","value":"updatedEmail@microsoft.com"}],
				"name":{"formatted":"givenName familyName","familyName":"updatedFamilyName","givenName":"givenName"}}`,
		},
		{
			name: "replace userName", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"5b50642d@testuser.com"}]}`,
			want: strings.Replace(entraUser, "Test_User_00aa", "5b50642d@testuser.com", 1),
		},
		{
			name: "disable with Operations before schemas", rt: "User", start: entraUser,
			body: `{"Operations":[{"op":"Replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
			want: strings.Replace(entraUser, `"active":true`, `"active":false`, 1),
		},
		{
			name: "disable with the string False", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{ "op": "Replace", "path": "active", "value": "False" }]}`,
			want: strings.Replace(entraUser, `"active":true`, `"active":false`, 1),
		},
		{
			name: "flagged disable", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{ "op": "replace", "path": "active", "value": false }]}`,
			want: strings.Replace(entraUser, `"active":true`, `"active":false`, 1),
		},
		{
			name: "enable with the string True", rt: "User", start: strings.Replace(entraUser, `"active":true`, `"active":false`, 1),
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
			want: entraUser,
		},
		{
			name: "Add a single-valued string", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[ { "op": "Add", "path": "nickName", "value": "Babs" } ]}`,
			want: `{` + userURN + `,"userName":"a","nickName":"Babs"}`,
		},
		{
			name: "flagged add", rt: "User", start: `{` + userURN + `,"userName":"a","nickName":"Old"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[ { "op": "add", "path": "nickName", "value": "Babs" } ]}`,
			want: `{` + userURN + `,"userName":"a","nickName":"Babs"}`,
		},
		{
			name: "replace multiple attributes, one op each", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{ "op": "Replace", "path": "displayName", "value": "Pvlo" },
				{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
				{ "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
				{ "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
				{ "op": "Replace", "path": "externalId", "value": "Eqpj" },
				{ "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }]}`,
			want: `{` + bothURN + `,"externalId":"Eqpj","userName":"Test_User_00aa","active":true,"displayName":"Pvlo",
				"emails":[{"primary":true,"type":"work","value":"TestBcwqnm@test.microsoft.com"}],
				"name":{"formatted":"givenName familyName","familyName":"Pkqf","givenName":"Gtfd"},` + ent + `:{"employeeNumber":"Eqpj"}}`,
		},
		{
			name: "flagged path-less replace with dotted and URN keys", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
				{ "op": "replace", "value": { "displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
				  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq" } }]}`,
			want: `{` + bothURN + `,"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,"displayName":"Bjfe",
				"emails":[{"primary":true,"type":"work","value":"TestMhvaes@test.microsoft.com"}],
				"name":{"formatted":"givenName familyName","familyName":"Unua","givenName":"Kkom"},` + ent + `:{"employeeNumber":"Aklq"}}`,
		},
		{
			name: "Okta path-less replace of active", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
			want: strings.Replace(entraUser, `"active":true`, `"active":false`, 1),
		},
		{
			name: "add member with $ref null", rt: "Group", start: `{` + groupURN + `,"displayName":"Admins"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"f648f8d5ea4e4cd38e9c"}]}`,
		},
		{
			name: "Remove with a value array removes only those members", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u1"},{"value":"u2"}]}`,
		},
		{
			name: "unflagged remove of one member", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[ { "op": "Remove", "path": "members", "value": [ { "value": "u1" } ] } ]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u2"},{"value":"f648f8d5ea4e4cd38e9c"}]}`,
		},
		{
			name: "flagged remove by members[value eq id]", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[ { "op": "remove", "path": "members[value eq \"u2\"]" } ]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u1"},{"value":"f648f8d5ea4e4cd38e9c"}]}`,
		},
		{
			name: "bare remove of members clears them all", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}`,
			want: `{` + groupURN + `,"displayName":"Admins"}`,
		},
		{
			// A member's display is readOnly (Ferry computes it): a client's is dropped.
			name: "several members in one op, several ops, display and displayName, duplicates", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"id":"ignored","Operations":[
				{"op":"Add","path":"members","value":[{"value":"u3","display":"Three"},{"value":"u4","displayName":"Four"},{"value":"u1"}]},
				{"op":"Add","path":"members","value":[{"value":"u5"}],"name":"addMember"}]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u1"},{"value":"u2"},{"value":"f648f8d5ea4e4cd38e9c"},{"value":"u3"},{"value":"u4"},{"value":"u5"}]}`,
		},
		{
			name: "member as a bare string", rt: "Group", start: `{` + groupURN + `,"displayName":"Admins"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":"u9"}]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"u9"}]}`,
		},
		{
			name: "replace group displayName", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59updatedDisplayName"}]}`,
			want: strings.Replace(group, `"Admins"`, `"1879db59updatedDisplayName"`, 1),
		},
		{
			name: "Okta group rename with id, then membership remove and add", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"replace","value":{"id":"g1","displayName":"Renamed"}},
				{"op":"remove","path":"members[value eq \"u1\"]"},
				{"op":"add","path":"members","value":[{"value":"23a3","display":"test.user@okta.local"}]}]}`,
			want: `{` + groupURN + `,"displayName":"Renamed","members":[{"value":"u2"},{"value":"f648f8d5ea4e4cd38e9c"},{"value":"23a3"}]}`,
		},
		{
			name: "Okta full push replaces members", rt: "Group", start: group,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"x1"},{"value":"x2"}]}]}`,
			want: `{` + groupURN + `,"displayName":"Admins","members":[{"value":"x1"},{"value":"x2"}]}`,
		},
		{
			name: "Add to a filtered path with no match creates the element", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@contoso.com"}]}`,
			want: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"x@contoso.com","primary":true}]}`,
		},
		{
			name: "Replace on a missing work phone, beside a primary mobile", rt: "User",
			start: `{` + userURN + `,"userName":"a","phoneNumbers":[{"type":"mobile","value":"1","primary":true}]}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"phoneNumbers[type eq \"work\"].value","value":"555"}]}`,
			want:  `{` + userURN + `,"userName":"a","phoneNumbers":[{"type":"mobile","value":"1","primary":true},{"type":"work","value":"555"}]}`,
		},
		{
			name: "work address sub-attributes one op at a time", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Add","path":"addresses[type eq \"work\"].country","value":"ML"},
				{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Bamako"}]}`,
			want: `{` + userURN + `,"userName":"a","addresses":[{"type":"work","country":"ML","locality":"Bamako","primary":true}]}`,
		},
		{
			name: "manager as a plain string", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-1234"}]}`,
			want: `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"value":"2c2f6fb8-1234"}}}`,
		},
		{
			name: "replace manager drops the old reference", rt: "User",
			start: `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"value":"m1","$ref":"../Users/m1"}}}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}]}`,
			want:  `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"value":"m2"}}}`,
		},
		{
			name: "legacy manager path with a value array", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"http://x/scim/Users/00aa","value":"00aa"}]}]}`,
			want: `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"$ref":"http://x/scim/Users/00aa","value":"00aa"}}}`,
		},
		{
			name: "replace manager with empty string clears it", rt: "User",
			start: `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"value":"m1"}}}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}]}`,
			want:  `{` + userURN + `,"userName":"a"}`,
		},
		{
			name: "remove manager", rt: "User",
			start: `{` + bothURN + `,"userName":"a",` + ent + `:{"manager":{"value":"m1"},"department":"Sales"}}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
			want:  `{` + bothURN + `,"userName":"a",` + ent + `:{"department":"Sales"}}`,
		},
		{
			name: "Remove with a value on a filtered single-valued path", rt: "User",
			start: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"old@x","primary":true},{"type":"home","value":"h@x"}]}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"old@x"}]}`,
			want:  `{` + userURN + `,"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "Remove naming a value that is no longer there changes nothing", rt: "User",
			start: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"new@x"}]}`,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"old@x"}]}`,
			want:  `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"new@x"}]}`,
		},
		{
			name: "empty string and null clear attributes", rt: "User",
			start: `{` + userURN + `,"userName":"a","title":"Boss","nickName":"B","name":{"givenName":"G","familyName":"F"}}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"title","value":""},
				{"op":"Replace","path":"nickName","value":null},
				{"op":"Replace","path":"name.givenName","value":""}]}`,
			want: `{` + userURN + `,"userName":"a","name":{"familyName":"F"}}`,
		},
		{
			name: "roles with a JSON-encoded value, then replace-all", rt: "User", start: `{` + userURN + `,"userName":"a"}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"06b07648\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]},
				{"op":"replace","path":"roles","value":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"},{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Test","value":"Test"}]}]}`,
			want: `{` + userURN + `,"userName":"a","roles":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"},{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Test","value":"Test"}]}`,
		},
		{
			name: "capitalised attribute names", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"Op":"REPLACE","Path":"Name.FamilyName","Value":"X"},{"op":"add","path":"emails[Type eq \"work\"].Primary","value":"False"}]}`,
			want: `{` + userURN + `,"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,
				"emails":[{"primary":false,"type":"work","value":"Test_User_11bb@testuser.com"}],
				"name":{"formatted":"givenName familyName","familyName":"X","givenName":"givenName"}}`,
		},
		{
			name: "repeated no-op update", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"Test_User_00aa"}]}`,
			want: entraUser,
		},
		{
			name: "unknown core attributes are ignored", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","value":{"adreses":"x"}}]}`,
			want: entraUser,
		},
		{
			// Ignoring it would lose the value Entra's administrator
			// mapped: refused, naming the URN and what declares it.
			name: "an attribute of an undeclared extension is refused", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag","value":"x"}]}`,
			status: 400, scimType: "invalidValue",
			detail: "schema urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User, which is not declared for Users in this tenant, and would be lost; an administrator declares it with: ferry schemas add",
		},
		{
			name: "an undeclared extension in the value-object form is refused", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","value":{"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User":{"tag":"x"}}}]}`,
			status: 400, scimType: "invalidValue",
			detail: "schema urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User, which is not declared",
		},
		{
			name: "Entra's dotted enterprise path stays ignored", rt: "User", start: entraUser,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager","value":"x"}]}`,
			want: entraUser,
		},
	})
}

// TestRFCForms covers RFC 7644 §3.5.2.1–3 behaviour beyond the clients' forms.
func TestRFCForms(t *testing.T) {
	t.Parallel()
	const emails = `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x"}]}`
	runPatchCases(t, []patchCase{
		{
			name: "add without path merges a complex attribute and appends to multi-valued ones", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"name":{"givenName":"B"},"emails":[{"type":"other","value":"o@x"}],"nickName":"Babs"}}]}`,
			want: `{` + userURN + `,"userName":"a","nickName":"Babs","name":{"givenName":"B"},"emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x"},{"type":"other","value":"o@x"}]}`,
		},
		{
			name: "adding a primary value makes the others non-primary", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"type":"other","value":"o@x","primary":true}]}]}`,
			want: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"w@x","primary":false},{"type":"home","value":"h@x"},{"type":"other","value":"o@x","primary":true}]}`,
		},
		{
			name: "setting primary through a filter moves it", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]}`,
			want: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"w@x","primary":false},{"type":"home","value":"h@x","primary":true}]}`,
		},
		{
			name: "replace a selected element whole", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"home\"]","value":{"type":"home","value":"new@x"}}]}`,
			want: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"new@x"}]}`,
		},
		{
			name: "replace a multi-valued attribute replaces all values", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails","value":[{"type":"work","value":"only@x"}]}]}`,
			want: `{` + userURN + `,"userName":"a","emails":[{"type":"work","value":"only@x"}]}`,
		},
		{
			name: "remove by filter removes every matching value", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[value ew \"@x\"]"}]}`,
			want: `{` + userURN + `,"userName":"a"}`,
		},
		{
			name: "remove a sub-attribute", rt: "User", start: `{` + userURN + `,"userName":"a","name":{"givenName":"G","familyName":"F"}}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]}`,
			want: `{` + userURN + `,"userName":"a"}`,
		},
		{
			name: "remove of an absent attribute is a no-op", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"title"},{"op":"remove","path":"emails[type eq \"pager\"]"},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]}`,
			want: emails,
		},
		{
			name: "replace with a URN path of the core schema", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"b"}]}`,
			want: strings.Replace(emails, `"userName":"a"`, `"userName":"b"`, 1),
		},
		{
			name: "add and remove a whole extension", rt: "User", start: emails,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"D","costCenter":"C"}},
				{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"E"}}},
				{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"}]}`,
			want: `{` + bothURN + `,"userName":"a","emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x"}],` + ent + `:{"department":"E"}}`,
		},
		{
			name: "remove of the whole extension", rt: "User", start: `{` + bothURN + `,"userName":"a",` + ent + `:{"department":"E"}}`,
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]}`,
			want: `{` + userURN + `,"userName":"a"}`,
		},
	})
}

func TestPatchErrors(t *testing.T) {
	t.Parallel()
	const body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`
	op := func(s string) string { return strings.Replace(body, "%s", s, 1) }
	runPatchCases(t, []patchCase{
		{name: "malformed JSON", rt: "User", start: entraUser, body: `{"Operations":[`, status: 400, scimType: scim.InvalidSyntax, detail: "truncated"},
		{name: "no Operations", rt: "User", start: entraUser, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, status: 400, scimType: scim.InvalidSyntax, detail: "no Operations"},
		{name: "Operations not an array", rt: "User", start: entraUser, body: `{"Operations":{}}`, status: 400, scimType: scim.InvalidSyntax, detail: "must be an array"},
		{name: "empty Operations", rt: "User", start: entraUser, body: `{"Operations":[]}`, status: 400, scimType: scim.InvalidValue, detail: "empty"},
		{name: "wrong message schema", rt: "User", start: entraUser, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Operations":[{"op":"add","path":"title","value":"x"}]}`, status: 400, scimType: scim.InvalidSyntax, detail: "PatchOp"},
		{name: "unknown op", rt: "User", start: entraUser, body: op(`{"op":"merge","path":"title","value":"x"}`), status: 400, scimType: scim.InvalidSyntax, detail: `operation 1: "op" must be`},
		{name: "remove without path", rt: "User", start: entraUser, body: op(`{"op":"remove"}`), status: 400, scimType: scim.NoTarget, detail: "needs a path"},
		{name: "replace without path or value", rt: "User", start: entraUser, body: op(`{"op":"replace"}`), status: 400, scimType: scim.InvalidValue, detail: "needs a value"},
		{name: "path-less scalar value", rt: "User", start: entraUser, body: op(`{"op":"add","value":"x"}`), status: 400, scimType: scim.InvalidValue, detail: "object value"},
		{name: "bad path", rt: "User", start: entraUser, body: op(`{"op":"add","path":"emails[type eq ","value":"x"}`), status: 400, scimType: scim.InvalidPath},
		{name: "path not a string", rt: "User", start: entraUser, body: op(`{"op":"add","path":3,"value":"x"}`), status: 400, scimType: scim.InvalidPath},
		{name: "sub-attribute of a simple attribute", rt: "User", start: entraUser, body: op(`{"op":"add","path":"userName.x","value":"x"}`), status: 400, scimType: scim.InvalidPath},
		{name: "wrong type", rt: "User", start: entraUser, body: op(`{"op":"replace","path":"active","value":"maybe"}`), status: 400, scimType: scim.InvalidValue, detail: "expected a boolean"},
		{name: "removing userName", rt: "User", start: entraUser, body: op(`{"op":"remove","path":"userName"}`), status: 400, scimType: scim.InvalidValue, detail: `"userName" is required`},
		{name: "readOnly id", rt: "User", start: entraUser, body: op(`{"op":"replace","path":"id","value":"x"}`), status: 400, scimType: scim.Mutability, detail: "readOnly"},
		{name: "readOnly groups", rt: "User", start: entraUser, body: op(`{"op":"add","path":"groups","value":[{"value":"g"}]}`), status: 400, scimType: scim.Mutability},
		{
			name: "replace on a filter that describes nothing to create", rt: "User", start: entraUser,
			body: op(`{"op":"replace","path":"emails[value co \"nobody\"].type","value":"home"}`), status: 400, scimType: scim.NoTarget, detail: "matches the filter",
		},
		{
			name: "second operation fails, so the first is not applied either", rt: "User", start: entraUser,
			body: op(`{"op":"replace","path":"title","value":"Boss"},{"op":"replace","path":"active","value":[1]}`), status: 400, scimType: scim.InvalidValue, detail: "operation 2 (replace active)",
		},
		{
			name: "two primary values", rt: "User", start: entraUser,
			body: op(`{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`), status: 400, scimType: scim.InvalidValue, detail: "primary",
		},
	})
}

func TestApplyReportsChange(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	start := decode(t, entraUser)
	for _, tt := range []struct {
		body    string
		changed bool
	}{
		{`{"Operations":[{"op":"Replace","path":"userName","value":"Test_User_00aa"}]}`, false},
		{`{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`, false},
		{`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, true},
	} {
		ops, err := Parse([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		_, changed, err := Apply(start, users, ops)
		if err != nil || changed != tt.changed {
			t.Errorf("%s: changed=%v err=%v, want changed=%v", tt.body, changed, err, tt.changed)
		}
	}
}
