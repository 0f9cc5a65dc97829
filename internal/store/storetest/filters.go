package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// timeLayout is how the server renders meta.created and meta.lastModified,
// and so what co, sw and ew on them look at.
const timeLayout = sqlfilter.RenderedTimeLayout

// corpus is a seeded directory and its documents as the server renders
// them, which is what filter.Match sees.
type corpus struct {
	tenant string
	users  []*store.Resource
	groups []*store.Resource
	docs   map[string][]map[string]any // by type, rendered
	ids    map[string][]string         // by type, parallel to docs
}

// render returns r's document as the server returns it: the stored
// document with id, meta and the members or groups.
func render(t testing.TB, r *store.Resource) map[string]any {
	t.Helper()
	// Round-trip through JSON so that filter.Match sees decoded values.
	doc, err := resource.Decode([]byte(jsonOf(t, r.Doc)))
	if err != nil {
		t.Fatal(err)
	}
	doc["id"] = r.ID
	doc["meta"] = map[string]any{
		"resourceType": r.Type,
		"created":      r.Created.UTC().Format(timeLayout),
		"lastModified": r.LastModified.UTC().Format(timeLayout),
	}
	switch r.Type {
	case store.GroupType:
		var ms []any
		for _, m := range r.Members {
			ms = append(ms, map[string]any{"value": m.ID, "type": m.Type})
		}
		if ms != nil {
			doc["members"] = ms
		}
	case store.UserType:
		var gs []any
		for _, m := range r.Groups {
			gs = append(gs, map[string]any{"value": m.ID})
		}
		if gs != nil {
			doc["groups"] = gs
		}
	}
	return doc
}

// Names with the characters that trip SQL up (LIKE and FTS syntax, quotes)
// and the case-folding corner cases filter.Match handles: the Kelvin sign,
// long s, dotted and dotless i, Greek sigma.
var specialNames = []string{
	"100%_Sure", "o'brien", `say "hi"`, "back\\slash", "İstanbul", "istanbul", "ırmak", "IRMAK",
	"\u212Aelvin", "ſigma", "ΣΊΣΥΦΟΣ", "σίσυφοι", "Straße", "ǅemal", "emoji😀x", "a*b?c[d]",
}

var (
	givenNames  = []string{"Barbara", "Ann", "Anna", "Joe", "JOHN", "maría", "Zoë", "li", "Ölaf", "Sam"}
	familyNames = []string{"Jensen", "jones", "Smith", "SMITH", "Müller", "O'Neil", "Zhang", "ab", "Nguyen", "de la Cruz"}
	departments = []string{"Sales", "sales", "Engineering", "R&D", "Support 24/7", "marketing"}
	titles      = []string{"Engineer", "engineer", "Senior Engineer", "Manager", "CEO", "VP, Sales"}
	domains     = []string{"example.com", "Example.ORG", "mail.example.net", "x.io"}
	locales     = []string{"en-US", "de-DE", "fr", "en-us"}
)

