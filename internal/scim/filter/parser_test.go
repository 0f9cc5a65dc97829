package filter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
)

// checkRoundTrip asserts the fuzz invariant on a parsed filter: its String()
// parses again to the same String().
func checkRoundTrip(t *testing.T, e Expr) {
	t.Helper()
	s := e.String()
	e2, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) (String of the parsed filter): %v", s, err)
	}
	if got := e2.String(); got != s {
		t.Fatalf("round trip: %q became %q", s, got)
	}
}

// rfcExamples are the example filters of RFC 7644 §3.4.2.2 (Figure 2 and
// the case-insensitivity example), with the canonical form String gives.
var rfcExamples = []struct {
	name, filter, want string
}{
	{"eq", `userName eq "bjensen"`, `userName eq "bjensen"`},
	{"co sub-attribute", `name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
	{"sw", `userName sw "J"`, `userName sw "J"`},
	{"urn qualified", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
	{"pr", `title pr`, `title pr`},
	{"gt dateTime", `meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
	{"ge dateTime", `meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`},
	{"lt dateTime", `meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified lt "2011-05-13T04:42:34Z"`},
	{"le dateTime", `meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`},
	{"pr and eq", `title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
	{"pr or eq", `title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
	{"schemas", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
	{"and group", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))`},
	{"and not group", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`(userType ne "Employee" and not ((emails co "example.com" or emails.value co "example.org")))`},
	{"redundant group", `userType eq "Employee" and (emails.type eq "work")`, `(userType eq "Employee" and emails.type eq "work")`},
	{"value path", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])`},
	{"two value paths", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
	// The RFC prints the long examples wrapped; a line break is whitespace.
	{"wrapped", "userType eq \"Employee\" and emails[type eq \"work\" and\n  value co \"@example.com\"]",
		`(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])`},
	{"operator case", `userName Eq "john"`, `userName eq "john"`},
	{"attribute case", `Username eq "john"`, `Username eq "john"`},
}

func TestParseRFCExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range rfcExamples {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q) = %s, want %s", tc.filter, got, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestParsePrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, filter, want string
	}{
		{"and binds tighter than or", `a pr or b pr and c pr`, `(a pr or (b pr and c pr))`},
		{"and before or", `a pr and b pr or c pr`, `((a pr and b pr) or c pr)`},
		{"and is left-associative", `a pr and b pr and c pr`, `((a pr and b pr) and c pr)`},
		{"or is left-associative", `a pr or b pr or c pr`, `((a pr or b pr) or c pr)`},
		{"mixed chain", `A pr or B pr and C pr or D pr`, `((A pr or (B pr and C pr)) or D pr)`},
		{"not binds tighter than and", `not (a pr) and b pr`, `(not (a pr) and b pr)`},
		{"not of a group", `not (a pr or b pr) and c pr`, `(not ((a pr or b pr)) and c pr)`},
		{"not without space", `not(a pr)`, `not (a pr)`},
		{"double not", `not (not (a pr))`, `not (not (a pr))`},
		{"keywords in upper case", `NOT (a pr) AND b pr OR c pr`, `((not (a pr) and b pr) or c pr)`},
		{"group overrides precedence", `(a pr or b pr) and c pr`, `((a pr or b pr) and c pr)`},
		{"right group", `a pr and (b pr or c pr)`, `(a pr and (b pr or c pr))`},
		{"redundant parentheses", `((a pr))`, `a pr`},
		{"whitespace runs and tabs", "  a pr \t and\t\tb pr  ", `(a pr and b pr)`},
		{"no space around parentheses", `(a pr)and(b pr)`, `(a pr and b pr)`},
		{"not inside brackets", `emails[not (type eq "work")]`, `emails[not (type eq "work")]`},
		{"group inside brackets", `emails[(type eq "a" or type eq "b") and value pr]`, `emails[((type eq "a" or type eq "b") and value pr)]`},
		{"value path in a chain", `a pr or emails[type pr] and b pr`, `(a pr or (emails[type pr] and b pr))`},
		{"attribute called not", `not eq "x"`, `not eq "x"`},
		{"attribute called and", `and pr and or pr`, `(and pr and or pr)`},
		{"value path called not", `not[type pr]`, `not[type pr]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q) = %s, want %s", tc.filter, got, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

func cmp(name string, op Op, v Value) *Compare {
	return &Compare{Path: AttrPath{Name: name}, Op: op, Value: v}
}

func str(s string) Value { return Value{Kind: StringValue, Str: s} }

func TestParseStructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		filter string
		want   Expr
	}{
		{"entra userName", `userName eq "x"`, cmp("userName", Eq, str("x"))},
		{"entra externalId", `externalId eq "x"`, cmp("externalId", Eq, str("x"))},
		{"entra displayName", `displayName eq "x"`, cmp("displayName", Eq, str("x"))},
		{"entra capitalised", `UserName Eq "x"`, cmp("UserName", Eq, str("x"))},
		{"entra unquoted", `externalId eq jyoung`, cmp("externalId", Eq, str("jyoung"))},
		{"entra unquoted address", `userName eq jyoung@example.com`, cmp("userName", Eq, str("jyoung@example.com"))},
		{"entra id and manager", `id eq "x" and manager eq "y"`,
			&Logical{Op: And, Left: cmp("id", Eq, str("x")), Right: cmp("manager", Eq, str("y"))}},
		{"entra members", `members[value eq "id"]`,
			&ValuePath{Attr: AttrPath{Name: "members"}, Filter: cmp("value", Eq, str("id"))}},
		{"entra emails sub eq", `emails[type eq "work"].value eq "x"`,
			&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &Logical{Op: And,
				Left:  cmp("type", Eq, str("work")),
				Right: cmp("value", Eq, str("x"))}}},
		{"entra emails sub pr", `emails[type eq "work"].value pr`,
			&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &Logical{Op: And,
				Left:  cmp("type", Eq, str("work")),
				Right: &Compare{Path: AttrPath{Name: "value"}, Op: Pr}}}},
		{"entra sub after or filter", `emails[type eq "a" or type eq "b"].value eq "x"`,
			&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &Logical{Op: And,
				Left:  &Logical{Op: Or, Left: cmp("type", Eq, str("a")), Right: cmp("type", Eq, str("b"))},
				Right: cmp("value", Eq, str("x"))}}},
		{"enterprise attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`,
			&Compare{Path: AttrPath{URN: enterpriseURN, Name: "department"}, Op: Eq, Value: str("x")}},
		{"enterprise sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
			&Compare{Path: AttrPath{URN: enterpriseURN, Name: "manager", Sub: "value"}, Op: Eq, Value: str("x")}},
		{"urn prefix in upper case", `URN:ietf:params:scim:schemas:core:2.0:User:userName pr`,
			&Compare{Path: AttrPath{URN: "URN:ietf:params:scim:schemas:core:2.0:User", Name: "userName"}, Op: Pr}},
		{"enterprise value path", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "x"]`,
			&ValuePath{Attr: AttrPath{URN: enterpriseURN, Name: "manager"}, Filter: cmp("value", Eq, str("x"))}},
		{"$ref", `manager.$ref pr`, &Compare{Path: AttrPath{Name: "manager", Sub: "$ref"}, Op: Pr}},
		{"$ref at top", `$ref eq "x"`, cmp("$ref", Eq, str("x"))},
		{"name characters", `x-a_1B eq 1`, cmp("x-a_1B", Eq, Value{Kind: NumberValue, Str: "1"})},
		{"not", `not (a pr)`, &Not{X: &Compare{Path: AttrPath{Name: "a"}, Op: Pr}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			if !reflect.DeepEqual(e, tc.want) {
				t.Errorf("Parse(%q) = %s, want %s", tc.filter, e, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string // the filter is `a eq <value>`
		want  Value
	}{
		{"plain string", `"abc"`, str("abc")},
		{"empty string", `""`, str("")},
		{"utf-8", `"José 😀"`, str("José 😀")},
		{"escaped quote", `"a\"b"`, str(`a"b`)},
		{"escaped backslash", `"a\\b"`, str(`a\b`)},
		{"escaped slash", `"a\/b"`, str("a/b")},
		{"control escapes", `"\b\f\n\r\t"`, str("\b\f\n\r\t")},
		{"unicode lower hex", `"\u00e9"`, str("é")},
		{"unicode upper hex", `"\u00E9"`, str("é")},
		{"unicode mixed", `"x\u0041y\\"`, str(`xAy\`)},
		{"surrogate pair upper", `"\uD83D\uDE00"`, str("😀")},
		{"surrogate pair lower", `"\ud83d\ude00!"`, str("😀!")},
		{"lone high surrogate", `"\ud800"`, str("\ufffd")},
		{"lone high surrogate then text", `"\ud800x"`, str("\ufffdx")},
		{"lone low surrogate", `"\udc00"`, str("\ufffd")},
		{"high surrogate then non-surrogate", `"\ud800\u0041"`, str("\ufffdA")},
		{"two high surrogates", `"\ud800\ud83d\ude00"`, str("\ufffd😀")},
		{"brackets in string", `"a)b]c(d[e"`, str("a)b]c(d[e")},
		{"integer", `42`, Value{Kind: NumberValue, Str: "42"}},
		{"negative", `-1`, Value{Kind: NumberValue, Str: "-1"}},
		{"zero", `0`, Value{Kind: NumberValue, Str: "0"}},
		{"decimal", `2.5`, Value{Kind: NumberValue, Str: "2.5"}},
		{"exponent", `1e3`, Value{Kind: NumberValue, Str: "1e3"}},
		{"full number", `-0.5E-2`, Value{Kind: NumberValue, Str: "-0.5E-2"}},
		{"true", `true`, Value{Kind: BoolValue, Bool: true}},
		{"True", `True`, Value{Kind: BoolValue, Bool: true}},
		{"false", `FALSE`, Value{Kind: BoolValue}},
		{"null", `null`, Value{Kind: NullValue}},
		{"Null", `Null`, Value{Kind: NullValue}},
		{"bare word", `jyoung`, str("jyoung")},
		{"bare word like a number", `01`, str("01")},
		{"bare word with dots", `1.2.3`, str("1.2.3")},
		{"bare dash", `-`, str("-")},
		{"bare word with backslash", `a\b`, str(`a\b`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := "a eq " + tc.value
			e, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse(%q): %v", f, err)
			}
			c, ok := e.(*Compare)
			if !ok {
				t.Fatalf("Parse(%q) = %T, want *Compare", f, e)
			}
			if c.Value != tc.want {
				t.Errorf("Parse(%q) value = %#v, want %#v", f, c.Value, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

// TestValueStringIsJSON checks that String writes strings in the JSON syntax
// the grammar reads, including characters strconv.Quote would write as Go
// escapes (\a, \v, \x01, \U000e0001) that no SCIM parser accepts.
func TestValueStringIsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, s string
	}{
		{"plain", "abc"},
		{"quote and backslash", `a"b\c`},
		{"controls", "\x01\a\b\t\n\v\f\r\x1f\x7f"},
		{"non-printable unicode", "\u00ad\u2028\U000e0001"},
		{"invalid utf-8", "a\xffb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := Value{Kind: StringValue, Str: tc.s}.String()
			var got string
			if err := json.Unmarshal([]byte(q), &got); err != nil {
				t.Fatalf("String() = %s is not a JSON string: %v", q, err)
			}
			want := strings.ToValidUTF8(tc.s, "\ufffd")
			if got != want {
				t.Errorf("String() = %s decodes to %q, want %q", q, got, want)
			}
			e, err := Parse("a eq " + q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if v := e.(*Compare).Value.Str; v != want {
				t.Errorf("parsed back as %q, want %q", v, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		filter string
		want   []string // parts of the detail, the position first
	}{
		{"empty", ``, []string{"the filter is empty"}},
		{"NUL escape", `userName eq "a\u0000"`, []string{"position 14:", `\u0000 is not allowed in a string`}},
		{"blank", "  \t ", []string{"the filter is empty"}},
		{"unknown operator", `userName xx "x"`, []string{"position 9:", `expected a comparison operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le), found "xx"`}},
		{"regex operator", `userName regex "x"`, []string{"position 9:", `found "regex"`}},
		{"missing operator", `userName`, []string{"position 8:", "expected a comparison operator", "found end of input"}},
		{"missing value", `userName eq`, []string{"position 11:", "expected a value (string, number, true, false or null), found end of input"}},
		{"keyword as value", `userName eq and`, []string{"position 12:", `expected a value`, `found "and"`}},
		{"parenthesis as value", `userName eq (`, []string{"position 12:", `expected a value`, `found "("`}},
		{"trailing word", `userName eq "x" xx`, []string{"position 16:", `expected "and", "or" or end of input, found "xx"`}},
		{"value after pr", `title pr "x"`, []string{"position 9:", `expected "and", "or" or end of input, found the string "x"`}},
		{"unclosed parenthesis", `(userName eq "x"`, []string{"position 16:", `expected "and", "or" or ")", found end of input`}},
		{"stray closing parenthesis", `userName eq "x")`, []string{"position 15:", `found ")"`}},
		{"empty parentheses", `()`, []string{"position 1:", `expected an attribute path, "not" or "(", found ")"`}},
		{"dangling and", `userName eq "x" and`, []string{"position 19:", `expected an attribute path, "not" or "(", found end of input`}},
		{"not without parenthesis", `not userName eq "x"`, []string{"position 4:", `expected "(" after "not", found "userName"`}},
		{"dangling not", `a pr and not`, []string{"position 12:", `expected "(" after "not", found end of input`}},
		{"unterminated string", `userName eq "abc`, []string{"position 12:", "unterminated string"}},
		{"unterminated after escape", `userName eq "ab\"`, []string{"position 12:", "unterminated string"}},
		{"backslash at end", `userName eq "ab\`, []string{"position 12:", "unterminated string"}},
		{"invalid escape", `userName eq "a\qb"`, []string{"position 14:", `invalid escape \q in string`}},
		{"short unicode escape", `userName eq "\u12"`, []string{"position 13:", `\u must be followed by four hexadecimal digits`}},
		{"bad unicode escape", `userName eq "\u12G4"`, []string{"position 13:", `invalid escape \u12G4: \u must be followed by four hexadecimal digits`}},
		{"raw control character", "userName eq \"a\x01\"", []string{"position 14:", "must be escaped"}},
		{"raw newline in string", "userName eq \"a\nb\"", []string{"position 14:", "must be escaped"}},
		{"control character outside string", "user\x01Name eq 1", []string{"position 4:", "unexpected control character"}},
		{"invalid utf-8", "userName eq \"\xff\"", []string{"position 13:", "not valid UTF-8"}},
		{"unclosed bracket", `emails[type eq "work"`, []string{"position 21:", `expected "and", "or" or "]", found end of input`}},
		{"extra bracket", `emails[type eq "work"]]`, []string{"position 22:", `found "]"`}},
		{"parenthesis closes bracket", `emails[type eq "work")]`, []string{"position 21:", `expected "and", "or" or "]", found ")"`}},
		{"empty brackets", `emails[]`, []string{"position 7:", `found "]"`}},
		{"nested brackets", `emails[value[type eq "x"] eq 1]`, []string{"position 12:", "value filters cannot be nested"}},
		{"urn inside brackets", `emails[urn:x:y eq 1]`, []string{"position 7:", "cannot name a schema URN"}},
		{"sub-attribute inside brackets", `emails[name.x eq 1]`, []string{"position 11:", "cannot have a sub-attribute"}},
		{"bracket after sub-attribute", `name.familyName[type eq "x"]`, []string{"position 15:", "a value filter cannot follow a sub-attribute"}},
		{"bracket then nothing", `emails[type eq "work"]`, nil}, // valid; kept as a contrast
		{"dot then nothing", `emails[type eq "work"].`, []string{"position 23:", "expected an attribute name, found end of input"}},
		{"sub then no operator", `emails[type eq "work"].value`, []string{"position 28:", "expected a comparison operator", "found end of input"}},
		{"two levels after bracket", `emails[type eq "work"].value.x eq 1`, []string{"position 28:", "at most one sub-attribute"}},
		{"two sub-attributes", `a.b.c eq 1`, []string{"position 3:", "at most one sub-attribute"}},
		{"name starts with digit", `1abc eq 1`, []string{"position 0:", "an attribute name must start with a letter, found '1'"}},
		{"empty sub-attribute", `name. eq 1`, []string{"position 5:", "expected an attribute name"}},
		{"bad character in name", `user#name eq 1`, []string{"position 4:", `unexpected '#' in attribute name "user#name"`}},
		{"colon without urn", `x:y eq 1`, []string{"position 1:", `a schema URN must start with "urn:"`}},
		{"empty urn segment", `urn::x eq 1`, []string{"position 4:", "empty segment in schema URN"}},
		{"urn without segments", `urn:abc eq 1`, []string{"position 3:", `empty segment in schema URN "urn"`}},
		{"bad urn character", `urn:a<b:x eq 1`, []string{"position 5:", `unexpected '<' in schema URN "urn:a<b"`}},
		{"urn without name", `urn:a:b: eq 1`, []string{"position 8:", "expected an attribute name"}},
		{"string as path", `"userName" eq "x"`, []string{"position 0:", `expected an attribute path, "not" or "(", found the string "userName"`}},
		{"long token shortened", `a ` + strings.Repeat("x", 100), []string{"position 2:", `found "` + strings.Repeat("x", 40) + `..."`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.filter, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.filter, e)
			}
			wantSCIMError(t, err, scim.InvalidFilter, tc.want...)
			if e != nil {
				t.Errorf("Parse(%q) returned %v along with its error", tc.filter, e)
			}
		})
	}
}

func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

func TestParseBounds(t *testing.T) {
	t.Parallel()
	exact := `userName eq "` + strings.Repeat("x", MaxLength-len(`userName eq ""`)) + `"`
	tests := []struct {
		name   string
		filter string
		want   []string // nil: must parse
	}{
		{"length at the limit", exact, nil},
		{"length over the limit", exact + " ", []string{"longer than 8192 bytes"}},
		{"100000 parentheses", strings.Repeat("(", 100000), []string{"longer than 8192 bytes"}},
		{"parentheses at the limit", nest("(", "a pr", ")", MaxDepth), nil},
		{"parentheses over the limit", nest("(", "a pr", ")", MaxDepth+1), []string{"position 32:", "nested more than 32 levels deep"}},
		{"8000 parentheses", strings.Repeat("(", 8000), []string{"position 32:", "nested more than 32 levels deep"}},
		{"not at the limit", nest("not (", "a pr", ")", MaxDepth), nil},
		{"not over the limit", nest("not (", "a pr", ")", MaxDepth+1), []string{"position 160:", "nested more than 32 levels deep"}},
		{"mixed at the limit", nest("(not (", `emails[type pr]`, "))", (MaxDepth-1)/2) + " and b pr", nil},
		{"bracket over the limit", nest("(", `emails[type pr]`, ")", MaxDepth), []string{"position 38:", "nested more than 32 levels deep"}},
		{"bracket content over the limit", nest("(", `emails[`+nest("(", "type pr", ")", 1)+`]`, ")", MaxDepth-1), []string{"position 38:", "nested more than 32 levels deep"}},
		{"long and chain", strings.TrimSuffix(strings.Repeat("a pr and ", 900), " and "), nil},
		{"long or chain", strings.TrimSuffix(strings.Repeat("a eq 1 or ", 800), " or "), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			e, err := Parse(tc.filter)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Parse took %v", elapsed)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				// Evaluating a long chain must not recurse per term either.
				Match(e, map[string]any{"a": "x"}, testUserType())
				return
			}
			wantSCIMError(t, err, scim.InvalidFilter, tc.want...)
		})
	}
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		want Path
		str  string // String(), when it differs from path
	}{
		{"attribute", `members`, Path{Attr: AttrPath{Name: "members"}}, ""},
		{"sub-attribute", `name.familyName`, Path{Attr: AttrPath{Name: "name", Sub: "familyName"}}, ""},
		{"value filter", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
			Path{Attr: AttrPath{Name: "members"}, Filter: cmp("value", Eq, str("2819c223-7f76-453a-919d-413861904646"))}, ""},
		{"value filter and sub-attribute", `members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`,
			Path{Attr: AttrPath{Name: "members"}, Filter: cmp("value", Eq, str("2819c223-7f76-453a-919d-413861904646")), Sub: "displayName"}, ""},
		{"logical value filter", `emails[type eq "work" and value ew "example.com"]`,
			Path{Attr: AttrPath{Name: "emails"}, Filter: &Logical{Op: And, Left: cmp("type", Eq, str("work")), Right: cmp("value", Ew, str("example.com"))}},
			`emails[(type eq "work" and value ew "example.com")]`},
		{"extension attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
			Path{Attr: AttrPath{URN: enterpriseURN, Name: "employeeNumber"}}, ""},
		{"extension sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
			Path{Attr: AttrPath{URN: enterpriseURN, Name: "manager", Sub: "value"}}, ""},
		{"bare extension", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
			Path{Attr: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}}, ""},
		{"core urn with filter and sub", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
			Path{Attr: AttrPath{URN: userURN, Name: "emails"}, Filter: cmp("type", Eq, str("work")), Sub: "value"}, ""},
		{"unquoted value in filter", `addresses[type eq work]`,
			Path{Attr: AttrPath{Name: "addresses"}, Filter: cmp("type", Eq, str("work"))}, `addresses[type eq "work"]`},
		{"$ref", `manager.$ref`, Path{Attr: AttrPath{Name: "manager", Sub: "$ref"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tc.path)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.path, err)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Errorf("ParsePath(%q) = %#v, want %#v", tc.path, p, tc.want)
			}
			want := tc.str
			if want == "" {
				want = tc.path
			}
			if got := p.String(); got != want {
				t.Errorf("String() = %s, want %s", got, want)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"empty", ``, []string{"invalid path: the path is empty"}},
		{"two sub-attributes", `name.familyName.x`, []string{"invalid path at position 15:", "at most one sub-attribute"}},
		{"unclosed bracket", `emails[type eq "work"`, []string{"position 21:", `expected "and", "or" or "]", found end of input`}},
		{"word after bracket", `emails[type eq "work"] x`, []string{"position 23:", `expected "." and a sub-attribute or end of input, found "x"`}},
		{"word after attribute", `emails x`, []string{"position 7:", `expected "[" or end of input, found "x"`}},
		{"bracket after sub-attribute", `name.givenName[type eq "x"]`, []string{"position 14:", "a value filter cannot follow a sub-attribute"}},
		{"dot then nothing", `emails[type eq "work"].`, []string{"position 23:", "expected an attribute name"}},
		{"quoted path", `"emails"`, []string{"position 0:", "expected an attribute path"}},
		{"operator in path", `emails eq "x"`, []string{"position 7:", `expected "[" or end of input, found "eq"`}},
		{"bad filter", `emails[type eq]`, []string{"position 14:", "expected a value"}},
		{"nested brackets", `emails[type[value pr]]`, []string{"position 11:", "value filters cannot be nested"}},
		{"too long", strings.Repeat("a", MaxLength+1), []string{"longer than 8192 bytes"}},
		{"too deep", `emails[` + nest("(", "type pr", ")", MaxDepth) + `]`, []string{"position 38:", "nested more than 32 levels deep"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tc.path)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %s, want an error", tc.path, p)
			}
			wantSCIMError(t, err, scim.InvalidPath, tc.want...)
		})
	}
}

func TestParseAttrPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		want AttrPath
		err  []string
	}{
		{"attribute", `userName`, AttrPath{Name: "userName"}, nil},
		{"sub-attribute", `name.givenName`, AttrPath{Name: "name", Sub: "givenName"}, nil},
		{"dateTime sub-attribute", `meta.lastModified`, AttrPath{Name: "meta", Sub: "lastModified"}, nil},
		{"core urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName`, AttrPath{URN: userURN, Name: "userName"}, nil},
		{"extension sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName`,
			AttrPath{URN: enterpriseURN, Name: "manager", Sub: "displayName"}, nil},
		{"bare extension", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
			AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}, nil},
		{"surrounding spaces", `  userName `, AttrPath{Name: "userName"}, nil},
		{"empty", ``, AttrPath{}, []string{"the path is empty"}},
		{"filter", `emails[type eq "work"]`, AttrPath{}, []string{"position 6:", `expected end of input after the attribute path, found "["`}},
		{"two words", `a b`, AttrPath{}, []string{"position 2:", `found "b"`}},
		{"empty sub-attribute", `name..x`, AttrPath{}, []string{"position 5:", "an attribute name must start with a letter, found '.'"}},
		{"digit first", `1x`, AttrPath{}, []string{"position 0:", "must start with a letter"}},
		{"comma list", `userName,name`, AttrPath{}, []string{"position 8:", `unexpected ','`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseAttrPath(tc.path)
			if tc.err != nil {
				wantSCIMError(t, err, scim.InvalidPath, tc.err...)
				return
			}
			if err != nil {
				t.Fatalf("ParseAttrPath(%q): %v", tc.path, err)
			}
			if p != tc.want {
				t.Errorf("ParseAttrPath(%q) = %#v, want %#v", tc.path, p, tc.want)
			}
		})
	}
}
