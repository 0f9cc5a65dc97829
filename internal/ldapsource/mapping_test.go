package ldapsource

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// guidBytes is objectGUID as Active Directory stores
// {00112233-4455-6677-8899-aabbccddeeff}: the first three fields
// little-endian.
var guidBytes = string([]byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})

func TestFormatGUID(t *testing.T) {
	t.Parallel()
	got, err := FormatGUID([]byte(guidBytes))
	if err != nil || got != "00112233-4455-6677-8899-aabbccddeeff" {
		t.Errorf("FormatGUID = %q, %v", got, err)
	}
	if _, err := FormatGUID([]byte("short")); err == nil {
		t.Error("FormatGUID accepted 5 bytes")
	}
}

func compile(t *testing.T, cfg Config) *Mapping {
	t.Helper()
	m, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestActiveDirectoryUser(t *testing.T) {
	t.Parallel()
	m := compile(t, Config{Preset: PresetActiveDirectory})
	tests := []struct {
		name       string
		uac        string
		wantActive bool
	}{
		{"normal account", "512", true},                      // NORMAL_ACCOUNT
		{"disabled", "514", false},                           // NORMAL_ACCOUNT | ACCOUNTDISABLE
		{"disabled, password never expires", "66050", false}, // | DONT_EXPIRE_PASSWORD
		{"password never expires", "66048", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ldap.NewEntry("CN=Ada Lovelace,OU=Staff,DC=corp,DC=example", map[string][]string{
				"objectGUID":         {guidBytes},
				"userPrincipalName":  {"ada@corp.example"},
				"givenName":          {"Ada"},
				"sn":                 {"Lovelace"},
				"displayName":        {"Ada Lovelace"},
				"mail":               {"ada@example.com"},
				"title":              {"Analyst"},
				"department":         {"Engines"},
				"employeeID":         {"E-1815"},
				"userAccountControl": {tt.uac},
				"manager":            {"CN=Charles Babbage,OU=Staff,DC=corp,DC=example"},
			})
			o, err := m.User(e)
			if err != nil {
				t.Fatal(err)
			}
			want := resource.Document{
				"schemas":              []any{scim.UserURN, scim.EnterpriseUserURN},
				"userName":             "ada@corp.example",
				"name":                 map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
				"displayName":          "Ada Lovelace",
				"emails":               []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
				"title":                "Analyst",
				"active":               tt.wantActive,
				scim.EnterpriseUserURN: map[string]any{"department": "Engines", "employeeNumber": "E-1815"},
			}
			if o.ID != "00112233-4455-6677-8899-aabbccddeeff" {
				t.Errorf("ID = %q", o.ID)
			}
			if !reflect.DeepEqual(o.Doc, want) {
				t.Errorf("Doc =\n%v\nwant\n%v", o.Doc, want)
			}
			if o.managerDN != "CN=Charles Babbage,OU=Staff,DC=corp,DC=example" {
				t.Errorf("manager DN = %q", o.managerDN)
			}
		})
	}
}

func TestActiveDirectoryGroup(t *testing.T) {
	t.Parallel()
	m := compile(t, Config{Preset: PresetActiveDirectory})
	e := ldap.NewEntry("CN=Engineers,OU=Groups,DC=corp,DC=example", map[string][]string{
		"objectGUID":     {guidBytes},
		"sAMAccountName": {"engineers"},
		"member":         {"CN=Ada Lovelace,OU=Staff,DC=corp,DC=example", "CN=Charles Babbage,OU=Staff,DC=corp,DC=example"},
	})
	o, err := m.Group(e)
	if err != nil {
		t.Fatal(err)
	}
	// No cn: displayName falls back to sAMAccountName.
	if o.Doc["displayName"] != "engineers" || len(o.memberDNs) != 2 {
		t.Errorf("group = %v, members %v", o.Doc, o.memberDNs)
	}
}

