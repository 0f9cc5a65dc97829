package scoping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func userType(t testing.TB) *schema.ResourceType {
	t.Helper()
	rt := schema.Builtin().ResourceType("User")
	if rt == nil {
		t.Fatal("no User resource type")
	}
	return rt
}

// match compiles a one-clause set on the attribute "x" of a MapSource (no
// schema: the operator is under test, not the attribute) and evaluates it.
func match(t *testing.T, op Operator, value string, x expr.Value, present bool) bool {
	t.Helper()
	c, err := compileClause(Clause{Attribute: "userName", Operator: op, Value: value}, userType(t))
	if err != nil {
		t.Fatalf("%s %q: %v", op, value, err)
	}
	c.attr = "x"
	m := &Matcher{filters: [][]clause{{c}}}
	src := expr.MapSource{}
	if present {
		src["x"] = x
	}
	ok, err := m.Match(src)
	if err != nil {
		t.Fatalf("x %s %q with x = %s: %v", op, value, x, err)
	}
	return ok
}

func TestOperators(t *testing.T) {
	t.Parallel()
	s, n, b := expr.StringValue, expr.IntValue, expr.BoolValue
	tests := []struct {
		name  string
		op    Operator
		value string
		x     expr.Value
		null  bool // the attribute is absent
		want  bool
	}{
		{"& attribute in value", ContainedIn, "Sales,Marketing", s("Sales"), false, true},
		{"& attribute not in value", ContainedIn, "Sales,Marketing", s("HR"), false, false},
		{"& is case-sensitive", ContainedIn, "Sales,Marketing", s("sales"), false, false},
		{"& null", ContainedIn, "Sales,Marketing", expr.Value{}, true, false},
		{"& empty", ContainedIn, "Sales,Marketing", s(""), false, false},

		{"!& attribute not in value", NotContainedIn, "Sales,Marketing", s("HR"), false, true},
		{"!& attribute in value", NotContainedIn, "Sales,Marketing", s("Marketing"), false, false},
		{"!& null", NotContainedIn, "Sales,Marketing", expr.Value{}, true, false},
		{"!& empty", NotContainedIn, "Sales,Marketing", s(""), false, false},

		{"ENDS_WITH match", EndsWith, "@contoso.com", s("jo@contoso.com"), false, true},
		{"ENDS_WITH no match", EndsWith, "@contoso.com", s("jo@contoso.org"), false, false},
		{"ENDS_WITH is case-sensitive", EndsWith, "@contoso.com", s("jo@CONTOSO.com"), false, false},
		{"ENDS_WITH null", EndsWith, "@contoso.com", expr.Value{}, true, false},

		{"EQUALS match", Equals, "sales", s("sales"), false, true},
		{"EQUALS is case-sensitive", Equals, "sales", s("Sales"), false, false},
		{"EQUALS boolean", Equals, "True", b(true), false, true},
		{"EQUALS null", Equals, "sales", expr.Value{}, true, false},
		{"EQUALS empty", Equals, "sales", s(""), false, false},

		{"Greater_Than match", GreaterThan, "1000000", s("1500000"), false, true},
		{"Greater_Than integer", GreaterThan, "1000000", n(2000000), false, true},
		{"Greater_Than equal", GreaterThan, "1000000", n(1000000), false, false},
		{"Greater_Than not an integer", GreaterThan, "1000000", s("2e6"), false, false},
		{"Greater_Than boolean", GreaterThan, "0", b(true), false, false},
		{"Greater_Than null", GreaterThan, "1000000", expr.Value{}, true, false},
		{"Greater_Than negative", GreaterThan, "-5", s("-4"), false, true},

		{"Greater_Than_OR_EQUALS equal", GreaterThanOrEquals, "1000000", n(1000000), false, true},
		{"Greater_Than_OR_EQUALS less", GreaterThanOrEquals, "1000000", s("999999"), false, false},
		{"Greater_Than_OR_EQUALS null", GreaterThanOrEquals, "1000000", expr.Value{}, true, false},

		{"Includes match", Includes, "eng", s("Reengineering"), false, true},
		{"Includes is case-sensitive", Includes, "eng", s("Engineering"), false, false},
		{"Includes null", Includes, "eng", expr.Value{}, true, false},

		{"IS FALSE false", IsFalse, "", b(false), false, true},
		{"IS FALSE true", IsFalse, "", b(true), false, false},
		{"IS FALSE string", IsFalse, "", s("False"), false, true},
		{"IS FALSE other string", IsFalse, "", s("0"), false, false},
		{"IS FALSE null", IsFalse, "", expr.Value{}, true, false},

		{"IS TRUE true", IsTrue, "", b(true), false, true},
		{"IS TRUE false", IsTrue, "", b(false), false, false},
		{"IS TRUE string any case", IsTrue, "", s("TRUE"), false, true},
		{"IS TRUE other string", IsTrue, "", s("yes"), false, false},
		{"IS TRUE null", IsTrue, "", expr.Value{}, true, false},
		{"IS TRUE ignores a value", IsTrue, "False", b(true), false, true},

		{"IS NULL absent", IsNull, "", expr.Value{}, true, true},
		{"IS NULL empty", IsNull, "", s(""), false, true},
		{"IS NULL present", IsNull, "", s("x"), false, false},

		{"IS NOT NULL present", IsNotNull, "", s("x"), false, true},
		{"IS NOT NULL absent", IsNotNull, "", expr.Value{}, true, false},
		{"IS NOT NULL empty", IsNotNull, "", s(""), false, false},
		{"IS NOT NULL false", IsNotNull, "", b(false), false, true},

		{"NOT EQUALS different", NotEquals, "sales", s("Sales"), false, true},
		{"NOT EQUALS same", NotEquals, "sales", s("sales"), false, false},
		{"NOT EQUALS null", NotEquals, "sales", expr.Value{}, true, false},
		{"NOT EQUALS empty", NotEquals, "sales", s(""), false, false},

		{"REGEX MATCH documented domain", RegexMatch, `.*\@domain.com`, s("jo@domain.com"), false, true},
		{"REGEX MATCH no match", RegexMatch, `.*\@domain.com`, s("jo@other.com"), false, false},
		{"REGEX MATCH is case-sensitive", RegexMatch, `.*\@domain.com`, s("jo@DOMAIN.com"), false, false},
		{"REGEX MATCH unanchored", RegexMatch, `([1-9][0-9])`, s("id 42"), false, true},
		{"REGEX MATCH documented worker ID", RegexMatch, `(1[0-9][0-9][0-9][0-9][0-9][0-9])`, s("1234567"), false, true},
		{"REGEX MATCH null", RegexMatch, `.*`, expr.Value{}, true, false},

		{"NOT REGEX MATCH no match", NotRegexMatch, `.*\@domain.com`, s("jo@other.com"), false, true},
		{"NOT REGEX MATCH match", NotRegexMatch, `.*\@domain.com`, s("jo@domain.com"), false, false},
		{"NOT REGEX MATCH null", NotRegexMatch, `.*\@domain.com`, expr.Value{}, true, false},
		{"NOT REGEX MATCH empty", NotRegexMatch, `.*\@domain.com`, s(""), false, false},

		{"single-valued multi", Equals, "a", expr.MultiValue(s("a")), false, true},
	}
	covered := map[Operator]bool{}
	for _, tc := range tests {
		covered[tc.op] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := match(t, tc.op, tc.value, tc.x, !tc.null); got != tc.want {
				t.Errorf("x %s %q with x = %s: %v, want %v", tc.op, tc.value, tc.x, got, tc.want)
			}
		})
	}
	for _, op := range Operators() {
		if !covered[op] {
			t.Errorf("operator %s has no test", op)
		}
	}
}

