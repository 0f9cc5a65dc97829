package resource

import (
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// servedUser is a user as the server holds it before projection: the
// normalized document plus the server's id, meta and computed groups.
const servedUser = `{
	"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id":"u1","externalId":"e1","userName":"bjensen","password":"secret",
	"name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"value":"b@x","type":"work","primary":true},{"value":"b@home","type":"home"}],
	"groups":[{"value":"g1","display":"Admins"}],
	"meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z"},
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":{"value":"m1"}}
}`

func TestProject(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	tests := []struct {
		name             string
		include, exclude string
		want             string
	}{
		{
			name: "defaults drop password only",
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"id":"u1","externalId":"e1","userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},
				"emails":[{"value":"b@x","type":"work","primary":true},{"value":"b@home","type":"home"}],"groups":[{"value":"g1","display":"Admins"}],
				"meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":{"value":"m1"}}}`,
		},
		{
			name:    "attributes=id keeps id and schemas only",
			include: "id",
			want:    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1"}`,
		},
		{
			name:    "attributes with sub-attribute, case-insensitive, URN-qualified",
			include: "USERNAME, name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"id":"u1","userName":"bjensen","name":{"familyName":"Jensen"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name:    "attributes names a whole extension, and password is never returned",
			include: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,password",
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u1",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":{"value":"m1"}}}`,
		},
		{
			name:    "excludedAttributes drops whole, sub and extension attributes but never id",
			exclude: "emails,name.givenName,id,groups,meta,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
			want:    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","externalId":"e1","userName":"bjensen","name":{"familyName":"Jensen"}}`,
		},
		{
			name:    "emails.value keeps only that sub-attribute",
			include: "emails.value",
			want:    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","emails":[{"value":"b@x"},{"value":"b@home"}]}`,
		},
		{
			name:    "unknown names are ignored",
			include: "nosuch,userName",
			want:    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"bjensen"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := mustDecode(t, servedUser)
			before := canonical(t, d)
			got := Project(d, users, ParseProjection(users, tt.include), ParseProjection(users, tt.exclude))
			if g, w := canonical(t, got), canonical(t, mustDecode(t, tt.want)); g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
			if canonical(t, d) != before {
				t.Error("Project modified its input")
			}
		})
	}
}

func TestProjectGroupExcludedMembers(t *testing.T) {
	t.Parallel()
	groups := schema.Builtin().ResourceType("Group")
	d := mustDecode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Admins","members":[{"value":"u1"}]}`)
	got := Project(d, groups, Projection{}, ParseProjection(groups, "members"))
	if _, ok := got["members"]; ok {
		t.Fatalf("members returned despite excludedAttributes=members: %v", got)
	}
	if got["displayName"] != "Admins" || got["id"] != "g1" {
		t.Fatalf("lost other attributes: %v", got)
	}
}

func TestTargetValues(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	d := mustDecode(t, servedUser)
	tests := []struct {
		path string
		want string
	}{
		{"userName", `["bjensen"]`},
		{"name.givenName", `["Barbara"]`},
		{"emails.value", `["b@x","b@home"]`},
		{`emails[type eq "work"].value`, `["b@x"]`},
		{`emails[type eq "WORK"].value`, `["b@x"]`},
		{`emails[type eq "other"].value`, `null`},
		{`emails[primary eq true]`, `[{"primary":true,"type":"work","value":"b@x"}]`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", `["m1"]`},
		{"department", `["Sales"]`},
		{"urn:ietf:params:scim:schemas:core:2.0:User:userName", `["bjensen"]`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `[{"department":"Sales","manager":{"value":"m1"}}]`},
		{"title", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p, err := filter.ParsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			target, ok, err := ResolvePath(users, p)
			if err != nil || !ok {
				t.Fatalf("resolve: ok=%v err=%v", ok, err)
			}
			if got := canonical(t, target.Values(d, users)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestResolvePathErrors(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	for _, tt := range []struct {
		path   string
		known  bool
		errors bool
	}{
		{"nosuch", false, false},
		{"name.nosuch", false, false},
		{"urn:example:unknown:1.0:User:x", false, false},
		{"userName.sub", false, true},
		{`userName[value eq "x"]`, false, true},
		{`name[givenName eq "x"]`, false, true},
	} {
		p, err := filter.ParsePath(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		_, ok, err := ResolvePath(users, p)
		if ok != tt.known || (err != nil) != tt.errors {
			t.Errorf("%s: ok=%v err=%v, want ok=%v error=%v", tt.path, ok, err, tt.known, tt.errors)
		}
	}
}