func TestUserWithoutUserName(t *testing.T) {
	t.Parallel()
	m := compile(t, Config{})
	o, err := m.User(ldap.NewEntry("uid=x,dc=example,dc=com", map[string][]string{"entryUUID": {"ABC"}, "cn": {"X"}}))
	if err == nil || o == nil || o.ID != "abc" || !strings.Contains(err.Error(), "userName") {
		t.Errorf("User = %v, %v; want the object's id and an error naming userName", o, err)
	}
	if _, err := m.User(ldap.NewEntry("uid=y,dc=example,dc=com", map[string][]string{"uid": {"y"}})); err == nil ||
		!strings.Contains(err.Error(), "entryUUID") {
		t.Errorf("an entry without entryUUID: %v", err)
	}
}

func TestOpenLDAPDisabledAndMappingChanges(t *testing.T) {
	t.Parallel()
	// userName from mail; no phone numbers; costCenter from a new rule.
	m := compile(t, Config{UserMapping: []Rule{
		{Path: "userName", Attribute: "mail"},
		{Path: `phoneNumbers[type eq "work"].value`},
		{Path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", Attribute: "businessCategory"},
	}})
	entry := func(locked string) *ldap.Entry {
		return ldap.NewEntry("uid=ada,dc=example,dc=com", map[string][]string{
			"entryUUID":            {"6b1c0a9e-0000-1000-8000-000000000001"},
			"uid":                  {"ada"},
			"mail":                 {"ada@example.com"},
			"telephoneNumber":      {"+1 555 0100"},
			"businessCategory":     {"R&D"},
			"ou":                   {"Engines"},
			"pwdAccountLockedTime": {locked},
		})
	}
	o, err := m.User(entry("000001010000Z"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Doc["userName"] != "ada@example.com" || o.Doc["phoneNumbers"] != nil || o.Doc["active"] != false {
		t.Errorf("doc = %v", o.Doc)
	}
	ent, _ := o.Doc[scim.EnterpriseUserURN].(map[string]any)
	if ent["costCenter"] != "R&D" || ent["department"] != "Engines" {
		t.Errorf("enterprise = %v; want costCenter and department (ou, as departmentNumber is absent)", ent)
	}
	// A lock after failed binds expires: it does not disable.
	if o, _ := m.User(entry("20240101120000Z")); o.Doc["active"] != true {
		t.Errorf("a temporary lockout disabled the user: %v", o.Doc["active"])
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"unknown attribute", Rule{Path: "nickname2", Attribute: "x"}, `no attribute "nickname2"`},
		{"externalId", Rule{Path: "externalId", Attribute: "x"}, "records which source owns"},
		{"active", Rule{Path: "active", Attribute: "x"}, "Disabled rule"},
		{"multi-valued without a filter", Rule{Path: "emails", Attribute: "mail"}, `emails[type eq "work"].value`},
		{"filter with or", Rule{Path: `emails[type eq "work" or primary eq true].value`, Attribute: "mail"}, `"and"`},
		{"complex without sub", Rule{Path: "name", Attribute: "cn"}, "name a sub-attribute"},
		{"dn transform elsewhere", Rule{Path: "title", Attribute: "title", Transform: DNRef}, "enterprise manager only"},
		{"unknown transform", Rule{Path: "title", Attribute: "title", Transform: "upper"}, "unknown transform"},
		{"bad LDAP attribute", Rule{Path: "title", Attribute: "ti(tle"}, "not an LDAP attribute"},
		{"dateTime", Rule{Path: "meta.created", Attribute: "createTimestamp"}, "directory's own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(Config{UserMapping: []Rule{tt.rule}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "UserMapping[0]") {
				t.Errorf("Compile = %v; want an error naming UserMapping[0] and saying %q", err, tt.want)
			}
		})
	}
	if _, err := Compile(Config{UserMapping: []Rule{{Path: "userName"}}}); err == nil || !strings.Contains(err.Error(), "nothing maps userName") {
		t.Errorf("removing userName: %v", err)
	}
}

