package expr

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckErrors(t *testing.T) {
	t.Parallel()
	attrs := SchemaChecker(userType(t), "IsSoftDeleted")
	tests := []struct {
		name string
		src  string
		pos  int
		msg  string
	}{
		{"unknown function", `Frobnicate([userName])`, 0, `unknown function "Frobnicate"`},
		{"wrong case", `join(" ", [userName])`, 0, `unknown function "join"; did you mean "Join"? Function names are case-sensitive`},
		{"wrong case IIF", `Iif("True", "a", "b")`, 0, `did you mean "IIF"?`},
		{"unsupported", `Append(SingleAppRoleAssignment([appRoleAssignments]), "x")`, 7, "Ferry does not support the function SingleAppRoleAssignment"},
		{"unsupported SelectUniqueValue", `SelectUniqueValue([a], [b])`, 0, "Ferry does not support the function SelectUniqueValue"},
		{"too many", `Left("John", 1, 2)`, 0, "Left takes 2 arguments, as in Left(String, NumChars), but is given 3"},
		{"too few", `Mid("John", 1)`, 0, "Mid takes 3 arguments, as in Mid(source, start, length), but is given 2"},
		{"one argument", `ToUpper()`, 0, "ToUpper takes 1 to 2 arguments, as in ToUpper(source, culture), but is given 0"},
		{"no arguments", `Now(1)`, 0, "Now takes no arguments, as in Now(), but is given 1"},
		{"variadic", `Join(" ")`, 0, "Join takes at least 2 arguments, as in Join(separator, source1, source2, …), but is given 1"},
		{"Switch odd", `Switch([userName], "d", "k")`, 0, "Switch takes an even number of arguments, at least 4, as in Switch(source, defaultValue, key1, value1, key2, value2, …), but is given 3"},
		{"Replace too few", `Replace([userName], "a", , )`, 0, "Replace takes 5 to 7 arguments"},
		{"required argument empty", `Append(, "x")`, 7, "Append argument 1 (source) is required but empty"},
		{"unknown attribute", `ToLower([userNam])`, 8, "attribute [userNam]: the User resource type has no such attribute"},
		{"complex attribute", `ToLower([name])`, 8, "attribute [name]: name is a complex attribute; name one of its sub-attributes, such as name.formatted"},
		{"bad path", `ToLower([emails[type eq]])`, 8, "attribute [emails[type eq]]: not a valid SCIM attribute path"},
		{"filter on a simple attribute", `[userName[type eq "x"]]`, 0, "a value filter needs a multi-valued complex attribute"},
		{"interval", `DateAdd("q", 1, Now())`, 8, `DateAdd argument 1 (interval) must be one of yyyy, m, d, ww, h, n, s, not "q"`},
		{"interval case", `DateDiff("D", Now(), Now())`, 9, `must be one of yyyy, m, d, ww, h, n, s, not "D"`},
		{"interval number", `DateAdd(1, 1, Now())`, 8, `not 1`},
		{"not a whole number", `Left("John", "three")`, 13, `Left argument 2 (NumChars) must be a whole number, not "three"`},
		{"comparison as number", `Left("John", 1 = 1)`, 15, "Left argument 2 (NumChars) is a comparison"},
		{"not a date", `CDate("yesterday")`, 6, `CDate argument 1 (expression) must be a date and time`},
		{"number as date", `DateAdd("d", 1, 20210101)`, 16, "must be a date and time, not the number 20210101"},
		{"regex", `Replace([userName], , "(?<x>a", , "b", , )`, 22, "Replace argument 3 (regexPattern) is invalid: the regular expression does not compile"},
		{"lookahead regex", `Replace([userName], , "a(?=b)", , "b", , )`, 22, "without lookaround"},
		{"Replace combination", `Replace([userName], "a", "b", , "c", , )`, 0, "Replace needs one of these argument combinations"},
		{"Replace nothing given", `Replace([userName], , , , , , )`, 0, "Replace needs one of these argument combinations"},
		{"format", `FormatDateTime([userName], , "YYYY-MM-DD", "yyyy")`, 29, `FormatDateTime argument 3 (inputFormat) is invalid: "Y" at position 0 of the format is not a date and time specifier (years are y)`},
		{"format era", `FormatDateTime([userName], , "yyyy", "yyyy gg")`, 37, "the era specifier g"},
		{"format fraction", `FormatDateTime([userName], , "yyyy", "ffffffff")`, 37, "more than 7 fraction digits"},
		{"format quote", `FormatDateTime([userName], , "yyyy", "yyyy 'at")`, 37, "has no closing quote"},
		{"format empty", `FormatDateTime([userName], , "", "yyyy")`, 29, "the date and time format is empty"},
		{"format single letter", `FormatDateTime([userName], , "yyyy", "x")`, 37, `"x" is not a standard .NET date and time format`},
		{"styles", `FormatDateTime([userName], "AdjustToLocal", "yyyy", "yyyy")`, 27, `"AdjustToLocal" is not a DateTimeStyles value`},
		{"styles combination", `FormatDateTime([userName], "RoundtripKind, AdjustToUniversal", "yyyy", "yyyy")`, 27, "RoundtripKind cannot be combined"},
		{"compare type", `InStr("a", "b", 1, "vbFancyCompare")`, 19, "must be vbTextCompare or vbBinaryCompare"},
		{"named constant elsewhere", `Append(vbTextCompare, "x")`, 7, "vbTextCompare can only be given as InStr's compareType"},
		{"named constant alone", `vbTextCompare`, 0, "vbTextCompare can only be given as InStr's compareType"},
		{"culture", `ToLower([userName], "not a culture")`, 20, "must be a culture name such as en-US"},
		{"Item zero", `Item([emails], 0)`, 15, "Item argument 2 (index) is 1-based and must be at least 1, not 0"},
		{"Mid zero", `Mid([userName], 0, 1)`, 16, "Mid argument 2 (start) is 1-based"},
		{"Mid negative length", `Mid([userName], 1, -1)`, 19, "Mid argument 3 (length) must not be negative"},
		{"Split empty delimiter", `Split([userName], "")`, 18, "Split argument 2 (delimiter) must not be empty"},
		{"RandomString too long", `RandomString(257, 0, 0, 0, 0)`, 0, "Length must be between 1 and 256, not 257"},
		{"RandomString minimums", `RandomString(4, 2, 2, 2, 0)`, 0, "the minimums add up to 6, more than Length 4"},
		{"RandomString avoids everything", `RandomString(4, 1, 0, 0, 0, "0123456789")`, 0, "CharactersToAvoid leaves no characters for MinimumNumbers"},
		{"first problem wins", `Join(" ", [nope], Foo())`, 10, "attribute [nope]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.src, attrs)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%s) error = %v, want an *Error", tc.src, err)
			}
			if ce.Pos != tc.pos || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("Compile(%s) = position %d %q\nwant position %d %q", tc.src, ce.Pos, ce.Msg, tc.pos, tc.msg)
			}
			if strings.Count(ce.Msg, "\n") > 0 {
				t.Fatalf("Compile(%s) message spans lines: %q", tc.src, ce.Msg)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	users := SchemaChecker(userType(t), "IsSoftDeleted")
	groups := SchemaChecker(groupType(t))
	tests := []struct {
		name  string
		src   string
		attrs AttributeChecker
	}{
		{"direct", `[userName]`, users},
		{"virtual attribute", `Not([IsSoftDeleted])`, users},
		{"virtual attribute ignoring case", `Not([issoftdeleted])`, users},
		{"sub-attribute", `Join(" ", [name.givenName], [name.familyName])`, users},
		{"value filter", `[emails[type eq "work"].value]`, users},
		{"multi-valued complex stands for value", `Count([emails])`, users},
		{"extension by URN", `[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]`, users},
		{"extension unqualified", `[department]`, users},
		{"manager stands for its value", `[manager]`, users},
		{"attribute names ignore case", `[USERNAME]`, users},
		{"group members", `Count([members])`, groups},
		{"every documented operator", `IIF(DateDiff("d", Now(), CDate([meta.created])) >= 5, "a", "b")`, users},
		{"string holding a number", `Left([userName], "3")`, users},
		{"dynamic interval", `DateAdd([title], 1, Now())`, users},
		{"standard format", `FormatDateTime([meta.created], "AdjustToUniversal, AllowWhiteSpaces", "o", "s")`, users},
		{"no checker", `[anything]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Compile(tc.src, tc.attrs); err != nil {
				t.Fatalf("Compile(%s): %v", tc.src, err)
			}
		})
	}
}

// TestEveryFunctionChecks makes sure every name builtinNames lists resolves,
// so that the suggestion list and the function table cannot drift apart.
func TestEveryFunctionChecks(t *testing.T) {
	t.Parallel()
	for _, name := range builtinNames() {
		f := lookup(name)
		if f == nil || f.name != name {
			t.Errorf("lookup(%q) = %v", name, f)
			continue
		}
		if f.reason == "" && f.eval == nil {
			t.Errorf("%s has no implementation", name)
		}
	}
}
