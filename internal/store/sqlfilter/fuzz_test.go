package sqlfilter

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// FuzzWhere checks that every filter the parser accepts translates, or is
// refused with a 400, in both dialects; that the SQL uses exactly the
// arguments bound; and that every text argument is something PostgreSQL
// accepts as text (valid UTF-8 without U+0000).
func FuzzWhere(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`,
		`emails[type eq "work" and value co "@example.com"] or not (active eq true)`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value ne "x"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z" and id sw "2"`,
		`members[value eq "1" or type eq "Group"] and members.value pr`,
		`groups[value co "a"] or schemas eq "urn:x" or loginCount ge 2.5e3`,
		`name[givenName sw "a" and not (familyName pr)] and emails.display eq null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := filter.Parse(s)
		if err != nil {
			return
		}
		for _, d := range []struct {
			dialect Dialect
			marker  *regexp.Regexp
		}{{SQLite{}, placeholderRE}, {Postgres{}, pgPlaceholderRE}} {
			for _, rt := range []*schema.ResourceType{userType, groupType} {
				checkWhere(t, s, e, rt, d.dialect, d.marker)
			}
		}
	})
}

var pgPlaceholderRE = regexp.MustCompile(`\$(\d+)`)

func checkWhere(t *testing.T, s string, e filter.Expr, rt *schema.ResourceType, d Dialect, marker *regexp.Regexp) {
	b := NewBuilder(d, "tenant", rt.Name)
	c, err := Where(b, Target{Type: rt, Alias: "r", TenantArg: d.Placeholder(1), TypeArg: d.Placeholder(2)}, e)
	if err != nil {
		if !errors.Is(err, store.ErrUnsupportedFilter) {
			t.Fatalf("%s: %v", s, err)
		}
		return
	}
	for i, a := range b.Args() {
		if text, ok := a.(string); ok && (!utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0) {
			t.Fatalf("%s: argument %d %q is not valid PostgreSQL text", s, i+1, text)
		}
	}
	used := map[int]bool{}
	for _, m := range marker.FindAllStringSubmatch(c.SQL, -1) {
		var n int
		fmt.Sscan(m[1], &n)
		used[n] = true
	}
	for i := 3; i <= len(b.Args()); i++ {
		if !used[i] {
			t.Fatalf("%s: argument %d unused in %s", s, i, c.SQL)
		}
	}
	for n := range used {
		if n > len(b.Args()) {
			t.Fatalf("%s: placeholder %d without an argument in %s", s, n, c.SQL)
		}
	}
}
