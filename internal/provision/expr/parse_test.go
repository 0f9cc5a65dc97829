package expr

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"attribute", `[userName]`, `[userName]`},
		{"attribute with spaces inside", `[ userName ]`, `[userName]`},
		{"dotted attribute", `[name.givenName]`, `[name.givenName]`},
		{"value filter", `[emails[type eq "work"].value]`, `[emails[type eq "work"].value]`},
		{"bracket inside filter string", `[emails[value eq "a]b"].type]`, `[emails[value eq "a]b"].type]`},
		{"URN attribute", `[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]`,
			`[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]`},
		{"constant", `"x"`, `"x"`},
		{"escaped constant", `"Company name: \"Contoso\" \\ done"`, `"Company name: \"Contoso\" \\ done"`},
		{"lone backslash kept", `"\d+"`, `"\\d+"`},
		{"number", `42`, `42`},
		{"negative number", `-10`, `-10`},
		{"hex", `BitAnd(&HF, &hf7)`, `BitAnd(&HF, &HF7)`},
		{"no arguments", `Now( )`, `Now()`},
		{"spacing", `Join( " " ,[a],[b] )`, `Join(" ", [a], [b])`},
		{"empty arguments", `Replace([mail], "@contoso.com", , ,"", ,)`, `Replace([mail], "@contoso.com", , , "", , )`},
		{"empty default", `Switch([Active], , "1", "x")`, `Switch([Active], , "1", "x")`},
		{"comparison", `IIF([country]="USA",[country],[department])`, `IIF([country] = "USA", [country], [department])`},
		{"all operators", `F(1<>2, 1<2, 1<=2, 1>2, 1>=2)`, `F(1 <> 2, 1 < 2, 1 <= 2, 1 > 2, 1 >= 2)`},
		{"named constant", `InStr("a", "b", 1, vbBinaryCompare)`, `InStr("a", "b", 1, vbBinaryCompare)`},
		{"line breaks", "Switch([Active], , \n  \"1\", \"x\")", `Switch([Active], , "1", "x")`},
		{"non-breaking space", "Join(\u00a0\" \", [a])", `Join(" ", [a])`},
		{"nested", `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [a], [b]))), "contoso.com"))`,
			`ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [a], [b]))), "contoso.com"))`},
		{"unknown function parses", `Foo([a])`, `Foo([a])`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.src, err)
			}
			if got := e.String(); got != tc.want {
				t.Fatalf("Parse(%s).String() = %s, want %s", tc.src, got, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		pos  int
		msg  string
	}{
		{"empty", ``, 0, "expected an expression, found end of input"},
		{"blank", `   `, 3, "expected an expression, found end of input"},
		{"missing parenthesis", `Join(" ", [a]`, 13, `expected "," or ")" in the arguments of Join, found end of input`},
		{"junk after argument", `Join(" " [a])`, 9, `expected "," or ")" after argument 1 of Join, found "["`},
		{"function without call", `Now`, 3, `expected "(" after the function name "Now", found end of input`},
		{"bare word", `Left(Hello, 1)`, 10, `expected "(" after the function name "Hello", found ","`},
		{"unterminated string", `Append([a], "x)`, 12, "unterminated string constant"},
		{"unterminated attribute", `Append([a, "x")`, 7, `unterminated attribute reference: expected "]"`},
		{"unterminated filter", `[emails[type eq "work"]`, 0, `unterminated attribute reference`},
		{"empty attribute", `Append([ ], "x")`, 7, "empty attribute reference"},
		{"trailing input", `[a] [b]`, 4, `expected end of expression, found "["`},
		{"AND", `IIF([a]="1" AND [b]="2", "x", "y")`, 12, `found "AND": conditions cannot be combined with AND or OR; nest IIF calls instead`},
		{"Or", `IIF([a]="1" Or [b]="2", "x", "y")`, 12, `found "Or"`},
		{"double equals", `IIF([a]=="1", "x", "y")`, 7, `found "==": compare with "="`},
		{"not equals C style", `IIF([a]!="1", "x", "y")`, 7, `found "!=": compare with "<>"`},
		{"chained comparison", `IIF(1 = 1 = 1, "x", "y")`, 6, "only one comparison is allowed in a condition"},
		{"decimal", `Left("abc", 1.5)`, 12, "only whole numbers are supported"},
		{"minus alone", `Left("abc", -)`, 13, `expected a digit after "-"`},
		{"number out of range", `Left("abc", 99999999999999999999)`, 12, "out of range"},
		{"bad hex", `BitAnd(&X1, 1)`, 7, "expected a hexadecimal number such as &HF7"},
		{"hex without digits", `BitAnd(&H, 1)`, 9, `expected hexadecimal digits after "&H"`},
		{"hex too long", `BitAnd(&H11112222333344445, 1)`, 7, "out of range"},
		{"stray character", `Join(" ", #)`, 10, `expected a function call, an [attribute], a "string" or a number, found "#"`},
		{"operand missing after operator", `IIF([a] = , "x", "y")`, 10, "expected a function call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.src)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%s) error = %v, want an *Error", tc.src, err)
			}
			if pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("Parse(%s) = position %d %q\nwant position %d %q", tc.src, pe.Pos, pe.Msg, tc.pos, tc.msg)
			}
		})
	}
}

func TestParseBounds(t *testing.T) {
	t.Parallel()
	// Exactly the limit, in characters (not bytes), parses.
	long := `"` + strings.Repeat("é", MaxLength-2) + `"`
	if _, err := Parse(long); err != nil {
		t.Fatalf("Parse of %d characters: %v", MaxLength, err)
	}
	_, err := Parse(`"` + strings.Repeat("é", MaxLength-1) + `"`)
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "longer than 10000 characters") || pe.Pos != 1+2*(MaxLength-1) {
		t.Fatalf("Parse of %d characters: %v", MaxLength+1, err)
	}

	nest := func(n int) string {
		return strings.Repeat("ToLower(", n) + `"x"` + strings.Repeat(")", n)
	}
	if _, err := Parse(nest(MaxDepth)); err != nil {
		t.Fatalf("Parse at depth %d: %v", MaxDepth, err)
	}
	_, err = Parse(nest(MaxDepth + 1))
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nested more than 32 deep") || pe.Pos != 8*MaxDepth {
		t.Fatalf("Parse at depth %d: %v", MaxDepth+1, err)
	}
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	e, err := Parse(`Join(" ", [name.givenName], [name.familyName], ToLower([name.givenName]))`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Attributes(), []string{"name.givenName", "name.familyName"}; !slices.Equal(got, want) {
		t.Errorf("Attributes() = %q, want %q", got, want)
	}
	if _, ok := e.Attribute(); ok {
		t.Error("Attribute() reports a function call as a direct attribute")
	}
	direct, err := Parse(`[emails[type eq "work"].value]`)
	if err != nil {
		t.Fatal(err)
	}
	if path, ok := direct.Attribute(); !ok || path != `emails[type eq "work"].value` {
		t.Errorf("Attribute() = %q, %v", path, ok)
	}
}

// checkRoundTrip asserts the fuzz invariant on a parsed expression: its
// String() parses again to the same String().
func checkRoundTrip(t *testing.T, e *Expression) {
	t.Helper()
	s := e.String()
	e2, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%s) (String of the parsed expression): %v", s, err)
	}
	if got := e2.String(); got != s {
		t.Fatalf("round trip: %s became %s", s, got)
	}
}
