package filter

import (
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim"
)

var fuzzSeeds = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr and userType eq "Employee"`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`emails[type eq "work"].value eq "x"`,
	`emails[type eq "work"].value pr`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
	`externalId eq jyoung`,
	`UserName Eq "x"`,
	`not(a pr)and(b pr)`,
	`a eq "\u00e9\ud83d\ude00\ud800\"\\\/\b\f\n\r\t"`,
	`a eq -0.5E-2 or b eq true or c ne NULL`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`,
	`manager.$ref pr`,
	`((((a pr))))`,
	`not eq 1`,
	`a eq "\u0007\u000b"`,
	`emails[`,
	`"x`,
	`a.b.c eq 1`,
}

// nesting returns how deep s nests parentheses and brackets outside JSON
// strings, which is how the parser counts depth.
func nesting(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			depth++
			deepest = max(deepest, depth)
		case ')', ']':
			depth--
		}
	}
	return deepest
}

// reparseFailureIsBound reports whether a failure to parse the String() of
// a parsed filter is only the bounds at work. String() quotes bare words and
// puts every and/or in parentheses, so the canonical form of a filter close
// to MaxLength or MaxDepth, or of a long and/or chain, can exceed them.
func reparseFailureIsBound(s string, err error) bool {
	se, ok := scim.AsError(err)
	if !ok {
		return false
	}
	switch {
	case len(s) > MaxLength:
		return strings.Contains(se.Detail, "longer than")
	case nesting(s) > MaxDepth:
		return strings.Contains(se.Detail, "nested more than")
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	rt := testUserType()
	doc := decode(f, testUserJSON)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if se, ok := scim.AsError(err); !ok || se.ScimType != scim.InvalidFilter || se.Status != 400 {
				t.Fatalf("Parse(%q): error %v is not a 400 invalidFilter *scim.Error", s, err)
			}
			return
		}
		// The evaluator must cope with anything the parser produces.
		Match(e, doc, rt)
		_ = Check(e, rt)
		if vp, ok := e.(*ValuePath); ok {
			MatchElement(vp.Filter, map[string]any{"value": "x"}, rt.Schema.Attribute("emails"))
		}

		s2 := e.String()
		e2, err := Parse(s2)
		if err != nil {
			if reparseFailureIsBound(s2, err) {
				return
			}
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, s2, err)
		}
		if s3 := e2.String(); s3 != s2 {
			t.Fatalf("Parse(%q): String() %q parses to %q", s, s2, s3)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		`members`,
		`name.familyName`,
		`members[value eq "x"]`,
		`members[value eq "x"].displayName`,
		`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		`emails[type eq "work"] x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAttrPath(s); err == nil {
			a2, err := ParseAttrPath(a.String())
			if err != nil || a2 != a {
				t.Fatalf("ParseAttrPath(%q) = %#v, whose String %q parses to %#v, %v", s, a, a.String(), a2, err)
			}
		} else if se, ok := scim.AsError(err); !ok || se.ScimType != scim.InvalidPath {
			t.Fatalf("ParseAttrPath(%q): error %v is not an invalidPath *scim.Error", s, err)
		}

		p, err := ParsePath(s)
		if err != nil {
			if se, ok := scim.AsError(err); !ok || se.ScimType != scim.InvalidPath || se.Status != 400 {
				t.Fatalf("ParsePath(%q): error %v is not a 400 invalidPath *scim.Error", s, err)
			}
			return
		}
		s2 := p.String()
		p2, err := ParsePath(s2)
		if err != nil {
			if reparseFailureIsBound(s2, err) {
				return
			}
			t.Fatalf("ParsePath(%q) = %s, which does not parse: %v", s, s2, err)
		}
		if s3 := p2.String(); s3 != s2 {
			t.Fatalf("ParsePath(%q): String() %q parses to %q", s, s2, s3)
		}
	})
}
