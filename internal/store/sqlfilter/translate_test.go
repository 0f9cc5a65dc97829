package sqlfilter

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

var (
	catalog   = schema.Builtin()
	userType  = catalog.ResourceType("User")
	groupType = catalog.ResourceType("Group")
)

func rowString(r Row) string {
	f := func(s sql.NullString) string {
		if !s.Valid {
			return "-"
		}
		return s.String
	}
	sub := ""
	if r.Substring {
		sub = " fts"
	}
	return fmt.Sprintf("%s[%d] k%d val=%s eqv=%s num=%s%s", r.Path, r.Elem, r.Kind, f(r.Val), f(r.Eqv), f(r.Num), sub)
}

func TestFlatten(t *testing.T) {
	t.Parallel()
	decode := func(s string) map[string]any {
		d, err := resource.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		rt   *schema.ResourceType
		doc  string
		want []string
	}{
		{"simple values", userType, `{"userName":"BJensen","active":true,"externalId":"AbC","id":"x","meta":{"version":"1"},"groups":[{"value":"g"}]}`, []string{
			"active[0] k1 val=true eqv=- num=-",
			"externalid[0] k0 val=AbC eqv=- num=- fts",
			"username[0] k0 val=bjensen eqv=- num=- fts",
		}},
		{"multi-valued complex", userType, `{"emails":[{"value":"A@x.io","type":"work","primary":true},{"value":"b@x.io","display":""}]}`, []string{
			"emails.display[1] k0 val= eqv=- num=-",
			"emails.primary[0] k1 val=true eqv=- num=-",
			"emails.type[0] k0 val=work eqv=- num=-",
			"emails.value[0] k0 val=a@x.io eqv=- num=- fts",
			"emails.value[1] k0 val=b@x.io eqv=- num=- fts",
		}},
		{"extension and folding", userType, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"M1"},"department":"İT"},"name":{"familyName":"Ab"}}`, []string{
			"name.familyname[0] k0 val=ab eqv=- num=-",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department[0] k0 val=it eqv=İt num=-",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value[0] k0 val=m1 eqv=- num=-",
		}},
		{"unknown attributes by JSON type", userType, `{"schemas":["urn:a"],"n":2.50,"f":[false],"c":{"value":"X","n":-1},"urn:x:y:1.0:Ext":{"k":"V"}}`, []string{
			"c.n[0] k2 val=- eqv=- num=14999999988~",
			"c.value[0] k0 val=x eqv=- num=-",
			"f[0] k1 val=false eqv=- num=-",
			"n[0] k2 val=- eqv=- num=3500000001" + "25",
			"schemas[0] k0 val=urn:a eqv=- num=-",
			"urn:x:y:1.0:ext:k[0] k0 val=v eqv=- num=-",
		}},
		{"values of the wrong type", userType, `{"active":"yes","userName":5,"emails":["x"]}`, []string{
			"active[0] k4 val=- eqv=- num=-",
			"username[0] k4 val=- eqv=- num=-",
		}},
		{"group members are not stored", groupType, `{"displayName":"Admins","members":[{"value":"u1"}]}`, []string{
			"displayname[0] k0 val=admins eqv=- num=- fts",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range Flatten(decode(tc.doc), tc.rt) {
				got = append(got, rowString(r))
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Flatten:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func translate(t *testing.T, rt *schema.ResourceType, f string) (Condition, []any, error) {
	t.Helper()
	e, err := filter.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(SQLite{}, "tenant", rt.Name)
	c, err := Where(b, Target{Type: rt, Alias: "r", TenantArg: "?1", TypeArg: "?2"}, e)
	return c, b.Args(), err
}

var placeholderRE = regexp.MustCompile(`\?(\d+)`)

// TestWhereArguments checks that every argument has a placeholder and the
// reverse, for filters whose parts fold away: a statement with an unused
// argument fails.
func TestWhereArguments(t *testing.T) {
	t.Parallel()
	for _, f := range []string{
		`userName eq "a"`,
		`userName eq "a" and active gt true`,
		`userName eq "a" or name eq "x"`,
		`not (name ne "x") or title co "b"`,
		`emails[type eq "work" and foo eq "x"] or emails[value co "abc" and type ne "home"]`,
		`userName[value eq "x"] and title sw "a"`,
		`meta[created gt "2011-01-01T00:00:00Z" and resourceType eq "User"]`,
		`groups[value eq "g" and value co "x"] or groups pr`,
	} {
		c, args, err := translate(t, userType, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		used := map[int]bool{1: true, 2: true}
		for _, m := range placeholderRE.FindAllStringSubmatch(c.SQL, -1) {
			var n int
			fmt.Sscan(m[1], &n)
			used[n] = true
		}
		for i := 1; i <= len(args); i++ {
			if !used[i] {
				t.Errorf("%s: argument %d (%v) has no placeholder in %s", f, i, args[i-1], c.SQL)
			}
			delete(used, i)
		}
		if len(used) > 0 {
			t.Errorf("%s: placeholders without arguments %v in %s", f, used, c.SQL)
		}
	}
}

func TestWhereConstants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rt     *schema.ResourceType
		filter string
		want   string
	}{
		{userType, `userName[value eq "x"]`, "0"},
		{userType, `name eq "x"`, "0"},
		{userType, `name ne "x"`, "1"},
		{userType, `id pr`, "1"},
		{userType, `meta.resourceType eq "User"`, "1"},
		{userType, `meta.resourceType eq "user"`, "0"},
		{groupType, `meta.resourceType eq "User"`, "0"},
		{userType, `active gt true`, "0"},
		{userType, `userName eq 1`, "0"},
		{userType, `userName.sub ne "x"`, "1"},
		{userType, `emails.foo eq "x"`, "0"},
		{userType, `meta.created gt "yesterday"`, "0"},
		{userType, `not (active eq "true") and id eq null`, "0"},
	} {
		c, args, err := translate(t, tc.rt, tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if c.SQL != tc.want || len(args) != 2 {
			t.Errorf("%s: %s %v, want the constant %s", tc.filter, c.SQL, args, tc.want)
		}
	}
}

// TestWhereDriver checks that the selective comparison of a value filter
// drives the element search: the driving rows are the outer subquery's
// (alias d...), the others are checked in EXISTS.
func TestWhereDriver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter, driver string
	}{
		{`emails[type eq "work"].value eq "bjensen@example.com"`, "emails.value"},
		{`emails[type eq "work" and value co "abc"]`, "emails.value"},
		{`emails[primary eq true and display sw "b"]`, "emails.display"},
		{`emails[type eq "work" and value co "x"]`, "emails.value"},
		{`addresses[type eq "work" and country eq "DE" and locality eq "Berlin"]`, "addresses.country"},
	} {
		c, args, err := translate(t, userType, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		// The driver's path is the argument bound in the outer FROM's
		// first aid lookup: "d1.aid = (SELECT ... path = ?N)".
		m := regexp.MustCompile(`d\d+\.aid = \(SELECT aid FROM attr_paths WHERE [^)]*path = \?(\d+)\)`).FindStringSubmatch(c.SQL)
		if m == nil {
			t.Fatalf("%s: no driver in %s", tc.filter, c.SQL)
		}
		var n int
		fmt.Sscan(m[1], &n)
		if got := args[n-1]; got != tc.driver {
			t.Errorf("%s: driven by %v, want %s\n%s", tc.filter, got, tc.driver, c.SQL)
		}
		if !c.Indexed {
			t.Errorf("%s: not indexed", tc.filter)
		}
	}
}

func TestWhereIndexed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter  string
		indexed bool
	}{
		{`userName eq "a"`, true},
		{`userName eq "a" and not (active eq true)`, true},
		{`userName eq "a" or title pr`, true},
		{`userName eq "a" or not (title pr)`, false},
		{`not (userName eq "a")`, false},
		{`userName ne "a"`, false},
		{`id eq "x"`, true},
		{`meta.lastModified gt "2011-01-01T00:00:00Z"`, true},
		{`groups pr`, false},
		{`groups.value eq "g"`, true},
	} {
		c, _, err := translate(t, userType, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		if c.Indexed != tc.indexed {
			t.Errorf("%s: Indexed = %v, want %v", tc.filter, c.Indexed, tc.indexed)
		}
	}
}

func TestWhereUnsupported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rt     *schema.ResourceType
		filter string
	}{
		{userType, `meta.version eq "1"`},
		{userType, `meta.location co "x"`},
		{userType, `groups.type eq "direct"`},
		{userType, `groups.display pr`},
		{groupType, `members.display eq "x"`},
		{groupType, `members[$ref sw "https"]`},
		{userType, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[department eq "x"]`},
	} {
		_, _, err := translate(t, tc.rt, tc.filter)
		if !errors.Is(err, store.ErrUnsupportedFilter) {
			t.Errorf("%s: %v, want store.ErrUnsupportedFilter", tc.filter, err)
		}
	}
}

