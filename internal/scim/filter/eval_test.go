package filter

import (
	"encoding/json"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func TestMatchUser(t *testing.T) {
	t.Parallel()
	rt := testUserType()
	doc := decode(t, testUserJSON)
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		// RFC 7644 §3.4.2.2 examples.
		{"rfc eq", `userName eq "barbara.jensen@example.com"`, true},
		{"rfc co sub-attribute", `name.familyName co "O'Malley"`, true},
		{"rfc sw", `userName sw "B"`, true},
		{"rfc urn qualified", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"`, true},
		{"rfc pr", `title pr`, true},
		{"rfc gt", `meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
		{"rfc ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
		{"rfc lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, false},
		{"rfc le", `meta.lastModified le "2011-05-13T04:42:34Z"`, true},
		{"rfc pr and eq", `title pr and userType eq "Employee"`, true},
		{"rfc pr or eq", `title pr or userType eq "Intern"`, true},
		{"rfc schemas", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, true},
		{"rfc and group", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
		{"rfc and not group", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
		{"rfc redundant group", `userType eq "Employee" and (emails.type eq "work")`, true},
		{"rfc value path", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, true},
		{"rfc two value paths", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true},

		// Strings and caseExact.
		{"caseExact false eq", `userName eq "BARBARA.JENSEN@EXAMPLE.COM"`, true},
		{"caseExact false ne", `userName ne "BARBARA.JENSEN@EXAMPLE.COM"`, false},
		{"caseExact false ne other", `userName ne "x"`, true},
		{"caseExact false co", `userName co "JENSEN"`, true},
		{"caseExact false sw", `userName sw "barbara."`, true},
		{"caseExact false sw miss", `userName sw "jensen"`, false},
		{"caseExact false ew", `userName ew "@EXAMPLE.COM"`, true},
		{"caseExact true eq", `externalId eq "jYoung"`, true},
		{"caseExact true eq other case", `externalId eq "jyoung"`, false},
		{"caseExact true ne other case", `externalId ne "jyoung"`, true},
		{"caseExact true co", `externalId co "Young"`, true},
		{"caseExact true co other case", `externalId co "young"`, false},
		{"caseExact true sw", `externalId sw "jY"`, true},
		{"caseExact true ew other case", `externalId ew "OUNG"`, false},
		{"unquoted value", `externalId eq jYoung`, true},
		{"id caseExact", `id eq "2819C223-7F76-453A-919D-413861904646"`, false},
		{"string gt folded", `displayName gt "babs"`, true},
		{"string lt folded", `displayName lt "BABS JENSEN"`, false},
		{"string le folded", `displayName le "BABS JENSEN"`, true},
		{"string ge folded", `displayName ge "BABT"`, false},
		{"string gt caseExact", `externalId gt "jYoung"`, false},
		{"string ge caseExact", `externalId ge "jYoung"`, true},
		{"string lt caseExact", `externalId lt "jyoung"`, true},
		{"reference", `profileUrl eq "https://login.example.com/bjensen"`, true},
		{"empty co", `userName co ""`, true},
		{"capitalised", `UserName Eq "barbara.jensen@example.com"`, true},

		// dateTime compares instants.
		{"dateTime other offset eq", `meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
		{"dateTime other offset ne", `meta.lastModified ne "2011-05-13T06:42:34+02:00"`, false},
		{"dateTime other offset gt", `meta.lastModified gt "2011-05-13T06:42:33+02:00"`, true},
		{"dateTime negative offset", `meta.lastModified eq "2011-05-12T23:42:34-05:00"`, true},
		{"dateTime fraction", `meta.lastModified lt "2011-05-13T04:42:34.001Z"`, true},
		{"dateTime fraction eq", `meta.lastModified eq "2011-05-13T04:42:34.000Z"`, true},
		{"dateTime without offset", `meta.lastModified eq "2011-05-13T04:42:34"`, true},
		{"dateTime unparsable", `meta.created lt "yesterday"`, false},
		{"dateTime unparsable ne", `meta.created ne "yesterday"`, false},
		{"dateTime sw as string", `meta.created sw "2010-01"`, true},
		{"dateTime number", `meta.created gt 2000`, false},

		// Booleans.
		{"boolean eq true", `active eq true`, true},
		{"boolean eq TRUE", `active eq TRUE`, true},
		{"boolean eq false", `active eq false`, false},
		{"boolean ne false", `active ne false`, true},
		{"boolean string is a mismatch", `active eq "true"`, false},
		{"boolean string ne is a mismatch", `active ne "yes"`, false},
		{"boolean gt", `active gt false`, false},
		{"boolean in value path", `emails[primary eq true].value ew "example.com"`, true},

		// Numbers.
		{"integer eq", `loginCount eq 42`, true},
		{"integer ne", `loginCount ne 42`, false},
		{"integer gt", `loginCount gt 41`, true},
		{"integer gt equal", `loginCount gt 42`, false},
		{"integer ge decimal literal", `loginCount ge 42.0`, true},
		{"integer exponent literal", `loginCount lt 4.2e1`, false},
		{"integer le", `loginCount le 42`, true},
		{"integer negative", `loginCount gt -1`, true},
		{"integer string is a mismatch", `loginCount eq "42"`, false},
		{"integer co", `loginCount co 4`, false},
		{"decimal gt", `score gt 97.49`, true},
		{"decimal eq trailing zero", `score eq 97.50`, true},
		{"decimal lt exponent", `score lt 1e2`, true},
		{"decimal eq integer", `score eq 97`, false},
		{"string number is a mismatch", `userName eq 1`, false},
		{"string number ne is a mismatch", `userName ne 1`, false},

		// Multi-valued attributes.
		{"complex value co", `emails co "example.com"`, true},
		{"complex value co miss", `emails co "nowhere"`, false},
		{"complex value eq", `emails eq "BABS@jensen.org"`, true},
		{"sub-attribute any", `emails.type eq "home"`, true},
		{"sub-attribute none", `emails.type eq "other"`, false},
		{"sub-attribute ne any", `emails.type ne "work"`, true},
		{"sub-attribute ew", `emails.value ew ".org"`, true},
		{"simple multi-valued", `schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, true},
		{"simple multi-valued caseExact", `schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"`, false},
		{"binary", `x509Certificates.value eq "TUlJRGpqQ0NBbmFnQXdJQkFnSUJB"`, true},
		{"binary ordering matches nothing", `x509Certificates gt "A"`, false},

		// Value paths.
		{"value path same element", `emails[type eq "work" and value co "@example.com"]`, true},
		{"value path different elements", `emails[type eq "home" and value co "@example.com"]`, false},
		{"sub-attributes across elements", `emails.type eq "home" and emails.value co "@example.com"`, true},
		{"entra value path", `emails[type eq "work"].value eq "bjensen@example.com"`, true},
		{"entra value path miss", `emails[type eq "home"].value eq "bjensen@example.com"`, false},
		{"entra value path pr", `emails[type eq "home"].value pr`, true},
		{"value path not", `emails[not (type eq "work")]`, true},
		{"value path names ignore case", `EMAILS[TYPE eq "work"]`, true},
		{"value path on absent attribute", `members[value eq "x"]`, false},
		{"value path ne on absent attribute", `members[value ne "x"]`, false},
		{"value path on single complex", `name[givenName eq "barbara"]`, true},

		// Enterprise extension.
		{"unqualified extension", `department eq "tour operations"`, true},
		{"qualified extension", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tour Operations"`, true},
		{"qualified extension urn case", `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department sw "tour"`, true},
		{"qualified extension sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{"extension sub-attribute caseExact", `manager.value eq "26118915-6090-4610-87E4-49D8CA9F808D"`, false},
		{"entra manager", `manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{"entra id and manager", `id eq "2819c223-7f76-453a-919d-413861904646" and manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{"extension value path", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName eq "john smith"]`, true},
		{"$ref", `manager.$ref pr`, true},
		{"whole extension pr", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, true},
		{"core urn is not a container", `urn:ietf:params:scim:schemas:core:2.0:User:department pr`, false},

		// Nulls, presence and unknown attributes.
		{"eq null on present", `title eq null`, false},
		{"ne null on present", `title ne null`, true},
		{"eq null on number", `loginCount eq null`, false},
		{"unknown eq", `nickName eq "x"`, false},
		{"unknown ne", `nickName ne "x"`, true},
		{"unknown eq null", `nickName eq null`, true},
		{"unknown ne null", `nickName ne null`, false},
		{"unknown pr", `nickName pr`, false},
		{"unknown extension", `urn:example:custom:1.0:User:costCenter eq "x"`, false},
		{"gt null", `title gt null`, false},
		{"complex pr", `name pr`, true},
		{"multi-valued pr", `emails pr`, true},

		// Logic.
		{"not", `not (userName eq "x")`, true},
		{"not of true", `not (title pr)`, false},
		{"or short", `title pr or nickName pr`, true},
		{"and short", `nickName pr and title pr`, false},
		{"precedence", `nickName pr and title pr or active eq true`, true},
		{"grouping", `nickName pr and (title pr or active eq true)`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			// Check would refuse the boolean and binary ordering cases;
			// Match must still answer them, with false.
			if got := Match(e, doc, rt); got != tc.want {
				t.Errorf("Match(%q) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func TestMatchDocuments(t *testing.T) {
	t.Parallel()
	rt := testUserType()
	tests := []struct {
		name   string
		doc    string
		filter string
		want   bool
	}{
		{"null eq null", `{"title": null}`, `title eq null`, true},
		{"null pr", `{"title": null}`, `title pr`, false},
		{"null ne value", `{"title": null}`, `title ne "x"`, true},
		{"absent ne value", `{}`, `title ne "x"`, true},
		{"absent eq null", `{}`, `title eq null`, true},
		{"empty string pr", `{"title": ""}`, `title pr`, false},
		{"empty string eq null", `{"title": ""}`, `title eq null`, false},
		{"empty string eq empty", `{"title": ""}`, `title eq ""`, true},
		{"empty array eq null", `{"emails": []}`, `emails eq null`, true},
		{"empty array pr", `{"emails": []}`, `emails pr`, false},
		{"empty array ne", `{"emails": []}`, `emails.value ne "x"`, true},
		{"empty array sub eq null", `{"emails": []}`, `emails.value eq null`, true},
		{"empty object pr", `{"name": {}}`, `name pr`, false},
		{"object of nulls pr", `{"name": {"givenName": null, "familyName": ""}}`, `name pr`, false},
		{"object pr", `{"name": {"givenName": "B"}}`, `name pr`, true},
		{"array of empty objects pr", `{"emails": [{}]}`, `emails pr`, false},
		{"array of empty objects ne null", `{"emails": [{}]}`, `emails ne null`, true},
		{"sub-attribute missing in some", `{"emails": [{"type": "work"}, {"value": "x"}]}`, `emails.value eq "x"`, true},
		{"sub-attribute pr in some", `{"emails": [{"type": "work"}, {"value": "x"}]}`, `emails.value pr`, true},
		{"sub-attribute of scalar", `{"userName": "x"}`, `userName.value eq "x"`, false},
		{"sub-attribute of scalar ne", `{"userName": "x"}`, `userName.value ne "x"`, true},
		{"single-valued complex ne", `{"name": {"givenName": "B"}}`, `name ne "x"`, true},
		{"multi-valued sub-attribute", `{"emails": [{"value": ["a", "b"]}]}`, `emails.value eq "B"`, true},
		{"multi-valued sub-attribute empty", `{"emails": [{"value": []}]}`, `emails.value ne "x"`, true},
		{"multi-valued sub-attribute of objects", `{"emails": [{"value": [{"value": "b"}]}]}`, `emails.value eq "b"`, true},
		{"nested presence", `{"blob": [{"a": [{"b": {"c": 1}}]}]}`, `blob pr`, true},
		{"unknown multi-valued strings", `{"tags": ["a", "B"]}`, `tags eq "b"`, true},
		{"unknown number", `{"level": 3}`, `level gt 2`, true},
		{"unknown number string mismatch", `{"level": 3}`, `level eq "3"`, false},
		{"unknown bool", `{"flag": false}`, `flag eq false`, true},
		{"unknown object", `{"blob": {"a": 1}}`, `blob eq 1`, false},
		{"unknown nested array", `{"grid": [[1, 2]]}`, `grid eq 2`, true},
		{"big integers", `{"loginCount": 12345678901234567890123}`, `loginCount gt 12345678901234567890122`, true},
		{"big integers equal", `{"loginCount": 12345678901234567890123}`, `loginCount eq 12345678901234567890123`, true},
		{"precise decimals", `{"score": 9007199254740993.0}`, `score gt 9007199254740992`, true},
		{"huge exponent", `{"score": 1e400}`, `score gt 1e399`, true},
		{"exponent beyond big.Float", `{"score": 1}`, `score lt 1e99999999999999999999`, true},
		{"negative exponent beyond big.Float", `{"score": 1}`, `score gt 1e-99999999999999999999`, true},
		{"wrong document type", `{"userName": 5, "active": "yes", "loginCount": "7"}`, `userName eq "5" or active eq true or loginCount eq 7`, false},
		{"wrong element type", `{"emails": ["a", 3, null, {"value": "x"}]}`, `emails[value eq "x"]`, true},
		{"case-insensitive key", `{"USERNAME": "bjensen"}`, `userName eq "bjensen"`, true},
		{"extension key case", `{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "x"}}`, `department eq "x"`, true},
		{"extension not an object", `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}`, `department eq "x"`, false},
		{"dateTime in another zone", `{"meta": {"lastModified": "2011-05-13T06:42:34+02:00"}}`, `meta.lastModified eq "2011-05-13T04:42:34Z"`, true},
		{"kelvin sign folds", `{"displayName": "\u212aelvin"}`, `displayName sw "kel"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			doc := decode(t, tc.doc)
			if got := Match(e, doc, rt); got != tc.want {
				t.Errorf("Match(%q) on %s = %v, want %v", tc.filter, tc.doc, got, tc.want)
			}
		})
	}
}

// TestMatchGoValues covers documents built in Go or decoded without
// UseNumber, and a nil resource type.
func TestMatchGoValues(t *testing.T) {
	t.Parallel()
	doc := map[string]any{
		"userName":   "bjensen",
		"loginCount": float64(42),
		"level":      7,
		"big":        int64(1) << 40,
		"nan":        nanValue(),
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Ops"},
	}
	tests := []struct {
		name   string
		filter string
		rt     *schema.ResourceType
		want   bool
	}{
		{"float64", `loginCount eq 42`, testUserType(), true},
		{"float64 decimal literal", `loginCount lt 42.5`, testUserType(), true},
		{"int", `level ge 7`, nil, true},
		{"int64", `big eq 1099511627776`, nil, true},
		{"NaN matches nothing", `nan eq 1`, nil, false},
		{"nil resource type", `userName eq "BJENSEN"`, nil, true},
		{"nil resource type urn", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "ops"`, nil, true},
		{"nil resource type core urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			if got := Match(e, doc, tc.rt); got != tc.want {
				t.Errorf("Match(%q) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// TestMatchHandBuilt feeds the evaluator ASTs the parser never produces;
// they must not panic.
func TestMatchHandBuilt(t *testing.T) {
	t.Parallel()
	doc := decode(t, testUserJSON)
	rt := testUserType()
	tests := []struct {
		name string
		e    Expr
		want bool
	}{
		{"nil expression", nil, false},
		{"nil compare", (*Compare)(nil), false},
		{"nil logical", (*Logical)(nil), false},
		{"nil not", (*Not)(nil), false},
		{"nil value path", (*ValuePath)(nil), false},
		{"logical with nil sides", &Logical{Op: And}, false},
		{"unknown logical op", &Logical{Op: "xor", Left: cmp("title", Pr, Value{}), Right: cmp("title", Pr, Value{})}, false},
		{"value path without filter", &ValuePath{Attr: AttrPath{Name: "emails"}}, false},
		{"unknown operator", cmp("userName", "regex", str(".*")), false},
		{"number literal not JSON", cmp("loginCount", Gt, Value{Kind: NumberValue, Str: "Inf"}), false},
		{"hex literal", cmp("loginCount", Eq, Value{Kind: NumberValue, Str: "0x2a"}), false},
		{"unknown kind", cmp("userName", Eq, Value{Kind: 99}), false},
		{"nested value path", &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &ValuePath{Attr: AttrPath{Name: "type"}, Filter: cmp("x", Pr, Value{})}}, false},
		{"sub inside element", &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &Compare{Path: AttrPath{Name: "value", Sub: "x"}, Op: Ne, Value: str("y")}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Match(tc.e, doc, rt); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
			_ = Check(tc.e, rt)
		})
	}
}

func TestMatchElement(t *testing.T) {
	t.Parallel()
	rt := testUserType()
	emails := rt.Schema.Attribute("emails")
	members := rt.Schema.Attribute("members")
	tests := []struct {
		name   string
		filter string
		elem   string
		attr   *schema.Attribute
		want   bool
	}{
		{"type caseExact false", `type eq "WORK"`, `{"type": "work", "value": "a@x"}`, emails, true},
		{"unknown attribute", `type eq "WORK"`, `{"type": "work"}`, nil, true},
		{"and", `type eq "work" and value co "@x"`, `{"type": "work", "value": "a@x"}`, emails, true},
		{"and miss", `type eq "work" and value co "@y"`, `{"type": "work", "value": "a@x"}`, emails, false},
		{"boolean", `primary eq true`, `{"primary": true}`, emails, true},
		{"caseExact value", `value eq "ABC"`, `{"value": "abc"}`, members, false},
		{"caseExact value match", `value eq "abc"`, `{"value": "abc"}`, members, true},
		{"ne absent", `display ne "x"`, `{"value": "abc"}`, members, true},
		{"key case", `VALUE eq "abc"`, `{"Value": "abc"}`, members, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath("attr[" + tc.filter + "]")
			if err != nil {
				t.Fatalf("ParsePath: %v", err)
			}
			if got := MatchElement(p.Filter, decode(t, tc.elem), tc.attr); got != tc.want {
				t.Errorf("MatchElement(%q, %s) = %v, want %v", tc.filter, tc.elem, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	rt := testUserType()
	tests := []struct {
		name   string
		filter string
		want   string // part of the error detail; "" for no error
	}{
		{"rfc example", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, ""},
		{"dateTime ordering", `meta.lastModified gt "2011-05-13T04:42:34Z"`, ""},
		{"boolean eq", `active eq true`, ""},
		{"boolean gt", `active gt true`, `"gt" cannot be applied to active, a boolean attribute`},
		{"boolean le", `emails.primary le false`, `"le" cannot be applied to emails.primary, a boolean attribute`},
		{"boolean in value path", `emails[primary ge true]`, `"ge" cannot be applied to primary, a boolean attribute`},
		{"binary lt", `photoData lt "x"`, "a binary attribute"},
		{"binary sub-attribute", `x509Certificates.value ge "a"`, "a binary attribute"},
		{"binary through value", `x509Certificates gt "a"`, "a binary attribute"},
		{"binary eq", `x509Certificates.value eq "a"`, ""},
		{"nested under not", `not (active lt false)`, "a boolean attribute"},
		{"nested in a chain", `title pr and (userName pr or active ge true) and title pr`, "a boolean attribute"},
		{"value path on simple", `userName[value eq "x"]`, `userName[...] filters the values of "userName", which is not a complex attribute`},
		{"value path on multi-valued simple", `schemas[value eq "x"]`, "not a complex attribute"},
		{"value path on extension simple", `department[value eq "x"]`, "not a complex attribute"},
		{"value path on extension complex", `manager[value eq "x"]`, ""},
		{"unknown sub-attribute", `name.middle eq "x"`, `attribute "name" has no sub-attribute "middle"`},
		{"sub-attribute of simple", `userName.x eq "x"`, `attribute "userName" is not complex and has no sub-attribute "x"`},
		{"unknown sub-attribute in value path", `emails[foo eq "x"]`, `attribute "emails" has no sub-attribute "foo"`},
		{"entra form", `emails[type eq "work"].value eq "x"`, ""},
		{"entra form unknown sub", `emails[type eq "work"].nope eq "x"`, `has no sub-attribute "nope"`},
		{"unknown attribute", `customAttr gt true`, ""},
		{"unknown attribute value path", `custom[a gt true]`, ""},
		{"unknown extension", `urn:example:custom:1.0:User:costCenter gt true`, ""},
		{"extension sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref pr`, ""},
		{"extension unknown sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.foo pr`, `"manager" has no sub-attribute "foo"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			err = Check(e, rt)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check(%q): %v", tc.filter, err)
				}
				return
			}
			wantSCIMError(t, err, scim.InvalidFilter, tc.want)
		})
	}
	if err := Check(&Compare{Path: AttrPath{Name: "active"}, Op: Gt}, nil); err != nil {
		t.Errorf("Check with a nil resource type: %v", err)
	}
}

// TestMatchUseNumberTypes documents that the evaluator takes json.Number.
func TestMatchUseNumberTypes(t *testing.T) {
	t.Parallel()
	doc := map[string]any{"loginCount": json.Number("10")}
	e, err := Parse("loginCount lt 9.5e0")
	if err != nil {
		t.Fatal(err)
	}
	if Match(e, doc, testUserType()) {
		t.Error("10 lt 9.5 matched")
	}
}
