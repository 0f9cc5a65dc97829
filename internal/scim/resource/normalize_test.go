package resource

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

const enterprise = scim.EnterpriseUserURN

func mustDecode(t testing.TB, s string) Document {
	t.Helper()
	d, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return d
}

// canonical re-encodes a document so that expectations can be written as JSON.
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

func wantSCIMError(t *testing.T, err error, status int, scimType string) *scim.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d %s", status, scimType)
	}
	e, ok := scim.AsError(err)
	if !ok {
		t.Fatalf("got %T %v, want *scim.Error", err, err)
	}
	if e.Status != status || e.ScimType != scimType {
		t.Fatalf("got %d %q (%s), want %d %q", e.Status, e.ScimType, e.Detail, status, scimType)
	}
	return e
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string // substring of the detail; "" means success
	}{
		{name: "object", body: `{"userName":"a","n":12345678901234567890}`},
		{name: "empty", body: ``, wantErr: "empty"},
		{name: "whitespace", body: "  \n", wantErr: "empty"},
		{name: "array", body: `[1,2]`, wantErr: "must be a JSON object"},
		{name: "string", body: `"x"`, wantErr: "must be a JSON object"},
		{name: "trailing comma", body: `{"a":1,}`, wantErr: "not valid JSON at byte"},
		{name: "truncated", body: `{"a":`, wantErr: "truncated"},
		{name: "two objects", body: `{"a":1}{"b":2}`, wantErr: "after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decode([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := d["n"]; n != json.Number("12345678901234567890") {
					t.Fatalf("number not kept as sent: %#v", n)
				}
				return
			}
			e := wantSCIMError(t, err, 400, scim.InvalidSyntax)
			if !strings.Contains(e.Detail, tt.wantErr) {
				t.Fatalf("detail %q lacks %q", e.Detail, tt.wantErr)
			}
		})
	}
}