func TestWhereLongChainIsShallow(t *testing.T) {
	t.Parallel()
	// Longer than the parser allows: code builds filters too.
	var e filter.Expr
	for i := range 5000 {
		c := &filter.Compare{Path: filter.AttrPath{Name: "title"}, Op: filter.Eq, Value: filter.Value{Str: fmt.Sprint(i)}}
		if e == nil {
			e = c
		} else {
			e = &filter.Logical{Op: filter.Or, Left: e, Right: c}
		}
	}
	c, err := Where(NewBuilder(SQLite{}, "t", "User"), Target{Type: userType, Alias: "r", TenantArg: "?1", TypeArg: "?2"}, e)
	if err != nil {
		t.Fatal(err)
	}
	depth, most := 0, 0
	for _, ch := range c.SQL {
		switch ch {
		case '(':
			depth++
			most = max(most, depth)
		case ')':
			depth--
		}
	}
	if most > 40 {
		t.Errorf("5000 terms nest %d parentheses deep", most)
	}
}

func TestOrderBy(t *testing.T) {
	t.Parallel()
	target := Target{Type: userType, Alias: "r", TenantArg: "?1", TypeArg: "?2"}
	for _, tc := range []struct {
		sortBy string
		desc   bool
		want   string // a substring of the ORDER BY list
	}{
		{"", false, "r.id ASC"},
		{"", true, "r.id DESC"},
		{"meta.lastModified", true, "r.last_modified DESC NULLS FIRST, r.id DESC"},
		{"userName", false, ".val FROM attribute_values"},
		{"emails", false, ".val = 'true') DESC"},
		{"members", false, "r.id ASC"},
		{"nonsense", false, "r.id ASC"},
	} {
		got, err := OrderBy(NewBuilder(SQLite{}, "t", "User"), target, tc.sortBy, tc.desc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("OrderBy(%q, %v) = %s, want it to contain %s", tc.sortBy, tc.desc, got, tc.want)
		}
	}
	// By id alone, which keyset pages read as an index range.
	if got, _ := OrderBy(NewBuilder(SQLite{}), target, "id", true); got != "r.id DESC" {
		t.Errorf(`OrderBy("id", true) = %s, want r.id DESC`, got)
	}
	if _, err := OrderBy(NewBuilder(SQLite{}), target, "emails[type eq \"work\"]", false); err == nil {
		t.Error("OrderBy accepted a value filter")
	}
}
