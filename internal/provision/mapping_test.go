package provision

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/provision/scoping"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

var testEnv = expr.Env{Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}

func templateObject(t *testing.T, template, typ string) *compiledObject {
	t.Helper()
	cfg, err := loadTemplate(template)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TenantURL = "https://app.example.com/scim/v2"
	c, err := compile(cfg, schema.Builtin(), nil)
	if err != nil {
		t.Fatalf("template %s does not compile: %v", template, err)
	}
	co := c.object(typ)
	if co == nil {
		t.Fatalf("template %s maps no %s", template, typ)
	}
	return co
}

func decodeDoc(t *testing.T, s string) resource.Document {
	t.Helper()
	d, err := resource.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const bjensen = `{"id":"u1","userName":"bjensen@example.com","externalId":"bj","active":true,"title":"Tour Guide",
	"name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"type":"home","value":"b@home.example"},{"type":"work","value":"bjensen@example.com","primary":true}],
	"addresses":[{"type":"work","country":"US","region":"CA","locality":"Hollywood","postalCode":"91608","streetAddress":"100 Universal City Plaza"}],
	"phoneNumbers":[{"type":"mobile","value":"+1 555 0100"},{"type":"work","value":"+1 555 0101"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours","manager":{"value":"u0"}}}`

// TestRingCentralTemplate checks the ringcentral template against the
// attribute table of Microsoft's RingCentral tutorial, and what a create
// sends for a user.
func TestRingCentralTemplate(t *testing.T) {
	co := templateObject(t, "ringcentral", store.UserType)
	var targets []string
	for _, a := range co.attrs {
		targets = append(targets, a.Target)
	}
	want := []string{"userName", "externalId", "active", "title", `emails[type eq "work"].value`,
		`addresses[type eq "work"].country`, `addresses[type eq "work"].region`, `addresses[type eq "work"].locality`,
		`addresses[type eq "work"].postalCode`, `addresses[type eq "work"].streetAddress`, "name.givenName", "name.familyName",
		`phoneNumbers[type eq "mobile"].value`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}
	if strings.Join(targets, "|") != strings.Join(want, "|") {
		t.Errorf("targets:\n got %q\nwant %q", targets, want)
	}
	if len(co.match) != 1 || co.match[0].Target != "userName" {
		t.Errorf("matching attributes: %v", co.match)
	}
	d, err := co.evaluate(decodeDoc(t, bjensen), false, true, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := co.document(d.values)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(doc)
	// New elements of a filtered path are primary, as in Entra's creates.
	wantDoc := `{"active":true,"addresses":[{"country":"US","locality":"Hollywood","postalCode":"91608","primary":true,"region":"CA","streetAddress":"100 Universal City Plaza","type":"work"}],` +
		`"emails":[{"primary":true,"type":"work","value":"bjensen@example.com"}],"externalId":"bj","name":{"familyName":"Jensen","givenName":"Barbara"},` +
		`"phoneNumbers":[{"primary":true,"type":"mobile","value":"+1 555 0100"}],"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"title":"Tour Guide","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours"},"userName":"bjensen@example.com"}`
	if string(got) != wantDoc {
		t.Errorf("create body:\n got %s\nwant %s", got, wantDoc)
	}
}

// TestDisableAndDiff checks that a soft-deleted user's evaluation differs
// from what was exported only in active, and that unchanged values send
// nothing.
func TestDisableAndDiff(t *testing.T) {
	co := templateObject(t, "scim", store.UserType)
	src := decodeDoc(t, bjensen)
	created, err := co.evaluate(src, false, true, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	exported := created.values
	same, err := co.evaluate(src, false, false, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if ch := co.diff(exported, same, map[string]any{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": nil}); len(ch) != 1 {
		t.Errorf("an unchanged user differs in %d attributes: %+v", len(ch), ch)
	}
	off, err := co.evaluate(src, true, false, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	ch := co.diff(exported, off, nil)
	if len(ch) != 1 || ch[0].path != "active" || ch[0].new != false || !disables(ch) {
		t.Errorf("disable changes: %+v", ch)
	}
	src["title"] = "Chief"
	delete(src, "displayName")
	upd, err := co.evaluate(src, false, false, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	ch = co.diff(exported, upd, nil)
	if len(ch) != 1 || ch[0].path != "title" || ch[0].old != "Tour Guide" || ch[0].new != "Chief" {
		t.Errorf("title change: %+v", ch)
	}
	if mp := modified(ch); len(mp) != 1 || mp[0].OldValue != "Tour Guide" || mp[0].NewValue != "Chief" {
		t.Errorf("modified properties: %+v", mp)
	}
}

// TestManagerReference: the manager is a reference, resolved to the
// linked target id rather than copied.
func TestManagerReference(t *testing.T) {
	co := templateObject(t, "scim", store.UserType)
	d, err := co.evaluate(decodeDoc(t, bjensen), false, true, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	const path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
	if d.refs[path] != "u0" {
		t.Errorf("refs = %v, want the manager's source id u0", d.refs)
	}
	if _, ok := d.values[path]; ok {
		t.Errorf("the manager's source id is copied into the values: %v", d.values[path])
	}
	doc, err := co.document(maps2(d.values, map[string]any{path: map[string]any{"value": "t0"}}))
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if m, _ := ext["manager"].(map[string]any); m["value"] != "t0" {
		t.Errorf("manager in the create body: %v", ext)
	}
}

func TestDefaultsAndApplyModes(t *testing.T) {
	cfg := Config{TenantURL: "https://x.example/scim", Scope: ScopeAll, Objects: []ObjectMapping{{
		SourceType: store.UserType, TargetType: "Users", Enabled: true,
		Attributes: []AttributeMapping{
			{Type: Direct, Source: "userName", Target: "userName", Match: true},
			{Type: Direct, Source: "title", Target: "title", Default: "Employee"},
			{Type: Expression, Source: `Join(" ", [name.givenName], [name.familyName])`, Target: "displayName", Apply: ApplyOnCreate},
			{Type: Constant, Source: "en-US", Target: "preferredLanguage"},
			{Type: None, Target: "locale", Default: "en_US"},
		}}}}
	c, err := compile(cfg, schema.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	co := c.object(store.UserType)
	src := decodeDoc(t, `{"userName":"ann","name":{"givenName":"Ann","familyName":"Lee"}}`)
	create, err := co.evaluate(src, false, true, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(create.values)
	if want := `{"displayName":"Ann Lee","locale":"en_US","preferredLanguage":"en-US","title":"Employee","userName":"ann"}`; string(got) != want {
		t.Errorf("on create: %s, want %s", got, want)
	}
	update, err := co.evaluate(src, false, false, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(update.values)
	if want := `{"preferredLanguage":"en-US","userName":"ann"}`; string(got) != want {
		t.Errorf("on update (no defaults, no create-only mappings): %s, want %s", got, want)
	}
}

func TestCompileErrors(t *testing.T) {
	base := func() Config {
		return Config{TenantURL: "https://x.example/scim", Scope: ScopeAll, Objects: []ObjectMapping{{
			SourceType: store.UserType, TargetType: "Users", Enabled: true,
			Attributes: []AttributeMapping{{Type: Direct, Source: "userName", Target: "userName", Match: true}}}}}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no tenant URL", func(c *Config) { c.TenantURL = "" }, "tenantUrl is required"},
		{"credentials in the URL", func(c *Config) { c.TenantURL = "https://u:p@x.example/" }, "must not carry credentials"},
		{"bad scope", func(c *Config) { c.Scope = "some" }, `scope must be "assigned" or "all"`},
		{"unknown function", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Expression, Source: `Joinn(" ", [userName])`, Target: "displayName"})
		}, "Joinn"},
		{"unknown source attribute", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Direct, Source: "nickNam", Target: "nickName"})
		}, "nickNam"},
		{"unknown target attribute", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Direct, Source: "title", Target: "jobTitle"})
		}, "does not define"},
		{"read-only target", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Direct, Source: "title", Target: "groups.value"})
		}, "read-only"},
		{"mapped twice", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Direct, Source: "title", Target: "UserName"})
		}, "mapped twice"},
		{"no matching attribute", func(c *Config) { c.Objects[0].Attributes[0].Match = false }, "no attribute is marked to match"},
		{"userName not mapped", func(c *Config) {
			c.Objects[0].Attributes = []AttributeMapping{{Type: Direct, Source: "title", Target: "title", Match: true}}
		}, "requires username"},
		{"bad scoping operator", func(c *Config) {
			c.Objects[0].Scoping = scopingSet(`[{"clauses":[{"attribute":"title","operator":"LIKE","value":"x"}]}]`)
		}, "scoping"},
		{"bad interval", func(c *Config) { c.FullCycleInterval = Duration(time.Second) }, "fullCycleInterval"},
		{"whole complex attribute", func(c *Config) {
			c.Objects[0].Attributes = append(c.Objects[0].Attributes, AttributeMapping{Type: Direct, Source: "title", Target: "name"})
		}, "map a sub-attribute of name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			_, err := compile(c, schema.Builtin(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("compile: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func scopingSet(js string) scoping.Set {
	var s scoping.Set
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		panic(err)
	}
	return s
}
