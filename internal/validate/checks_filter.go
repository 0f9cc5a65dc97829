package validate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// The filter, sort and projection checks share one fixture of four users
// whose attributes are chosen so that each operator selects a different,
// known subset. Every query is scoped with `userName sw "<prefix>"` so that
// other data on the endpoint cannot change the answer.

// filterFixture is the shared set of four users.
type filterFixture struct {
	prefix string
	ids    map[string]string // label → id
	labels map[string]string // id → label
	docs   map[string]map[string]any
}

// filterLabels are the fixture users in userName order.
func filterLabels() []string { return []string{"alice", "bob", "carol", "dave"} }

// filterFixtureBodies returns the fixture's POST bodies by label.
func filterFixtureBodies(prefix string) map[string]map[string]any {
	email := func(typ, who, domain string, primary bool) map[string]any {
		e := map[string]any{"type": typ, "value": prefix + who + "@" + domain}
		if primary {
			e["primary"] = true
		}
		return e
	}
	user := func(label, given, family string, active bool, extra map[string]any) map[string]any {
		b := map[string]any{
			"schemas":     []any{scim.UserURN, scim.EnterpriseUserURN},
			"userName":    prefix + label + "@validate.example",
			"externalId":  prefix + "Ext-" + strings.ToUpper(label[:1]),
			"displayName": given + " " + family,
			"name":        map[string]any{"givenName": given, "familyName": family},
			"active":      active,
		}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	enterprise := func(number string) map[string]any { return map[string]any{"employeeNumber": number} }
	return map[string]map[string]any{
		"alice": user("alice", "Alice", "Archer", true, map[string]any{
			"title": "Engineer", "nickName": "ally",
			"emails":               []any{email("work", "alice", "work.example", true), email("home", "alice", "home.example", false)},
			scim.EnterpriseUserURN: enterprise("1001"),
		}),
		"bob": user("bob", "Bob", "Baker", false, map[string]any{
			"title":                "Manager",
			"emails":               []any{email("work", "bob", "work.example", true)},
			scim.EnterpriseUserURN: enterprise("1002"),
		}),
		"carol": user("carol", "Carol", "Clark", false, map[string]any{
			"title":  "Engineer",
			"emails": []any{email("home", "carol", "home.example", true)},
		}),
		"dave": user("dave", "Dave", "Dunn", true, map[string]any{
			"emails":               []any{email("work", "dave", "work.example", true), email("other", "dave", "other.example", false)},
			scim.EnterpriseUserURN: enterprise("1004"),
		}),
	}
}

func buildFilterFixture(ctx context.Context, s *Session) (*filterFixture, error) {
	f := &filterFixture{prefix: s.name("flt") + "-", ids: map[string]string{}, labels: map[string]string{}, docs: map[string]map[string]any{}}
	bodies := filterFixtureBodies(f.prefix)
	for _, label := range filterLabels() {
		c, err := s.create(ctx, "User", bodies[label])
		if err != nil {
			return nil, err
		}
		f.ids[label], f.labels[c.id], f.docs[label] = c.id, label, c.doc
	}
	return f, nil
}

func (s *Session) filterFixture(ctx context.Context) (*filterFixture, error) {
	return fixture(ctx, s, "filter", buildFilterFixture)
}

// scope restricts a filter to the fixture.
func (f *filterFixture) scope(expr string) string {
	return "userName sw " + quote(f.prefix) + " and (" + expr + ")"
}

// describe names ids by fixture label.
func (f *filterFixture) describe(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if l, ok := f.labels[id]; ok {
			out[i] = l
		} else {
			out[i] = "unexpected:" + id
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// filterCase is one filter and the fixture users it must select.
type filterCase struct {
	id, title, source string
	expr              func(f *filterFixture) string
	want              []string
	profiles          []string
}

func literal(expr string) func(*filterFixture) string {
	return func(*filterFixture) string { return expr }
}

const rfcFilter = "RFC 7644 §3.4.2.2"

func filterCases() []filterCase {
	return []filterCase{
		{id: "rfc.filter.eq", title: "eq selects equal values", source: rfcFilter + " (eq)",
			expr: literal(`title eq "Engineer"`), want: []string{"alice", "carol"}},
		{id: "rfc.filter.ne", title: "ne selects the other values", source: rfcFilter + " (ne)",
			expr: literal(`name.familyName ne "Archer"`), want: []string{"bob", "carol", "dave"}},
		{id: "rfc.filter.co", title: "co selects values containing the text", source: rfcFilter + " (co)",
			expr: literal(`name.familyName co "er"`), want: []string{"alice", "bob"}},
		{id: "rfc.filter.sw", title: "sw selects values starting with the text", source: rfcFilter + " (sw)",
			expr: literal(`name.familyName sw "Ba"`), want: []string{"bob"}},
		{id: "rfc.filter.substring-ignores-case", title: "co and sw ignore case on caseExact false attributes", source: rfcFilter + " (co, sw respect caseExact); RFC 7643 §2.1",
			expr: literal(`name.familyName co "ARCH" or name.familyName sw "ba"`), want: []string{"alice", "bob"}},
		{id: "rfc.filter.ew", title: "ew selects values ending with the text", source: rfcFilter + " (ew)",
			expr: literal(`name.familyName ew "nn"`), want: []string{"dave"}},
		{id: "rfc.filter.pr", title: "pr selects resources that have a value", source: rfcFilter + " (pr)",
			expr: literal(`nickName pr`), want: []string{"alice"}},
		{id: "rfc.filter.gt", title: "gt compares strings lexicographically", source: rfcFilter + " (gt)",
			expr: literal(`name.familyName gt "Baker"`), want: []string{"carol", "dave"}},
		{id: "rfc.filter.ge", title: "ge compares strings lexicographically", source: rfcFilter + " (ge)",
			expr: literal(`name.familyName ge "Baker"`), want: []string{"bob", "carol", "dave"}},
		{id: "rfc.filter.lt", title: "lt compares strings lexicographically", source: rfcFilter + " (lt)",
			expr: literal(`name.familyName lt "Clark"`), want: []string{"alice", "bob"}},
		{id: "rfc.filter.le", title: "le compares strings lexicographically", source: rfcFilter + " (le)",
			expr: literal(`name.familyName le "Clark"`), want: []string{"alice", "bob", "carol"}},
		{id: "rfc.filter.datetime-after", title: "gt and lt compare dateTime attributes as instants", source: rfcFilter + " (gt, lt on dateTime); RFC 7643 §2.3.5",
			expr: literal(`meta.created gt "2000-01-01T00:00:00Z" and meta.lastModified lt "2999-01-01T00:00:00Z"`), want: []string{"alice", "bob", "carol", "dave"}},
		{id: "rfc.filter.datetime-before", title: "lt on meta.created before any resource existed matches nothing", source: rfcFilter + " (lt on dateTime)",
			expr: literal(`meta.created lt "2000-01-01T00:00:00Z"`), want: nil},
		{id: "rfc.filter.and", title: "and requires both sides", source: rfcFilter + " (and)",
			expr: literal(`title eq "Engineer" and active eq true`), want: []string{"alice"}},
		{id: "rfc.filter.or", title: "or accepts either side", source: rfcFilter + " (or)",
			expr: literal(`name.familyName eq "Baker" or name.familyName eq "Dunn"`), want: []string{"bob", "dave"}},
		{id: "rfc.filter.not", title: "not negates its expression", source: rfcFilter + " (not)",
			expr: literal(`not (title eq "Engineer")`), want: []string{"bob", "dave"}},
		{id: "rfc.filter.precedence", title: "and binds tighter than or", source: rfcFilter + " (Table 3: precedence)",
			expr: literal(`title eq "Manager" or active eq true and nickName pr`), want: []string{"alice", "bob"}},
		{id: "rfc.filter.grouping", title: "Parentheses group expressions", source: rfcFilter + " (grouping)",
			expr: literal(`(title eq "Manager" or active eq true) and nickName pr`), want: []string{"alice"}},
		{id: "rfc.filter.boolean", title: "Booleans compare with eq", source: rfcFilter + "; RFC 7643 §2.3.2",
			expr: literal(`active eq false`), want: []string{"bob", "carol"}},
		{id: "rfc.filter.sub-attribute", title: "A sub-attribute path (name.givenName) filters", source: rfcFilter + "; RFC 7644 §3.10",
			expr: literal(`name.givenName eq "Carol"`), want: []string{"carol"}},
		{id: "rfc.filter.extension", title: "A URN-qualified extension attribute filters", source: rfcFilter + "; RFC 7644 §3.10; RFC 7643 §4.3",
			expr: literal(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1002"`), want: []string{"bob"}},
		{id: "rfc.filter.multi-valued", title: "A multi-valued sub-attribute matches when any value does", source: rfcFilter + " (multi-valued attributes)",
			expr: literal(`emails.type eq "other"`), want: []string{"dave"}},
		{id: "rfc.filter.value-path", title: "A value path filters the elements of a multi-valued attribute", source: rfcFilter + " (valuePath)",
			expr: literal(`emails[type eq "work" and value co "@work.example"]`), want: []string{"alice", "bob", "dave"}},
		{id: "rfc.filter.value-path-same-element", title: "Both conditions of a value path must hold on the same element", source: rfcFilter + " (valuePath)",
			expr: literal(`emails[type eq "home" and value co "@work.example"]`), want: nil},
		{id: "rfc.filter.case-insensitive-names", title: "Attribute names and operators in filters ignore case", source: rfcFilter + " (names and operators are case insensitive)",
			expr: literal(`NAME.FAMILYNAME EQ "Archer"`), want: []string{"alice"}},
		{id: "rfc.filter.case-insensitive-value", title: "userName compares ignoring case (caseExact false)", source: rfcFilter + "; RFC 7643 §4.1, §2.1; " + oktaSpec + " (userName in capitals)",
			expr: func(f *filterFixture) string {
				return "userName eq " + quote(strings.ToUpper(f.prefix+"carol@validate.example"))
			}, want: []string{"carol"}},
		{id: "rfc.filter.case-exact-value", title: "externalId compares exactly (caseExact true)", source: rfcFilter + "; RFC 7643 §3.1 (externalId caseExact true)",
			expr: func(f *filterFixture) string {
				return "externalId eq " + quote(strings.ToLower(f.prefix+"Ext-A")) + " or externalId eq " + quote(f.prefix+"Ext-B")
			}, want: []string{"bob"}},
		{id: "rfc.filter.id", title: "id eq selects one resource", source: rfcFilter + "; " + msSCIM + "#handling-provisioning-and-deprovisioning-of-users (Example 4)",
			expr: func(f *filterFixture) string { return "id eq " + quote(f.ids["dave"]) }, want: []string{"dave"}},
		{id: "entra.filter.work-email", title: `Entra's emails[type eq "work"].value eq matching form`, source: msEntraImpl + " (/Users: filters on emails[type eq \"work\"].value)",
			expr: func(f *filterFixture) string {
				return `emails[type eq "work"].value eq ` + quote(f.prefix+"bob@work.example")
			}, want: []string{"bob"}, profiles: in(ProfileEntra)},
	}
}

func filterChecks() []Check {
	var out []Check
	for _, fc := range filterCases() {
		profiles := fc.profiles
		if profiles == nil {
			profiles = in(ProfileRFC)
		}
		requires := "filter"
		if slices.Contains(profiles, ProfileEntra) {
			requires = "" // Entra needs filtering whatever the endpoint advertises
		}
		out = append(out, Check{
			ID: fc.id, Title: "Filter: " + fc.title, Source: fc.source, Profiles: profiles, Requires: requires,
			Run: func(ctx context.Context, s *Session) error {
				f, err := s.filterFixture(ctx)
				if err != nil {
					return err
				}
				return f.expect(ctx, s, fc.expr(f), fc.want)
			},
		})
	}
	out = append(out, Check{
		ID: "rfc.filter.escaped-value", Title: `Filter: a value with an escaped quote, a backslash and non-ASCII letters matches exactly`,
		Source: rfcFilter + " (compValue is a JSON string); RFC 7159 §7", Profiles: in(ProfileRFC), Requires: "filter",
		Run: checkEscapedFilter,
	})
	out = append(out, Check{
		ID: "rfc.filter.no-match", Title: "Filter: a filter that matches nothing answers 200 with totalResults 0, not 404",
		Source: "RFC 7644 §3.4.2 (no matches SHALL be success with totalResults 0); " + msQuarantine, Profiles: in(ProfileRFC), Requires: "filter",
		Run: func(ctx context.Context, s *Session) error {
			r, err := s.get(ctx, "/Users"+query("filter", "userName eq "+quote(s.userName("nobody"))))
			if err != nil {
				return err
			}
			return wantEmptyList(r, false)
		},
	})
	return out
}

// expect runs the scoped filter and checks it selects exactly want.
func (f *filterFixture) expect(ctx context.Context, s *Session, expr string, want []string) error {
	filter := f.scope(expr)
	l, err := s.filterQuery(ctx, "User", filter, "count", "50")
	if err != nil {
		return err
	}
	wantIDs := make([]string, len(want))
	for i, label := range want {
		wantIDs[i] = f.ids[label]
	}
	got := l.ids()
	if !sameSet(got, wantIDs) || l.total != len(want) {
		return failf(l.resp, "filter %s selected %s (totalResults %d), want %s", expr, f.describe(got), l.total, "["+strings.Join(want, ", ")+"]")
	}
	return nil
}

// orderOf returns the fixture labels of ids in order, for sort messages.
func (f *filterFixture) orderOf(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = f.labels[id]
	}
	return out
}

func (f *filterFixture) idsOf(labels ...string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = f.ids[l]
	}
	return out
}

func errorfIfOrder(f *filterFixture, l *listResponse, want []string, what string) error {
	got := l.ids()
	if !slices.Equal(got, f.idsOf(want...)) {
		return failf(l.resp, "%s returned %s, want %s in that order", what, fmt.Sprint(f.orderOf(got)), fmt.Sprint(want))
	}
	return nil
}

func checkEscapedFilter(ctx context.Context, s *Session) error {
	name := `O"Brien \ Zoë ` + s.tag
	c, err := s.createUser(ctx, map[string]any{"displayName": name})
	if err != nil {
		return err
	}
	if _, err := s.createUser(ctx, map[string]any{"displayName": `O"Brien ` + s.tag}); err != nil {
		return err
	}
	if err := wantValue(c.doc, c.resp, name, "displayName"); err != nil {
		return within("the value must be stored exactly as sent", err)
	}
	_, err = s.findOne(ctx, "User", "displayName eq "+quote(name), c.id)
	return err
}
