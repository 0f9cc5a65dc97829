package expr

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, tc := range docExamples {
		f.Add(tc.expr)
	}
	for _, s := range []string{
		`[emails[type eq "work"].value]`,
		`[emails[value eq "a]b"].type]`,
		`Replace([mail], "@contoso.com", , ,"", ,)`,
		`IIF([a]="1" AND [b]="2", "x", "y")`,
		`"\\\"\d"`,
		`BitAnd(&HFFFFFFFFFFFFFFFF, -9223372036854775808)`,
		`InStr("a", "b", 1, vbTextCompare)`,
		`F(,,)`,
		`[`, `"`, `F(`, `&H`, `-`,
	} {
		f.Add(s)
	}
	rt := userType(f)
	doc := testUser(f)
	attrs := SchemaChecker(rt)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("Parse(%q): error %v is not an *Error with a position inside the input", s, err)
			}
			return
		}
		// Checking and evaluating must cope with anything the parser produces.
		_ = e.Check(attrs)
		_, _ = e.Eval(DocumentSource{Doc: doc, Type: rt}, testEnv())

		s2 := e.String()
		e2, err := Parse(s2)
		if err != nil {
			// The canonical form adds spaces, so an expression close to the
			// length limit may not fit once printed.
			if utf8.RuneCountInString(s2) > MaxLength && strings.Contains(err.Error(), "longer than") {
				return
			}
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, s2, err)
		}
		if s3 := e2.String(); s3 != s2 {
			t.Fatalf("Parse(%q): String() %s parses to %s", s, s2, s3)
		}
	})
}