func TestMergeKeepsUnmapped(t *testing.T) {
	t.Parallel()
	m := compile(t, Config{})
	cur := resource.Document{
		"schemas":  []any{scim.UserURN},
		"userName": "ada", "nickName": "Countess", "title": "Old title", "active": false,
		"emails": []any{
			map[string]any{"value": "old@example.com", "type": "work", "primary": true},
			map[string]any{"value": "home@example.com", "type": "home"},
		},
		"externalId": "ldap:corp:1",
	}
	want := resource.Document{"userName": "ada", "active": true,
		"emails": []any{map[string]any{"value": "new@example.com", "type": "work", "primary": true}}}
	if !m.differs(store.UserType, cur, want) {
		t.Fatal("differs = false")
	}
	out, err := m.merge(store.UserType, cur, want, "")
	if err != nil {
		t.Fatal(err)
	}
	if out["nickName"] != "Countess" || out["externalId"] != "ldap:corp:1" || out["title"] != nil || out["active"] != true {
		t.Errorf("merge = %v", out)
	}
	emails := out["emails"].([]any)
	if len(emails) != 2 || emails[0].(map[string]any)["value"] != "home@example.com" ||
		emails[1].(map[string]any)["value"] != "new@example.com" {
		t.Errorf("emails = %v; want the home address kept and the work one replaced", emails)
	}
	if m.differs(store.UserType, out, want) {
		t.Error("differs after merge")
	}
	if cur["title"] != "Old title" {
		t.Error("merge changed its input")
	}
}

// TestMergeKeepsDeclaredExtensions: an extension the tenant declared
// (ferry schemas), which the mapping's resource type does not have, stays
// as it is rather than fail the merge or be dropped.
func TestMergeKeepsDeclaredExtensions(t *testing.T) {
	t.Parallel()
	m := compile(t, Config{})
	const acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	cur := resource.Document{"schemas": []any{scim.UserURN, acme}, "userName": "ada", "active": true,
		acme: map[string]any{"costCenter": "CC-1"}}
	out, err := m.merge(store.UserType, cur, resource.Document{"userName": "ada", "active": false}, "")
	if err != nil {
		t.Fatal(err)
	}
	if ext, _ := out[acme].(map[string]any); ext["costCenter"] != "CC-1" || out["active"] != false {
		t.Errorf("merge = %v", out)
	}
	if urns, _ := out["schemas"].([]any); len(urns) != 2 || urns[1] != acme {
		t.Errorf("schemas = %v; want the extension's URN kept", out["schemas"])
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := Config{Name: "corp", URL: "ldap://ldap.example.com:389", BindDN: "cn=ferry,dc=example,dc=com",
		BindPassword: "pw", BaseDN: "dc=example,dc=com"}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"name", func(c *Config) { c.Name = "a b" }, "Name:"},
		{"scheme", func(c *Config) { c.URL = "http://x" }, "URL: "},
		{"no host", func(c *Config) { c.URL = "ldap://" }, "names no host"},
		{"DN in URL", func(c *Config) { c.URL = "ldap://h/dc=x" }, "own fields"},
		{"ldapi relative", func(c *Config) { c.URL = "ldapi://sock" }, "socket"},
		{"StartTLS on ldaps", func(c *Config) { c.URL, c.StartTLS = "ldaps://h", true }, "StartTLS:"},
		{"password", func(c *Config) { c.BindPassword = "" }, "BindPassword:"},
		{"base DN", func(c *Config) { c.BaseDN = "" }, "BaseDN:"},
		{"filter", func(c *Config) { c.UserFilter = "objectClass=person)" }, "UserFilter:"},
		{"preset", func(c *Config) { c.Preset = "novell" }, "Preset:"},
		{"mapping", func(c *Config) { c.GroupMapping = []Rule{{Path: "members", Attribute: "member"}} }, "GroupMapping[0]"},
		{"page size", func(c *Config) { c.PageSize = 5000 }, "PageSize:"},
		{"interval", func(c *Config) { c.Interval = 10e9 }, "Interval:"},
		{"shrink", func(c *Config) { c.MaxShrinkPercent = 150 }, "MaxShrinkPercent:"},
		{"CA file", func(c *Config) { c.CAFile = "/nonexistent.pem" }, "CAFile:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v; want %q", err, tt.want)
			}
		})
	}
	ldapi := good
	ldapi.URL = "ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi"
	if err := ldapi.Validate(); err != nil {
		t.Errorf("ldapi: %v", err)
	}
}