// seed fills a tenant with varied users and groups.
func seed(t *testing.T, s store.Store, nUsers, nGroups int) *corpus {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	// Ids are given rather than generated, from their own random source,
	// so that two stores seeded alike hold the same ids (see Compare),
	// which are still in no particular order.
	idRNG := rand.New(rand.NewPCG(13, 17))
	newID := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", idRNG.Uint32(), idRNG.IntN(1<<16), idRNG.IntN(1<<12),
			idRNG.IntN(1<<12), idRNG.Uint64()&(1<<48-1))
	}
	c := &corpus{tenant: tenant(t, s, "corpus")}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	maybe := func(p float64) bool { return rng.Float64() < p }
	for i := range nUsers {
		d := resource.Document{}
		switch {
		case i < len(specialNames):
			d["userName"] = specialNames[i]
		case maybe(0.5):
			d["userName"] = fmt.Sprintf("%s.%s%d@%s", pick(givenNames), pick(familyNames), i, pick(domains))
		default:
			d["userName"] = fmt.Sprintf("User%03d", i)
		}
		if maybe(0.85) {
			name := map[string]any{}
			if maybe(0.9) {
				name["givenName"] = pick(givenNames)
			}
			if maybe(0.85) {
				name["familyName"] = pick(familyNames)
			}
			if maybe(0.3) {
				name["formatted"] = fmt.Sprintf("%v %v", name["givenName"], name["familyName"])
			}
			if maybe(0.1) {
				name["middleName"] = ""
			}
			d["name"] = name
		}
		if maybe(0.7) {
			d["displayName"] = fmt.Sprintf("%s %s", pick(givenNames), pick(familyNames))
		}
		if maybe(0.6) {
			d["title"] = pick(titles)
		}
		switch rng.IntN(3) {
		case 0:
			d["active"] = true
		case 1:
			d["active"] = false
		}
		if maybe(0.5) {
			d["externalId"] = fmt.Sprintf("ext-%d", i%40)
			if maybe(0.3) {
				d["externalId"] = fmt.Sprintf("EXT-%d", i%40)
			}
		}
		if maybe(0.4) {
			d["locale"] = pick(locales)
		}
		if n := rng.IntN(4); n > 0 {
			var emails []any
			primary := rng.IntN(n + 1)
			for j := range n {
				e := map[string]any{"value": fmt.Sprintf("%s%d.%d@%s", pick(givenNames), i, j, pick(domains))}
				if maybe(0.85) {
					e["type"] = pick([]string{"work", "home", "other", "Work"})
				}
				if j == primary {
					e["primary"] = true
				} else if maybe(0.3) {
					e["primary"] = false
				}
				if maybe(0.15) {
					e["display"] = ""
				}
				emails = append(emails, e)
			}
			d["emails"] = emails
		}
		if maybe(0.4) {
			var phones []any
			for j := range rng.IntN(3) + 1 {
				phones = append(phones, map[string]any{
					"value": fmt.Sprintf("+%d 555 %04d", 1+j*48, rng.IntN(10000)),
					"type":  pick([]string{"work", "mobile", "home"}),
				})
			}
			d["phoneNumbers"] = phones
		}
		if maybe(0.25) {
			d["addresses"] = []any{map[string]any{
				"type": pick([]string{"work", "home"}), "country": pick([]string{"DE", "US", "de"}),
				"locality": pick([]string{"Berlin", "Boston", "berlin"}), "postalCode": fmt.Sprintf("%05d", rng.IntN(100000)),
			}}
		}
		if maybe(0.1) {
			d["x509Certificates"] = []any{map[string]any{"value": base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("cert-%d", i%3)))}}
		}
		if maybe(0.15) {
			d["roles"] = []any{map[string]any{"value": pick([]string{"admin", "user", "Admin"}), "primary": maybe(0.5)}}
		}
		if maybe(0.6) {
			ent := map[string]any{}
			if maybe(0.8) {
				ent["employeeNumber"] = fmt.Sprintf("%d", 1000+i%97)
			}
			if maybe(0.7) {
				ent["department"] = pick(departments)
			}
			if maybe(0.4) {
				ent["costCenter"] = pick([]string{"CC-1", "cc-2", "CC-10"})
			}
			if len(c.users) > 0 && maybe(0.5) {
				// Entra sends the manager as a bare id.
				ent["manager"] = c.users[rng.IntN(len(c.users))].ID
			}
			d[scim.EnterpriseUserURN] = ent
		}
		doc := normalize(t, userType, d)
		// Attributes the schema does not define: filter.Match compares
		// them by the JSON type in the document.
		if maybe(0.25) {
			doc["loginCount"] = json.Number(fmt.Sprint(rng.IntN(12)))
		}
		if maybe(0.15) {
			doc["score"] = json.Number(pick([]string{"2.5", "2.50", "-1", "1e2", "0", "3.14159"}))
		}
		if maybe(0.15) {
			doc["tags"] = []any{pick([]string{"a", "B", "vip"}), pick([]string{"x", "VIP"})}
		}
		if maybe(0.1) {
			doc["flags"] = []any{maybe(0.5), true}
		}
		if maybe(0.1) {
			doc["custom"] = map[string]any{"value": pick([]string{"x", "X", "y"}), "n": json.Number(fmt.Sprint(rng.IntN(3)))}
		}
		r := &store.Resource{TenantID: c.tenant, Type: store.UserType, ID: newID(), Doc: doc}
		if err := s.Create(ctx, r); err != nil {
			t.Fatalf("seed user %d: %v", i, err)
		}
		c.users = append(c.users, r)
	}
	for i := range nGroups {
		d := resource.Document{"displayName": fmt.Sprintf("%s Group %d", pick([]string{"Sales", "eng", "All", "Ops"}), i)}
		if maybe(0.5) {
			d["externalId"] = fmt.Sprintf("g-%d", i)
		}
		r := &store.Resource{TenantID: c.tenant, Type: store.GroupType, ID: newID(), Doc: normalize(t, groupType, d)}
		for range rng.IntN(15) {
			u := c.users[rng.IntN(len(c.users))]
			r.Members = append(r.Members, store.Member{ID: u.ID})
		}
		if len(c.groups) > 0 && maybe(0.3) {
			r.Members = append(r.Members, store.Member{ID: c.groups[rng.IntN(len(c.groups))].ID})
		}
		if err := s.Create(ctx, r); err != nil {
			t.Fatalf("seed group %d: %v", i, err)
		}
		c.groups = append(c.groups, r)
	}
	// Read everything back as the server would before rendering it.
	c.docs, c.ids = map[string][]map[string]any{}, map[string][]string{}
	for _, typ := range []string{store.UserType, store.GroupType} {
		p, err := s.Query(ctx, c.tenant, typ, store.Query{Count: nUsers + nGroups, ReadOptions: store.ReadOptions{Members: true}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Resources {
			c.docs[typ] = append(c.docs[typ], render(t, r))
			c.ids[typ] = append(c.ids[typ], r.ID)
		}
	}
	return c
}

// expect returns the ids filter.Match selects.
func (c *corpus) expect(typ string, e filter.Expr) []string {
	rt := catalog.ResourceType(typ)
	var out []string
	for i, d := range c.docs[typ] {
		if filter.Match(e, d, rt) {
			out = append(out, c.ids[typ][i])
		}
	}
	sort.Strings(out)
	return out
}

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// filterCases returns the table of filters, filled in from the corpus.
func filterCases(c *corpus) []struct{ typ, filter string } {
	u := func(i int) map[string]any { return c.docs[store.UserType][i%len(c.docs[store.UserType])] }
	str := func(d map[string]any, key string) string { s, _ := d[key].(string); return s }
	// Values to filter by, taken from the data.
	var email, emailUpper, ext, uid, gid, memberID string
	for i := range c.docs[store.UserType] {
		if es, ok := u(i)["emails"].([]any); ok && email == "" {
			email = es[0].(map[string]any)["value"].(string)
		}
		if e := str(u(i), "externalId"); e != "" && ext == "" {
			ext = e
		}
	}
	emailUpper = strings.ToUpper(email)
	uid = c.ids[store.UserType][len(c.ids[store.UserType])/2]
	var mgr string
	for i := range c.docs[store.UserType] {
		if ent, ok := u(i)[scim.EnterpriseUserURN].(map[string]any); ok {
			if m, ok := ent["manager"].(map[string]any); ok {
				mgr = m["value"].(string)
				break
			}
		}
	}
	for _, g := range c.groups {
		if len(g.Members) > 0 {
			gid, memberID = g.ID, g.Members[0].ID
			break
		}
	}
	mid := c.users[len(c.users)/2]
	midTime := mid.LastModified.UTC()
	inBerlin := midTime.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
	first := c.users[0].Created.UTC()
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	core := "urn:ietf:params:scim:schemas:core:2.0:User"
	uf := func(f string, args ...any) struct{ typ, filter string } {
		return struct{ typ, filter string }{store.UserType, fmt.Sprintf(f, args...)}
	}
	gf := func(f string, args ...any) struct{ typ, filter string } {
		return struct{ typ, filter string }{store.GroupType, fmt.Sprintf(f, args...)}
	}
	return []struct{ typ, filter string }{
		// Every operator on a simple string, ignoring case.
		uf(`userName eq %s`, q(strings.ToUpper(str(u(40), "userName")))),
		uf(`userName eq "nobody@nowhere"`),
		uf(`userName ne %s`, q(str(u(41), "userName"))),
		uf(`userName co "example"`),
		uf(`userName co "EXAMPLE.org"`),
		uf(`userName co "ex"`),
		uf(`userName co "S"`),
		uf(`userName sw "a"`),
		uf(`userName sw "JOE."`),
		uf(`userName sw ""`),
		uf(`userName ew ".COM"`),
		uf(`userName ew "t"`),
		uf(`userName gt "m"`),
		uf(`userName ge %s`, q(str(u(45), "userName"))),
		uf(`userName lt "C"`),
		uf(`userName le %s`, q(str(u(45), "userName"))),
		uf(`userName pr`),
		uf(`userName eq null`),
		// Case folding corner cases.
		uf(`userName eq "ISTANBUL"`),
		uf(`userName eq "İSTANBUL"`),
		uf(`userName eq "irmak"`),
		uf(`userName eq "ırmak"`),
		uf(`userName sw "i"`),
		uf(`userName co "ı"`),
		uf(`userName eq "KELVIN"`),
		uf(`userName eq "SIGMA"`),
		uf(`userName eq "σίσυφοσ"`),
		uf(`userName co "ΣΥ"`),
		uf(`userName eq "STRASSE"`),
		uf(`userName eq "DŽEMAL"`),
		uf(`userName co "%%_"`),
		uf(`userName co "\""`),
		uf(`userName sw "emoji😀"`),
		// Presence and null on optional attributes.
		uf(`displayName pr`),
		uf(`not (displayName pr)`),
		uf(`displayName eq null`),
		uf(`displayName ne null`),
		uf(`nickName eq "x"`),
		uf(`nickName ne "x"`),
		// Booleans.
		uf(`active eq true`),
		uf(`active eq false`),
		uf(`active ne true`),
		uf(`active ne false`),
		uf(`active pr`),
		uf(`active eq null`),
		uf(`active eq "true"`),
		uf(`active ne "true"`),
		uf(`active gt false`),
		// caseExact.
		uf(`externalId eq %s`, q(ext)),
		uf(`externalId eq %s`, q(strings.ToUpper(ext))),
		uf(`externalId sw "ext-1"`),
		uf(`externalId co "T-1"`),
		uf(`externalId gt "ext-3"`),
		uf(`externalId ne %s`, q(ext)),
		// Complex single-valued.
		uf(`name.familyName eq "smith"`),
		uf(`name.familyName sw "J"`),
		uf(`name.givenName co "an"`),
		uf(`name.familyName pr`),
		uf(`name.familyName ne "Smith"`),
		uf(`name.middleName pr`),
		uf(`name.middleName eq ""`),
		uf(`name pr`),
		uf(`name eq null`),
		uf(`name eq "x"`),
		uf(`name ne "x"`),
		uf(`name[givenName eq "ann" and familyName pr]`),
		uf(`name[not (familyName pr)]`),
		uf(`%s:name.familyName sw "s"`, core),
		uf(`%s:userName eq %s`, core, q(str(u(40), "userName"))),
		// Multi-valued complex: emails.
		uf(`emails.value eq %s`, q(emailUpper)),
		uf(`emails eq %s`, q(email)),
		uf(`emails co "example.org"`),
		uf(`emails.type eq "work"`),
		uf(`emails.type ne "work"`),
		uf(`emails.display pr`),
		uf(`emails.display ne "x"`),
		uf(`emails.display eq ""`),
		uf(`emails pr`),
		uf(`emails eq null`),
		uf(`emails ne null`),
		uf(`emails.primary eq true`),
		uf(`emails[type eq "work"]`),
		uf(`emails[type eq "work" and value co "example"]`),
		uf(`emails[type eq "work"].value eq %s`, q(email)),
		uf(`emails[type eq "home"].value co "0.1"`),
		uf(`emails[type eq "home" or primary eq true]`),
		uf(`emails[not (type eq "work")]`),
		uf(`emails[type ne "work"]`),
		uf(`emails[primary eq true and type eq "home"]`),
		uf(`emails[value ew ".com" and not (primary eq true)]`),
		uf(`emails[value eq %s or value sw "zo"]`, q(email)),
		uf(`emails[type pr and not (primary pr)]`),
		uf(`emails[display eq null]`),
		uf(`emails[foo eq "x"]`),
		uf(`emails[foo ne "x"]`),
		uf(`emails[value co "x"]`),
		uf(`emails[value co "X.I"]`),
		uf(`phoneNumbers[type eq "mobile" and value sw "+1"]`),
		uf(`phoneNumbers.value co "555 1"`),
		uf(`addresses[type eq "work"].locality eq "berlin"`),
		uf(`addresses.country eq "de"`),
		uf(`roles[value eq "admin" and primary eq true]`),
		uf(`x509Certificates.value eq %s`, q(base64.StdEncoding.EncodeToString([]byte("cert-1")))),
		uf(`x509Certificates.value gt "A"`),
		uf(`x509Certificates pr`),
		uf(`userName[value eq "x"]`),
		// The enterprise extension, qualified and not.
		uf(`%s:employeeNumber eq "1010"`, ent),
		uf(`%s:department eq "sales"`, ent),
		uf(`department eq "SALES"`),
		uf(`department co "&"`),
		uf(`department ew "7"`),
		uf(`%s:costCenter ne "cc-1"`, ent),
		uf(`%s:manager.value eq %s`, ent, q(mgr)),
		uf(`manager.value eq %s`, q(mgr)),
		uf(`%s:manager eq %s`, ent, q(mgr)),
		uf(`%s:manager pr`, ent),
		uf(`%s:manager[value eq %s]`, ent, q(mgr)),
		uf(`%s pr`, ent),
		uf(`not (%s pr)`, ent),
		uf(`%s eq null`, ent),
		uf(`%s eq "x"`, ent),
		uf(`%s ne "x"`, ent),
		uf(`%s:unknown eq "x"`, ent),
		uf(`urn:example:unknown:1.0:User:foo pr`),
		// id.
		uf(`id eq %s`, q(uid)),
		uf(`id eq %s`, q(strings.ToUpper(uid))),
		uf(`id ne %s`, q(uid)),
		uf(`id sw %s`, q(uid[:2])),
		uf(`id co "-4"`),
		uf(`id gt %s`, q(uid)),
		uf(`id pr`),
		uf(`id eq null`),
		uf(`id eq 1`),
		// meta: instants, whatever the offset.
		uf(`meta.lastModified gt %s`, q(midTime.Format(time.RFC3339Nano))),
		uf(`meta.lastModified gt %s`, q(inBerlin)),
		uf(`meta.lastModified ge %s`, q(inBerlin)),
		uf(`meta.lastModified eq %s`, q(inBerlin)),
		uf(`meta.lastModified ne %s`, q(inBerlin)),
		uf(`meta.lastModified lt %s`, q(midTime.Format(time.RFC3339))),
		uf(`meta.created le %s`, q(first.Format(timeLayout))),
		uf(`meta.created eq %s`, q(first.Format("2006-01-02T15:04:05.999999999"))),
		uf(`meta.created gt "2000-01-01T00:00:00-12:00"`),
		uf(`meta.created lt "1999-12-31T23:59:59+14:00"`),
		uf(`meta.created gt "not a date"`),
		uf(`meta.created ne "not a date"`),
		uf(`meta.created sw %s`, q(first.Format("2006"))),
		uf(`meta.lastModified co "t"`),
		uf(`meta.lastModified ew %s`, q(midTime.Format(".000Z"))),
		uf(`meta.created co %s`, q(first.Format(":05.000"))),
		uf(`meta.lastModified eq %s`, q(midTime.Format(timeLayout))),
		uf(`meta.lastModified gt %s`, q(midTime.Format(timeLayout))),
		uf(`meta.lastModified pr`),
		uf(`meta pr`),
		uf(`meta eq null`),
		uf(`meta.resourceType eq "User"`),
		uf(`meta.resourceType eq "user"`),
		uf(`meta.resourceType ne "Group"`),
		uf(`meta[resourceType eq "User" and created gt "2000-01-01T00:00:00Z"]`),
		uf(`meta.foo pr`),
		// A user's groups.
		uf(`groups.value eq %s`, q(gid)),
		uf(`groups[value eq %s]`, q(strings.ToUpper(gid))),
		uf(`groups eq %s`, q(gid)),
		uf(`groups.value ne %s`, q(gid)),
		uf(`groups pr`),
		uf(`not (groups pr)`),
		uf(`groups eq null`),
		uf(`groups.value sw %s`, q(gid[:3])),
		uf(`groups.foo eq "x"`),
		// Logic and precedence.
		uf(`userName sw "a" or userName sw "b" and active eq true`),
		uf(`(userName sw "a" or userName sw "b") and active eq true`),
		uf(`not (userName sw "a" or active eq false)`),
		uf(`not (not (active eq true))`),
		uf(`active eq true and (title co "engineer" or emails[type eq "work" and primary eq true])`),
		uf(`userName eq "a" and userName eq "b"`),
		uf(`title pr and not (title eq "CEO") or department eq "sales"`),
		uf(`emails[type eq "work"] and not (emails[type eq "home"])`),
		uf(`name.familyName eq "smith" or name.familyName eq "jones" or name.familyName eq "zhang" or name.familyName eq "ab" or name.familyName eq "nguyen" or title eq "ceo"`),
		// Attributes the schema does not define.
		uf(`schemas eq %s`, q(ent)),
		uf(`schemas co "ENTERPRISE"`),
		uf(`loginCount gt 3`),
		uf(`loginCount eq 5`),
		uf(`loginCount eq "5"`),
		uf(`loginCount ne 5`),
		uf(`loginCount pr`),
		uf(`score eq 2.5`),
		uf(`score ge 2.5e0`),
		uf(`score lt 0`),
		uf(`score eq 100`),
		uf(`tags eq "vip"`),
		uf(`tags ne "vip"`),
		uf(`flags eq true`),
		uf(`flags ne true`),
		uf(`custom eq "x"`),
		uf(`custom.n gt 0`),
		uf(`custom[value eq "x" and n eq 1]`),
		uf(`custom ne "x"`),
		uf(`foo eq "x"`),
		uf(`foo ne "x"`),
		uf(`foo pr`),
		uf(`foo eq null`),
		uf(`foo.bar ne 1`),
		// Groups.
		gf(`displayName eq %s`, q(strings.ToUpper(str(c.docs[store.GroupType][3], "displayName")))),
		gf(`displayName co "group 1"`),
		gf(`displayName sw "SALES"`),
		gf(`members[value eq %s]`, q(memberID)),
		gf(`members.value eq %s`, q(strings.ToUpper(memberID))),
		gf(`members eq %s`, q(memberID)),
		gf(`members[value eq %s and type eq "User"]`, q(memberID)),
		gf(`members[type eq "Group"]`),
		gf(`members.type eq "user"`),
		gf(`members.type ne "User"`),
		gf(`members.value ne %s`, q(memberID)),
		gf(`members pr`),
		gf(`not (members pr)`),
		gf(`members eq null`),
		gf(`members.value pr`),
		gf(`members[value sw %s]`, q(memberID[:2])),
		gf(`members[value eq %s or type eq "Group"]`, q(uid)),
		gf(`members[not (type eq "User")]`),
		gf(`members.value gt "8"`),
		gf(`members.foo ne "x"`),
		gf(`id eq %s and members[value eq %s]`, q(gid), q(memberID)),
		gf(`externalId pr`),
		gf(`meta.resourceType eq "Group"`),
		gf(`groups pr`),
		gf(`userName eq "x"`),
	}
}

func testFilterMatchesEvaluator(t *testing.T, s store.Store) {
	c := seed(t, s, 300, 30)
	ctx := context.Background()
	check := func(t *testing.T, typ, f string) {
		t.Helper()
		e := parse(t, f)
		want := c.expect(typ, e)
		p, err := s.Query(ctx, c.tenant, typ, store.Query{Filter: e, Count: 1000})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			return
		}
		got := make([]string, len(p.Resources))
		for i, r := range p.Resources {
			got[i] = r.ID
		}
		sort.Strings(got)
		if !slices.Equal(got, want) || p.Total != len(want) {
			t.Errorf("%s %s: Query found %d (total %d), filter.Match %d\n  only in Query: %v\n  only in Match: %v",
				typ, f, len(got), p.Total, len(want), minus(got, want), minus(want, got))
		}
	}
	cases := filterCases(c)
	selective := 0
	for _, tc := range cases {
		n := len(c.expect(tc.typ, parse(t, tc.filter)))
		if n > 0 && n < len(c.docs[tc.typ]) {
			selective++
		}
		check(t, tc.typ, tc.filter)
	}
	// The table is only a test if most of its filters split the data.
	if selective < len(cases)/2 {
		t.Errorf("only %d of %d filters select some but not all resources", selective, len(cases))
	}
	rng := rand.New(rand.NewPCG(3, 5))
	g := filterGen{rng: rng, c: c}
	const random = 600
	t.Logf("%d table filters (%d select some but not all), %d random filters, over %d users and %d groups",
		len(cases), selective, random, len(c.users), len(c.groups))
	for range random {
		typ := store.UserType
		if rng.IntN(5) == 0 {
			typ = store.GroupType
		}
		check(t, typ, g.expr(typ, 0))
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// filterGen writes random filters over the corpus: random paths, operators
// and values (mostly values that occur, in random case), nested with and,
// or, not and value paths.
type filterGen struct {
	rng *rand.Rand
	c   *corpus
}

var genPaths = map[string][]string{
	store.UserType: {
		"userName", "displayName", "title", "active", "externalId", "locale", "nickName",
		"name.givenName", "name.familyName", "name.formatted", "name.middleName", "name",
		"emails", "emails.value", "emails.type", "emails.primary", "emails.display",
		"phoneNumbers.value", "phoneNumbers.type", "addresses.country", "addresses.locality", "roles.value",
		"x509Certificates.value", "department", "employeeNumber", "costCenter", "manager.value",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"id", "meta.created", "meta.lastModified", "meta.resourceType", "groups", "groups.value",
		"schemas", "loginCount", "score", "tags", "flags", "custom", "custom.n", "unknownThing",
	},
	store.GroupType: {
		"displayName", "externalId", "id", "members", "members.value", "members.type",
		"meta.created", "meta.lastModified", "meta.resourceType", "unknownThing",
	},
}

var genValuePaths = map[string]map[string][]string{
	store.UserType: {
		"emails":       {"value", "type", "primary", "display"},
		"phoneNumbers": {"value", "type"},
		"addresses":    {"country", "locality", "type", "postalCode"},
		"roles":        {"value", "primary"},
		"name":         {"givenName", "familyName"},
		"groups":       {"value"},
		"custom":       {"value", "n"},
	},
	store.GroupType: {
		"members": {"value", "type"},
	},
}

var genOps = []filter.Op{filter.Eq, filter.Eq, filter.Eq, filter.Ne, filter.Co, filter.Sw, filter.Ew, filter.Pr, filter.Gt, filter.Ge, filter.Lt, filter.Le}

func (g *filterGen) expr(typ string, depth int) string {
	switch n := g.rng.IntN(10); {
	case depth < 3 && n < 2:
		return "(" + g.expr(typ, depth+1) + " and " + g.expr(typ, depth+1) + ")"
	case depth < 3 && n < 4:
		return "(" + g.expr(typ, depth+1) + " or " + g.expr(typ, depth+1) + ")"
	case depth < 3 && n < 5:
		return "not (" + g.expr(typ, depth+1) + ")"
	case n < 7:
		attrs := genValuePaths[typ]
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attr := keys[g.rng.IntN(len(keys))]
		return attr + "[" + g.elemExpr(typ, attr, attrs[attr], 0) + "]"
	}
	paths := genPaths[typ]
	return g.compare(typ, paths[g.rng.IntN(len(paths))])
}

func (g *filterGen) elemExpr(typ, attr string, subs []string, depth int) string {
	switch n := g.rng.IntN(10); {
	case depth < 2 && n < 2:
		return g.elemExpr(typ, attr, subs, depth+1) + " and " + g.elemExpr(typ, attr, subs, depth+1)
	case depth < 2 && n < 3:
		return "(" + g.elemExpr(typ, attr, subs, depth+1) + " or " + g.elemExpr(typ, attr, subs, depth+1) + ")"
	case depth < 2 && n < 4:
		return "not (" + g.elemExpr(typ, attr, subs, depth+1) + ")"
	}
	sub := subs[g.rng.IntN(len(subs))]
	c := g.compare(typ, attr+"."+sub)
	return strings.TrimPrefix(c, attr+".")
}

// compare writes a comparison on path with a value drawn from the
// documents' values for that path, or an odd one.
func (g *filterGen) compare(typ, path string) string {
	op := genOps[g.rng.IntN(len(genOps))]
	if op == filter.Pr {
		return path + " pr"
	}
	return path + " " + string(op) + " " + g.value(typ, path)
}

func (g *filterGen) value(typ, path string) string {
	switch g.rng.IntN(12) {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[g.rng.IntN(2)]
	case 2:
		return []string{"0", "3", "2.5", "-1", "1e2"}[g.rng.IntN(5)]
	case 3:
		return q([]string{"", "a", "e", "1", "x.io", "2026", "work", "user", "zz"}[g.rng.IntN(9)])
	}
	vals := g.valuesAt(typ, path)
	if len(vals) == 0 {
		return q("none")
	}
	v := vals[g.rng.IntN(len(vals))]
	switch x := v.(type) {
	case bool:
		return fmt.Sprint(x)
	case json.Number:
		return string(x)
	case string:
		switch g.rng.IntN(5) {
		case 0:
			x = strings.ToUpper(x)
		case 1:
			if r := []rune(x); len(r) > 3 {
				i := g.rng.IntN(len(r) - 2)
				x = string(r[i : i+1+g.rng.IntN(len(r)-i-1)])
			}
		}
		return q(x)
	}
	return q(fmt.Sprint(v))
}

// valuesAt collects the scalar values at path in the rendered documents.
func (g *filterGen) valuesAt(typ, path string) []any {
	urn, rest := resource.SplitURN(path)
	name, sub, _ := strings.Cut(rest, ".")
	rt := catalog.ResourceType(typ)
	var out []any
	for _, d := range g.c.docs[typ] {
		container := d
		if s, a := rt.Resolve(urn, name); a != nil && rt.IsExtension(s) {
			container, _ = d[s.ID].(map[string]any)
		}
		v := lookup(container, name)
		var vs []any
		if arr, ok := v.([]any); ok {
			vs = arr
		} else if v != nil {
			vs = []any{v}
		}
		for _, x := range vs {
			if m, ok := x.(map[string]any); ok {
				key := sub
				if key == "" {
					key = "value"
				}
				x = lookup(m, key)
			}
			switch x.(type) {
			case string, bool, json.Number:
				out = append(out, x)
			}
		}
	}
	return out
}

func lookup(m map[string]any, key string) any {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