const testUserJSON = `{
	"userName": "bjensen@example.com",
	"title": "Tour Guide",
	"active": true,
	"emails": [{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}],
	"addresses": [{"type": "work", "region": "New York"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "1234567",
		"department": "Engineering"
	}
}`

func testUser(t *testing.T, edit func(resource.Document)) expr.DocumentSource {
	t.Helper()
	d, err := resource.Decode([]byte(testUserJSON))
	if err != nil {
		t.Fatal(err)
	}
	rt := userType(t)
	if d, err = resource.Normalize(d, rt); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(d)
	}
	return expr.DocumentSource{Doc: d, Type: rt}
}

// documentedFilter is the example of Entra's scoping documentation: users
// in New York, in Engineering, with an employee ID between 1,000,000 and
// 2,000,000 and a job title.
var documentedFilter = Filter{Title: "New York engineers", Clauses: []Clause{
	{Attribute: `addresses[type eq "work"].region`, Operator: Equals, Value: "New York"},
	{Attribute: "department", Operator: Equals, Value: "Engineering"},
	{Attribute: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", Operator: RegexMatch, Value: `^(1[0-9][0-9][0-9][0-9][0-9][0-9])$`},
	{Attribute: "title", Operator: IsNotNull},
}}

func TestMatch(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	enterprise := func(d resource.Document) map[string]any {
		return d["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	}
	sales := Filter{Clauses: []Clause{{Attribute: "department", Operator: Equals, Value: "Sales"}}}
	active := Filter{Clauses: []Clause{{Attribute: "active", Operator: IsTrue}}}
	tests := []struct {
		name string
		set  Set
		edit func(resource.Document)
		want bool
	}{
		{"no filters: everything in scope", nil, nil, true},
		{"every clause holds", Set{documentedFilter}, nil, true},
		{"one clause fails", Set{documentedFilter}, func(d resource.Document) { enterprise(d)["department"] = "Sales" }, false},
		{"a null attribute fails its clause", Set{documentedFilter}, func(d resource.Document) { delete(d, "title") }, false},
		{"an empty attribute fails IS NOT NULL", Set{documentedFilter}, func(d resource.Document) { d["title"] = "" }, false},
		{"regex out of range", Set{documentedFilter}, func(d resource.Document) { enterprise(d)["employeeNumber"] = "2234567" }, false},
		{"value-filtered path", Set{documentedFilter}, func(d resource.Document) {
			d["addresses"] = []any{map[string]any{"type": "home", "region": "New York"}}
		}, false},
		{"second filter matches", Set{sales, documentedFilter}, nil, true},
		{"first filter matches", Set{documentedFilter, sales}, nil, true},
		{"no filter matches", Set{sales, sales}, nil, false},
		{"OR of AND", Set{sales, active}, func(d resource.Document) { d["active"] = false }, false},
		{"operator spelled in lower case", Set{{Clauses: []Clause{{Attribute: "userName", Operator: "ends with", Value: "@example.com"}}}}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := tc.set.Compile(rt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Match(testUser(t, tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}

	var zero *Matcher
	if ok, err := zero.Match(expr.MapSource{}); !ok || err != nil {
		t.Errorf("nil Matcher: %v, %v", ok, err)
	}
}

func TestMatchSeveralValues(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	m, err := Set{{Clauses: []Clause{{Attribute: `emails[type eq "work"].value`, Operator: Includes, Value: "@"}}}}.Compile(rt)
	if err != nil {
		t.Fatal(err)
	}
	src := testUser(t, func(d resource.Document) {
		d["emails"] = []any{map[string]any{"type": "work", "value": "a@x"}, map[string]any{"type": "work", "value": "b@x"}}
	})
	_, err = m.Match(src)
	if err == nil || !strings.Contains(err.Error(), `scoping filter 1, clause 1: attribute "emails[type eq \"work\"].value" has 2 values`) {
		t.Fatalf("Match with two work emails: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	ok := Clause{Attribute: "department", Operator: Equals, Value: "Sales"}
	one := func(c Clause) Set { return Set{{Clauses: []Clause{c}}} }
	tests := []struct {
		name string
		set  Set
		want string // "" for valid
	}{
		{"empty set", nil, ""},
		{"documented example", Set{documentedFilter}, ""},
		{"every operator", Set{{Clauses: func() []Clause {
			var cs []Clause
			for _, op := range Operators() {
				cs = append(cs, Clause{Attribute: "employeeNumber", Operator: op, Value: "1"})
			}
			return cs
		}()}}, ""},
		{"value-filtered path", one(Clause{Attribute: `emails[type eq "work"].value`, Operator: EndsWith, Value: "@contoso.com"}), ""},
		{"boolean attribute", one(Clause{Attribute: "active", Operator: IsTrue}), ""},
		{"no clauses", Set{{Title: "Sales"}}, `scoping filter 1 ("Sales") has no clauses`},
		{"unknown operator", Set{{Clauses: []Clause{ok}}, {Title: "x", Clauses: []Clause{ok, ok, {Attribute: "department", Operator: "LIKE", Value: "a"}}}},
			`scoping filter 2 ("x"), clause 3: unknown operator "LIKE"; the operators are &, !&, ENDS_WITH, EQUALS, Greater_Than, Greater_Than_OR_EQUALS, Includes, IS FALSE, IS NOT NULL, IS NULL, IS TRUE, NOT EQUALS, NOT REGEX MATCH, REGEX MATCH`},
		{"missing attribute", one(Clause{Operator: Equals, Value: "a"}), "scoping filter 1, clause 1: the attribute is missing"},
		{"unknown attribute", one(Clause{Attribute: "departmnt", Operator: Equals, Value: "a"}), `clause 1: attribute "departmnt": the User resource type has no such attribute`},
		{"complex attribute", one(Clause{Attribute: "name", Operator: IsNotNull}), `attribute "name": name is a complex attribute`},
		{"multi-valued attribute", one(Clause{Attribute: "emails", Operator: Includes, Value: "@"}), `attribute "emails" is multi-valued`},
		{"multi-valued sub-attribute", one(Clause{Attribute: "emails.value", Operator: Includes, Value: "@"}), `attribute "emails.value" is multi-valued`},
		{"dateTime attribute", one(Clause{Attribute: "meta.created", Operator: IsNotNull}), `attribute "meta.created" is a date and time`},
		{"missing value", one(Clause{Attribute: "department", Operator: Equals}), `EQUALS needs a value to compare "department" with`},
		{"not an integer", one(Clause{Attribute: "employeeNumber", Operator: GreaterThan, Value: "1e6"}), `Greater_Than needs a whole number, not "1e6"`},
		{"bad regex", one(Clause{Attribute: "userName", Operator: NotRegexMatch, Value: "(a"}), `the regular expression "(a" does not compile`},
		{"lookahead", one(Clause{Attribute: "userName", Operator: RegexMatch, Value: "a(?=b)"}), "without lookaround"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.set.Validate(rt)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	t.Parallel()
	for _, op := range Operators() {
		for _, spelling := range []string{string(op), strings.ToLower(string(op)), strings.ReplaceAll(string(op), " ", "_"), strings.ReplaceAll(string(op), "_", " ")} {
			if got, ok := ParseOperator(spelling); !ok || got != op {
				t.Errorf("ParseOperator(%q) = %q, %v, want %q", spelling, got, ok, op)
			}
		}
	}
	for _, s := range []string{"", "LIKE", "&&", "EQUAL", "greater"} {
		if got, ok := ParseOperator(s); ok {
			t.Errorf("ParseOperator(%q) = %q", s, got)
		}
	}
	if len(Operators()) != 14 {
		t.Errorf("%d operators, want Entra's 14", len(Operators()))
	}
	var needless []Operator
	for _, op := range Operators() {
		if !op.NeedsValue() {
			needless = append(needless, op)
		}
	}
	if want := []Operator{IsFalse, IsNotNull, IsNull, IsTrue}; !slices.Equal(needless, want) {
		t.Errorf("operators without a value: %q, want %q", needless, want)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	in := `[{"title":"Sales","clauses":[
		{"attribute":"department","operator":"equals","value":"Sales"},
		{"attribute":"employeeNumber","operator":"GREATER_THAN_OR_EQUALS","value":"1000"},
		{"attribute":"title","operator":"IS_NOT_NULL"},
		{"attribute":"title","operator":"sounds like","value":"x"}]}]`
	var s Set
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	got := []Operator{s[0].Clauses[0].Operator, s[0].Clauses[1].Operator, s[0].Clauses[2].Operator, s[0].Clauses[3].Operator}
	if want := []Operator{Equals, GreaterThanOrEquals, IsNotNull, "sounds like"}; !slices.Equal(got, want) {
		t.Errorf("operators decoded as %q, want %q", got, want)
	}
	if err := s.Validate(userType(t)); err == nil || !strings.Contains(err.Error(), `clause 4: unknown operator "sounds like"`) {
		t.Errorf("Validate: %v", err)
	}

	out, err := json.Marshal(Set{documentedFilter})
	if err != nil {
		t.Fatal(err)
	}
	var back Set
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].Title != documentedFilter.Title || !slices.Equal(back[0].Clauses, documentedFilter.Clauses) {
		t.Errorf("round trip through %s gave %+v", out, back)
	}
	if !strings.Contains(string(out), `{"attribute":"title","operator":"IS NOT NULL"}`) {
		t.Errorf("JSON %s: a clause without a value should omit it", out)
	}
	if err := json.Unmarshal([]byte(`[{"clauses":[{"operator":5}]}]`), &s); err == nil {
		t.Error("a number as operator decoded")
	}
}
