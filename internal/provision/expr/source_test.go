package expr

import (
	"strings"
	"testing"
	"time"
)

func TestDocumentSource(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	src := DocumentSource{
		Doc:     testUser(t),
		Type:    rt,
		Virtual: map[string]Value{"IsSoftDeleted": BoolValue(false)},
	}
	tests := []struct {
		path string
		want Value
	}{
		{"userName", str("bjensen@example.com")},
		{"USERNAME", str("bjensen@example.com")},
		{"name.givenName", str("Barbara")},
		{"title", str("")},
		{"nickName", Value{}},
		{"active", boolean(true)},
		{`emails[type eq "work"].value`, multi("bjensen@example.com")},
		{`emails[type eq "other"].value`, Value{}},
		{"emails.value", multi("bjensen@example.com", "babs@jensen.org")},
		{"emails", multi("bjensen@example.com", "babs@jensen.org")},
		{"emails.type", multi("work", "home")},
		{"emails.primary", MultiValue(boolean(true))},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", str("Tour Operations")},
		{"department", str("Tour Operations")},
		{"manager", str("26118915-6090-4610-87e4-49d8ca9f808d")},
		{"manager.displayName", str("John Smith")},
		{"meta.lastModified", TimeValue(time.Date(2011, 5, 13, 11, 42, 34, 0, time.UTC))},
		{"IsSoftDeleted", boolean(false)},
		{"issoftdeleted", boolean(false)},
	}
	for _, tc := range tests {
		got, err := src.Attribute(tc.path)
		if err != nil {
			t.Errorf("Attribute(%s): %v", tc.path, err)
			continue
		}
		assertValue(t, tc.path, got, tc.want)
	}

	for _, path := range []string{"nope", "name", "emails[type eq", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"} {
		if v, err := src.Attribute(path); err == nil {
			t.Errorf("Attribute(%s) = %s, want an error", path, v)
		}
	}
}

func TestEvalOverDocument(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	src := DocumentSource{Doc: testUser(t), Type: rt}
	tests := []struct {
		expr string
		want Value
	}{
		{`Join(" ", [name.givenName], [name.familyName])`, str("Barbara Jensen")},
		{`[active]`, boolean(true)},
		{`CStr([active])`, str("True")},
		{`Append("Active: ", [active])`, str("Active: True")},
		{`Switch([active], "?", "True", "enabled", "False", "disabled")`, str("enabled")},
		{`ToUpper([emails[type eq "work"].value])`, str("BJENSEN@EXAMPLE.COM")},
		{`Count([emails])`, integer(2)},
		{`Item([emails.type], 2)`, str("home")},
		{`Coalesce([nickName], [displayName])`, str("Babs Jensen")},
		{`IsNullOrEmpty([title])`, boolean(true)},
		{`IsNull([title])`, boolean(false)},
		{`FormatDateTime([meta.lastModified], , "yyyy", "yyyy-MM-ddTHH:mm:ssK")`, str("2011-05-13T11:42:34Z")},
		{`DateDiff("d", [meta.created], [meta.lastModified])`, integer(475)},
		{`NormalizeDiacritics(PCase([urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]))`, str("Tour Operations")},
	}
	for _, tc := range tests {
		e, err := Compile(tc.expr, SchemaChecker(rt))
		if err != nil {
			t.Errorf("Compile(%s): %v", tc.expr, err)
			continue
		}
		got, err := e.Eval(src, testEnv())
		if err != nil {
			t.Errorf("Eval(%s): %v", tc.expr, err)
			continue
		}
		assertValue(t, tc.expr, got, tc.want)
	}
}

func TestGroupMembers(t *testing.T) {
	t.Parallel()
	rt := groupType(t)
	src := DocumentSource{Type: rt, Doc: map[string]any{
		"displayName": "Tour Guides",
		"members":     []any{map[string]any{"value": "a"}, map[string]any{"value": "b"}},
	}}
	assertValue(t, "members", mustEval(t, `[members]`, src), multi("a", "b"))
}

func TestResolveAttribute(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	tests := []struct {
		path string
		want AttributeInfo
	}{
		{"userName", AttributeInfo{Path: "userName", Type: "string"}},
		{"active", AttributeInfo{Path: "active", Type: "boolean"}},
		{"emails", AttributeInfo{Path: "emails", Type: "string", Multi: true}},
		{`emails[type eq "work"].value`, AttributeInfo{Path: `emails[type eq "work"].value`, Type: "string", Multi: true, Filtered: true}},
		{"meta.created", AttributeInfo{Path: "meta.created", Type: "dateTime"}},
	}
	for _, tc := range tests {
		got, err := ResolveAttribute(rt, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("ResolveAttribute(%s) = %+v, %v, want %+v", tc.path, got, err, tc.want)
		}
	}
	if _, err := ResolveAttribute(nil, "userName"); err == nil || !strings.Contains(err.Error(), "no resource type") {
		t.Errorf("ResolveAttribute(nil) error = %v", err)
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	when := time.Date(2021, 7, 2, 15, 33, 38, 0, time.FixedZone("", 3600))
	tests := []struct {
		v      Value
		kind   Kind
		text   string
		str    string
		length int
		any    any
	}{
		{Value{}, Null, "", "null", 0, nil},
		{StringValue("a"), String, "a", `"a"`, 1, "a"},
		{BoolValue(true), Bool, "True", "True", 1, true},
		{BoolValue(false), Bool, "False", "False", 1, false},
		{IntValue(-3), Int, "-3", "-3", 1, int64(-3)},
		{TimeValue(when), DateTime, "7/2/2021 2:33:38 PM", "7/2/2021 2:33:38 PM", 1, when.UTC()},
		{multi("a", "b"), Multi, "a, b", `["a", "b"]`, 2, []any{"a", "b"}},
		{MultiValue(), Null, "", "null", 0, nil},
		{MultiValue(Value{}, multi("a"), IntValue(1)), Multi, "a, 1", `["a", 1]`, 2, []any{"a", int64(1)}},
	}
	for _, tc := range tests {
		if tc.v.Kind() != tc.kind || tc.v.Text() != tc.text || tc.v.String() != tc.str || tc.v.Len() != tc.length {
			t.Errorf("%#v: kind %s text %q string %q len %d, want %s %q %q %d",
				tc.v, tc.v.Kind(), tc.v.Text(), tc.v.String(), tc.v.Len(), tc.kind, tc.text, tc.str, tc.length)
		}
		if got := tc.v.Any(); !equalAny(got, tc.any) {
			t.Errorf("%s.Any() = %#v, want %#v", tc.v, got, tc.any)
		}
	}
	if !StringValue("").IsNullOrEmpty() || !multi("").IsNullOrEmpty() || StringValue(" ").IsNullOrEmpty() {
		t.Error("IsNullOrEmpty")
	}
	if n, ok := IntValue(7).Int(); !ok || n != 7 {
		t.Error("Int()")
	}
	if _, ok := StringValue("7").Int(); ok {
		t.Error("Int() of a string reports ok")
	}
	if b, ok := BoolValue(true).Bool(); !ok || !b {
		t.Error("Bool()")
	}
	if tm, ok := TimeValue(when).Time(); !ok || !tm.Equal(when) || tm.Location() != time.UTC {
		t.Error("Time()")
	}
}

func equalAny(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok != bok {
		return false
	}
	if aok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if !equalAny(as[i], bs[i]) {
				return false
			}
		}
		return true
	}
	if at, ok := a.(time.Time); ok {
		bt, ok := b.(time.Time)
		return ok && at.Equal(bt)
	}
	return a == b
}