func TestNormalizeUser(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			// Entra's Create User (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#create-user):
			// enterprise URN without enterprise data, client meta, empty roles.
			name: "entra create user",
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee","active":true,
				"emails":[{"primary":true,"type":"work","value":"Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
				"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[]}`,
			want: `{"active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
				"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","name":{"familyName":"familyName","formatted":"givenName familyName","givenName":"givenName"},
				"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}`,
		},
		{
			// Entra's older create body (Example 2 of the same tutorial):
			// misspelled enterprise URN, nulls, enterprise attributes at the top level.
			name: "entra legacy nulls",
			in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
				"externalId":"jyoung","userName":"jyoung@testuser.com","active":true,"addresses":null,"displayName":"Joy Young",
				"emails":[{"type":"work","value":"jyoung@Contoso.com","primary":true}],"meta":{"resourceType":"User"},
				"name":{"familyName":"Young","givenName":"Joy"},"phoneNumbers":null,"preferredLanguage":null,"title":null,"department":null,"manager":null}`,
			want: `{"active":true,"displayName":"Joy Young","emails":[{"primary":true,"type":"work","value":"jyoung@Contoso.com"}],"externalId":"jyoung",
				"name":{"familyName":"Young","givenName":"Joy"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jyoung@testuser.com"}`,
		},
		{
			name: "string booleans, case-insensitive names, unknown attributes",
			in:   `{"UserName":"a","ACTIVE":"True","emails":[{"Value":"a@x","Primary":"false"}],"adreses":[{"x":1}],"id":"client-id","groups":[{"value":"g"}]}`,
			want: `{"active":true,"emails":[{"primary":false,"value":"a@x"}],"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`,
		},
		{
			name: "manager as a bare id, department at the top level",
			in:   `{"userName":"a","department":"Sales","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"boss-id"}}`,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + enterprise + `"],"userName":"a","` + enterprise + `":{"department":"Sales","manager":{"value":"boss-id"}}}`,
		},
		{
			name: "legacy manager array, URN-qualified and dotted keys",
			in:   `{"userName":"a","name.givenName":"Joy","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"42","manager":[{"$ref":"../Users/b","value":"b"}]}`,
			want: `{"name":{"givenName":"Joy"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + enterprise + `"],"userName":"a","` + enterprise + `":{"employeeNumber":"42","manager":{"$ref":"../Users/b","value":"b"}}}`,
		},
		{
			name: "single value for a multi-valued attribute",
			in:   `{"userName":"a","emails":{"value":"a@x","type":"work"},"phoneNumbers":[null,{"value":"55555555555","type":"mobile"}]}`,
			want: `{"emails":[{"type":"work","value":"a@x"}],"phoneNumbers":[{"type":"mobile","value":"55555555555"}],"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := mustDecode(t, tt.in)
			before := canonical(t, in)
			got, err := Normalize(in, users)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := canonical(t, got), canonical(t, mustDecode(t, tt.want)); g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
			if canonical(t, in) != before {
				t.Error("Normalize modified its input")
			}
			again, err := Normalize(got, users)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("normalizing twice changed the document or failed (%v): %s", err, canonical(t, again))
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	groups := schema.Builtin().ResourceType("Group")
	tests := []struct {
		name       string
		rt         *schema.ResourceType
		in         string
		scimType   string
		wantDetail string
	}{
		{"missing userName", users, `{"name":{"givenName":"x"}}`, scim.InvalidValue, `"userName" is required`},
		{"null userName", users, `{"userName":null}`, scim.InvalidValue, `"userName" is required`},
		{"userName number", users, `{"userName":42}`, scim.InvalidValue, `"userName": expected a string, got a number`},
		{"active not boolean", users, `{"userName":"a","active":"yes"}`, scim.InvalidValue, `"active": expected a boolean, got the string "yes"`},
		{"active number", users, `{"userName":"a","active":1}`, scim.InvalidValue, `"active": expected a boolean`},
		{"name not object", users, `{"userName":"a","name":["x","y"]}`, scim.InvalidValue, `"name": expected an object, got an array`},
		{"email primary wrong", users, `{"userName":"a","emails":[{"value":"a@x","primary":"sometimes"}]}`, scim.InvalidValue, `"emails[0].primary"`},
		{"two primaries", users, `{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":"True"}]}`, scim.InvalidValue, "at most one value may be primary"},
		{"bad base64", users, `{"userName":"a","x509Certificates":[{"value":"not base64!"}]}`, scim.InvalidValue, "not valid base64"},
		{"NUL in a string", users, `{"userName":"a\u0000b"}`, scim.InvalidValue, `"userName": the character U+0000 is not allowed`},
		{"title array", users, `{"userName":"a","title":["a","b"]}`, scim.InvalidValue, `"title": expected a string, got an array`},
		{"given twice", users, `{"userName":"a","UserName":"b"}`, scim.InvalidSyntax, "given more than once"},
		{"dotted twice", users, `{"userName":"a","name":{"givenName":"x"},"name.givenName":"y"}`, scim.InvalidSyntax, "given more than once"},
		{"extension not object", users, `{"userName":"a","` + enterprise + `":"x"}`, scim.InvalidValue, "must be an object"},
		{"group without displayName", groups, `{"members":[]}`, scim.InvalidValue, `"displayName" is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Normalize(mustDecode(t, tt.in), tt.rt)
			e := wantSCIMError(t, err, 400, tt.scimType)
			if !strings.Contains(e.Detail, tt.wantDetail) {
				t.Fatalf("detail %q lacks %q", e.Detail, tt.wantDetail)
			}
		})
	}
}

func TestCheckImmutable(t *testing.T) {
	t.Parallel()
	// The built-in schemas have no top-level immutable attribute, so this
	// uses a resource type made for the purpose.
	rt := &schema.ResourceType{Schema: &schema.Schema{ID: "urn:test", Attributes: []*schema.Attribute{
		{Name: "serial", Type: schema.String, Mutability: schema.Immutable, Returned: schema.Default, Uniqueness: schema.None},
		{Name: "badge", Type: schema.Complex, Mutability: schema.ReadWrite, Returned: schema.Default, Uniqueness: schema.None, SubAttributes: []*schema.Attribute{
			{Name: "number", Type: schema.String, Mutability: schema.Immutable, Returned: schema.Default, Uniqueness: schema.None},
			{Name: "color", Type: schema.String, Mutability: schema.ReadWrite, Returned: schema.Default, Uniqueness: schema.None},
		}},
	}}}
	tests := []struct {
		name, before, after string
		ok                  bool
	}{
		{"set once", `{}`, `{"serial":"1"}`, true},
		{"unchanged", `{"serial":"1"}`, `{"serial":"1"}`, true},
		{"changed", `{"serial":"1"}`, `{"serial":"2"}`, false},
		{"removed", `{"serial":"1"}`, `{}`, false},
		{"sub changed", `{"badge":{"number":"7","color":"red"}}`, `{"badge":{"number":"8","color":"red"}}`, false},
		{"other sub changed", `{"badge":{"number":"7","color":"red"}}`, `{"badge":{"number":"7","color":"blue"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckImmutable(mustDecode(t, tt.before), mustDecode(t, tt.after), rt)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantSCIMError(t, err, 400, scim.Mutability)
		})
	}
}

func TestNormalizeScalarTypes(t *testing.T) {
	t.Parallel()
	attr := func(typ schema.Type) *schema.Attribute {
		return &schema.Attribute{Name: "x", Type: typ, Mutability: schema.ReadWrite}
	}
	tests := []struct {
		name string
		typ  schema.Type
		in   any
		want any // nil means an invalidValue error
	}{
		{"integer", schema.Integer, json.Number("42"), json.Number("42")},
		{"integer from Go", schema.Integer, 42, json.Number("42")},
		{"integer fraction", schema.Integer, json.Number("4.2"), nil},
		{"integer string", schema.Integer, "42", nil},
		{"decimal", schema.Decimal, json.Number("4.20"), json.Number("4.20")},
		{"decimal exponent", schema.Decimal, json.Number("1e3"), json.Number("1e3")},
		{"decimal overflow", schema.Decimal, json.Number("1e999"), nil},
		{"dateTime utc", schema.DateTime, "2008-01-23T04:56:22Z", "2008-01-23T04:56:22Z"},
		{"dateTime offset fraction", schema.DateTime, "2008-01-23T04:56:22.123+02:00", "2008-01-23T04:56:22.123+02:00"},
		{"dateTime no zone", schema.DateTime, "2008-01-23T04:56:22", "2008-01-23T04:56:22"},
		{"dateTime date only", schema.DateTime, "2008-01-23", nil},
		{"binary", schema.Binary, "aGVsbG8=", "aGVsbG8="},
		{"reference", schema.Reference, "https://x/Users/1", "https://x/Users/1"},
		{"reference number", schema.Reference, json.Number("1"), nil},
		{"boolean FALSE", schema.Boolean, "FALSE", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, keep, err := NormalizeValue(attr(tt.typ), tt.in, "x")
			if tt.want == nil {
				wantSCIMError(t, err, 400, scim.InvalidValue)
				return
			}
			if err != nil || !keep || got != tt.want {
				t.Fatalf("got %#v, %v, %v; want %#v", got, keep, err, tt.want)
			}
		})
	}
}
