package expr

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
)

// docExamples are the examples of Microsoft's "Reference for writing
// expressions for attribute mappings in Microsoft Entra ID", function by
// function, with the inputs and outputs the page gives.
var docExamples = []struct {
	name  string
	expr  string
	attrs MapSource
	want  Value
}{
	{"Append", `Append([userPrincipalName], ".test")`,
		MapSource{"userPrincipalName": str("John.Doe@contoso.com")}, str("John.Doe@contoso.com.test")},
	{"BitAnd", `BitAnd(&HF, &HF7)`, nil, integer(7)},
	{"CBool equal attributes", `CBool([attribute1] = [attribute2])`,
		MapSource{"attribute1": str("x"), "attribute2": str("x")}, boolean(true)},
	{"CBool different attributes", `CBool([attribute1] = [attribute2])`,
		MapSource{"attribute1": str("x"), "attribute2": str("y")}, boolean(false)},
	{"CDate Workday offset", `CStr(CDate([StatusHireDate]))`,
		MapSource{"StatusHireDate": str("2020-03-16-07:00")}, str("3/16/2020 7:00:00 AM")},
	{"CDate positive offset", `CStr(CDate("2021-06-30+08:00"))`, nil, str("6/29/2021 4:00:00 PM")},
	{"CDate date and time", `CStr(CDate("2009-06-15T01:45:30-07:00"))`, nil, str("6/15/2009 8:45:30 AM")},
	{"Coalesce", `Coalesce([mail],[userPrincipalName])`,
		MapSource{"userPrincipalName": str("John.Doe@contoso.com")}, str("John.Doe@contoso.com")},
	{"ConvertToBase64", `ConvertToBase64("Hello world!")`, nil, str("SABlAGwAbABvACAAdwBvAHIAbABkACEA")},
	{"ConvertToUTF8Hex", `ConvertToUTF8Hex("Hello world!")`, nil, str("48656C6C6F20776F726C6421")},
	{"CStr", `CStr([dn])`, MapSource{"dn": str("cn=Joe,dc=contoso,dc=com")}, str("cn=Joe,dc=contoso,dc=com")},

	// DateAdd, example 1: StatusHireDate = 2012-03-16-07:00.
	{"DateAdd 7 days", `CStr(DateAdd("d", 7, CDate([StatusHireDate])))`, hire2012, str("3/23/2012 7:00:00 AM")},
	{"DateAdd -10 days", `CStr(DateAdd("d", -10, CDate([StatusHireDate])))`, hire2012, str("3/6/2012 7:00:00 AM")},
	{"DateAdd two weeks", `CStr(DateAdd("ww", 2, CDate([StatusHireDate])))`, hire2012, str("3/30/2012 7:00:00 AM")},
	{"DateAdd ten months", `CStr(DateAdd("m", 10, CDate([StatusHireDate])))`, hire2012, str("1/16/2013 7:00:00 AM")},
	{"DateAdd two years", `CStr(DateAdd("yyyy", 2, CDate([StatusHireDate])))`, hire2012, str("3/16/2014 7:00:00 AM")},

	// DateDiff, example 1's table.
	{"DateDiff positive days", `DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))`, nil, integer(13)},
	{"DateDiff negative days", `DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, nil, integer(-3449)},
	{"DateDiff weeks", `DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, nil, integer(-493)},
	{"DateDiff months", `DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, nil, integer(-113)},
	{"DateDiff years", `DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, nil, integer(-9)},
	{"DateDiff same date", `DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))`, nil, integer(0)},
	{"DateDiff hours", `DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))`, nil, integer(24)},
	{"DateDiff minutes", `DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))`, nil, integer(1440)},
	{"DateDiff seconds", `DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))`, nil, integer(86400)},
	{"DateDiff strings without CDate", `DateDiff("d", "2021-08-18+08:00", "2021-08-31+08:00")`, nil, integer(13)},

	// DateDiff, example 2, with Now() at 7/2/2021 3:33:38 PM.
	{"DateDiff in IIF hire soon", dateDiffExample2,
		MapSource{"Active": str("1"), "StatusHireDate": str("2021-07-05-07:00")}, str("True")},
	{"DateDiff in IIF hire later", dateDiffExample2,
		MapSource{"Active": str("1"), "StatusHireDate": str("2021-08-05-07:00")}, str("False")},
	{"DateDiff in IIF inactive", dateDiffExample2,
		MapSource{"Active": str("0"), "StatusHireDate": str("2021-07-05-07:00")}, str("False")},
	{"DateDiff in IIF no default", dateDiffExample2,
		MapSource{"Active": str("2"), "StatusHireDate": str("2021-07-05-07:00")}, Value{}},

	{"DateFromNum", `CStr(DateFromNum(129699324000000000))`, nil, str("1/1/2012 11:00:00 PM")},
	{"FormatDateTime", `FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`,
		MapSource{"extensionAttribute1": str("20150123105347.1Z")}, str("2015-01-23")},
	{"IgnoreFlowIfNullOrEmpty Switch match", `IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))`,
		MapSource{"prefix": str("3444")}, str("Prof.")},
	{"IIF true", `IIF([country]="USA",[country],[department])`,
		MapSource{"country": str("USA"), "department": str("Sales")}, str("USA")},
	{"IIF false", `IIF([country]="USA",[country],[department])`,
		MapSource{"country": str("NZ"), "department": str("Sales")}, str("Sales")},
	{"IIF nested for AND", `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`,
		MapSource{"country": str("USA"), "state": str("CA")}, str("True")},
	{"IIF nested for AND, one false", `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`,
		MapSource{"country": str("USA"), "state": str("WA")}, str("False")},
	{"IIF nested for OR", `IIF([country]="USA","True",IIF([state]="CA","True","False"))`,
		MapSource{"country": str("NZ"), "state": str("CA")}, str("True")},
	{"IIF nested for OR, both false", `IIF([country]="USA","True",IIF([state]="CA","True","False"))`,
		MapSource{"country": str("NZ"), "state": str("WA")}, str("False")},
	{"Switch workaround for empty country", `Switch([country],[country],"","Other")`, nil, str("Other")},
	{"Switch workaround, country present", `Switch([country],[country],"","Other")`,
		MapSource{"country": str("NZ")}, str("NZ")},
	{"InStr", `InStr("The quick brown fox","quick")`, nil, integer(5)},
	{"InStr binary compare from 3", `InStr("repEated","e",3,vbBinaryCompare)`, nil, integer(7)},
	{"IsNull absent", `IsNull([displayName])`, nil, boolean(true)},
	{"IsNull present", `IsNull([displayName])`, MapSource{"displayName": str("")}, boolean(false)},
	{"IsNullOrEmpty empty", `IsNullOrEmpty([displayName])`, MapSource{"displayName": str("")}, boolean(true)},
	{"IsNullOrEmpty absent", `IsNullOrEmpty([displayName])`, nil, boolean(true)},
	{"IsNullOrEmpty present", `IsNullOrEmpty([displayName])`, MapSource{"displayName": str("x")}, boolean(false)},
	{"Item first", `Item([proxyAddresses], 1)`, proxies, str("SMTP:john@contoso.com")},
	{"Left", `Left("John Doe", 3)`, nil, str("Joh")},
	{"NormalizeDiacritics", `NormalizeDiacritics([givenName])`, MapSource{"givenName": str("Zoë")}, str("Zoe")},
	{"Now", `CStr(Now())`, nil, str("7/2/2021 3:33:38 PM")},
	{"NumFromDate Workday", `NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))`,
		MapSource{"ContractEndDate": str("2020-12-31-08:00")}, integer(132539615990000000)},
	{"NumFromDate SuccessFactors", `NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))`,
		MapSource{"endDate": str("12/31/2020 11:59:59 PM")}, integer(132539615990000000)},
	{"PCase default separators", `PCase([firstName])`,
		MapSource{"firstName": str("PABLO GONSALVES (SECOND)")}, str("Pablo Gonsalves (Second)")},
	{"PCase given separators", `PCase([lastName]," '-")`,
		MapSource{"lastName": str("PINTO-DE'SILVA")}, str("Pinto-De'Silva")},
	{"PCase of Join", `PCase(Join(" ",[firstName],[lastName]))`,
		MapSource{"firstName": str("GREGORY"), "lastName": str("JAMES")}, str("Gregory James")},
	{"Redact", `Redact("StringToBeRedacted")`, nil, str("StringToBeRedacted").redact()},

	// Replace, examples 1 to 6.
	{"Replace oldValue", `Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )`,
		MapSource{"BusinessTitle": str("Product Developer")}, str("Software Engineer")},
	{"Replace template", `Replace([UserID],"<username>", , , , , "<username>@contoso.com")`,
		MapSource{"UserID": str("jsmith")}, str("jsmith@contoso.com")},
	{"Replace regex with group substitution", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )`,
		MapSource{"telephoneNumber": str("+91 9998887777")}, str("9998887777")},
	// The page gives 19998887777, but its pattern does not match "+";
	// .NET and Ferry both keep it.
	{"Replace regex collapsing", `Replace([mobile], , "[()\\s-]+", , "", , )`,
		MapSource{"mobile": str("+1 (999) 888-7777")}, str("+19998887777")},
	{"Replace regex group", `Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )`,
		MapSource{"AddressLineData": str("545 Tremont Street")}, str("888 Tremont Street")},
	{"Replace regex group to empty", `Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )`,
		MapSource{"userPrincipalName": str("jsmith@contoso.com")}, str("jsmith")},
	{"Replace from attribute when source empty", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
		MapSource{"telephoneNumber": str(""), "mobile": str("+91 8887779999")}, str("8887779999")},
	{"Replace from attribute when source set", `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
		MapSource{"telephoneNumber": str("+1 2223334444"), "mobile": str("+91 8887779999")}, str("+1 2223334444")},
	{"Replace regex removing letters", `Replace([mailNickname], , "[a-zA-Z_]*", , "", , )`,
		MapSource{"mailNickname": str("john_doe72")}, str("72")},

	{"Split", `Split([extensionAttribute5], ",")`,
		MapSource{"extensionAttribute5": str("PermissionSetOne, PermissionSetTwo")}, multi("PermissionSetOne", "PermissionSetTwo")},
	{"Switch documented example", `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`,
		MapSource{"state": str("QLD")}, str("Australia/Brisbane")},
	{"Switch documented example, default", `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`,
		MapSource{"state": str("WA")}, str("Australia/Sydney")},
	{"Switch with ToLower", `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`,
		MapSource{"statusFlag": str("TRUE")}, str("1")},
	{"Switch empty key for empty source", `Switch([statusFlag], "Default Value", "true", "1", "", "0")`,
		MapSource{"statusFlag": str("")}, str("0")},
	{"Switch empty key for null source", `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, nil, str("0")},
	{"ToLower UPN", `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))`,
		MapSource{"PreferredFirstName": str("John"), "PreferredLastName": str("Smith")}, str("john.smith@contoso.com")},
	{"Word", `Word("The quick brown fox",3," ")`, nil, str("brown")},
	{"Word several delimiters", `Word("This,string!has&many separators",3,",!&#")`, nil, str("has")},

	// The "Examples" section.
	{"Strip known domain name", `Replace([mail], "@contoso.com", , ,"", ,)`,
		MapSource{"mail": str("john.doe@contoso.com")}, str("john.doe")},
	{"Alias from first and last name", `Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))`,
		MapSource{"givenName": str("John"), "surname": str("Doe")}, str("JohDoe")},
	{"Comma between last and first name", `Join(", ", "", [surname], [givenName])`,
		MapSource{"givenName": str("John"), "surname": str("Doe")}, str("Doe, John")},
}

var (
	hire2012 = MapSource{"StatusHireDate": str("2012-03-16-07:00")}
	proxies  = MapSource{"proxyAddresses": multi("SMTP:john@contoso.com", "smtp:jd@contoso.com", "smtp:jd@contoso.com")}
)

const dateDiffExample2 = `Switch([Active], , 
  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), 
  "0", "False")`

func TestDocExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range docExamples {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mustEval(t, tc.expr, tc.attrs)
			assertValue(t, tc.expr, got, tc.want)
			if got.Redacted() != tc.want.Redacted() {
				t.Errorf("%s: Redacted() = %v, want %v", tc.expr, got.Redacted(), tc.want.Redacted())
			}
		})
	}
}

// TestFunctions covers what the documentation states in words, the edge
// cases it names, and Ferry's choices where it is silent.
func TestFunctions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		expr  string
		attrs MapSource
		want  Value
	}{
		{"Append null source", `Append([x], "@contoso.com")`, nil, Value{}},
		{"Append null suffix", `Append("a", [x])`, nil, str("a")},
		{"BitAnd decimal", `BitAnd(12, "10")`, nil, integer(8)},
		{"BitAnd null", `BitAnd([x], 1)`, nil, Value{}},
		{"CBool non-zero", `CBool(5)`, nil, boolean(true)},
		{"CBool zero", `CBool("0")`, nil, boolean(false)},
		{"CBool string", `CBool("TRUE")`, nil, boolean(true)},
		{"CBool null", `CBool([x])`, nil, boolean(false)},
		{"CDate null", `CDate([x])`, nil, Value{}},
		{"CDate kind", `CDate("2021-06-30T12:00:00Z")`, nil, TimeValue(time.Date(2021, 6, 30, 12, 0, 0, 0, time.UTC))},
		{"Coalesce default", `Coalesce([a], [b], "default")`, nil, str("default")},
		{"Coalesce all null", `Coalesce([a], [b])`, nil, Value{}},
		{"Coalesce empty string is a value", `Coalesce([a], "", "default")`, nil, str("")},
		{"Coalesce keeps multi", `Coalesce([proxyAddresses], "x")`, proxies, proxies["proxyAddresses"]},
		{"ConvertToBase64 non-ASCII", `ConvertToBase64("é€")`, nil, str("6QCsIA==")},
		{"ConvertToUTF8Hex non-ASCII", `ConvertToUTF8Hex("é")`, nil, str("C3A9")},
		{"Count multi", `Count([proxyAddresses])`, proxies, integer(3)},
		{"Count single", `Count([x])`, MapSource{"x": str("a")}, integer(1)},
		{"Count null", `Count([x])`, nil, integer(0)},
		{"CStr boolean", `CStr([active])`, MapSource{"active": boolean(true)}, str("True")},
		{"CStr integer", `CStr(42)`, nil, str("42")},
		{"CStr null", `CStr([x])`, nil, Value{}},
		{"DateAdd month end clamps", `CStr(DateAdd("m", 1, "2021-01-31T10:00:00Z"))`, nil, str("2/28/2021 10:00:00 AM")},
		{"DateAdd leap year clamps", `CStr(DateAdd("yyyy", 1, "2020-02-29"))`, nil, str("2/28/2021 12:00:00 AM")},
		{"DateAdd hours", `CStr(DateAdd("h", -25, "2021-03-01T00:00:00Z"))`, nil, str("2/27/2021 11:00:00 PM")},
		{"DateAdd minutes and seconds", `CStr(DateAdd("s", 90, DateAdd("n", 1, "2021-03-01T00:00:00Z")))`, nil, str("3/1/2021 12:02:30 AM")},
		{"DateAdd null date", `DateAdd("d", 1, [x])`, nil, Value{}},
		{"DateDiff year boundary", `DateDiff("yyyy", "2020-12-31T23:59:59Z", "2021-01-01T00:00:00Z")`, nil, integer(1)},
		{"DateDiff days truncate", `DateDiff("d", "2021-01-01T12:00:00Z", "2021-01-03T11:59:59Z")`, nil, integer(1)},
		{"DateDiff weeks count Sundays", `DateDiff("ww", "2021-08-21", "2021-08-22")`, nil, integer(1)},
		{"DateDiff null", `DateDiff("d", [x], Now())`, nil, Value{}},
		{"DateFromNum epoch", `DateFromNum(0)`, nil, TimeValue(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"NumFromDate round trip", `NumFromDate("2012-01-01T23:00:00Z")`, nil, integer(129699324000000000)},
		{"NumFromDate of DateFromNum", `NumFromDate(DateFromNum("129699324000000001"))`, nil, integer(129699324000000001)},
		{"FormatDateTime null", `FormatDateTime([x], , "yyyy", "yyyy")`, nil, Value{}},
		{"FormatDateTime of a DateTime", `FormatDateTime(CDate("2021-06-30+08:00"), , "yyyy", "yyyy-MM-ddTHH:mm:ssK")`, nil, str("2021-06-29T16:00:00Z")},
		{"IgnoreFlow keeps value", `IgnoreFlowIfNullOrEmpty([department])`, MapSource{"department": str("Sales")}, str("Sales")},
		{"IIF branches are lazy", `IIF("True", "ok", Mid("x", [zero], 1))`, MapSource{"zero": integer(0)}, str("ok")},
		{"IIF null compares as empty", `IIF([country]="","Other",[country])`, nil, str("Other")},
		{"IIF null ordering is false", `IIF([n] > 5, "big", "not big")`, nil, str("not big")},
		{"IIF integers compare as numbers", `IIF([n] > 5, "big", "small")`, MapSource{"n": str("10")}, str("big")},
		{"IIF strings compare case-sensitively", `IIF([c] = "usa", "same", "different")`, MapSource{"c": str("USA")}, str("different")},
		{"IIF boolean attribute", `IIF([active] = "True", "on", "off")`, MapSource{"active": boolean(true)}, str("on")},
		{"IIF not-equal", `IIF([c] <> "USA", "abroad", "home")`, MapSource{"c": str("USA")}, str("home")},
		{"IIF dates compare as instants", `IIF(CDate("2021-01-01T01:00:00+02:00") < "2021-01-01T00:00:00Z", "earlier", "later")`, nil, str("earlier")},
		{"IIF less or equal", `IIF(3 <= 3, "y", "n")`, nil, str("y")},
		{"IIF greater or equal", `IIF(2 >= 3, "y", "n")`, nil, str("n")},
		{"IIF less", `IIF("a" < "b", "y", "n")`, nil, str("y")},
		{"InStr text compare", `InStr("repEated","e",3,vbTextCompare)`, nil, integer(4)},
		{"InStr not found", `InStr("abc","z")`, nil, integer(0)},
		{"InStr start past end", `InStr("abc","a",9)`, nil, integer(0)},
		{"InStr counts characters", `InStr("Zoë Smith","Smith")`, nil, integer(5)},
		{"InStr null", `InStr([x],"a")`, nil, Value{}},
		{"IsPresent", `IsPresent([x])`, MapSource{"x": str("a")}, boolean(true)},
		{"IsPresent empty", `IsPresent([x])`, MapSource{"x": str("")}, boolean(false)},
		{"IsString string", `IsString("x")`, nil, boolean(true)},
		{"IsString boolean", `IsString([active])`, MapSource{"active": boolean(true)}, boolean(false)},
		{"IsString null", `IsString([x])`, nil, boolean(false)},
		{"Item last", `Item([proxyAddresses], 3)`, proxies, str("smtp:jd@contoso.com")},
		{"Item past the end", `Item([proxyAddresses], 4)`, proxies, Value{}},
		{"Item of a single value", `Item([x], 1)`, MapSource{"x": str("a")}, str("a")},
		{"Join multi-valued", `Join(";", [proxyAddresses], "x")`, proxies, str("SMTP:john@contoso.com;smtp:jd@contoso.com;smtp:jd@contoso.com;x")},
		{"Join all null", `Join(" ", [a], [b])`, nil, Value{}},
		{"Join skips null", `Join(" ", [a], "b")`, nil, str("b")},
		{"Left zero", `Left("John", 0)`, nil, str("")},
		{"Left negative", `Left("John", -1)`, nil, str("John")},
		{"Left null", `Left([x], 3)`, nil, str("")},
		{"Left too long", `Left("Jo", 3)`, nil, str("Jo")},
		{"Left characters", `Left("Zoë", 3)`, nil, str("Zoë")},
		{"Mid past the end", `Mid("John", 3, 10)`, nil, str("hn")},
		{"Mid start past the end", `Mid("John", 9, 1)`, nil, str("")},
		{"Mid null", `Mid([x], 1, 1)`, nil, Value{}},
		{"NormalizeDiacritics table", `NormalizeDiacritics("Æsa Łukasz Ørsted Straße Şahin Čapek Ȳ̀")`, nil, str("AEsa Lukasz OErsted Strasse Sahin Capek Y")},
		{"NormalizeDiacritics combining sequence", "NormalizeDiacritics(\"a\u0331b\u0101\u0301c\")", nil, str("abac")},
		{"NormalizeDiacritics keeps unlisted", `NormalizeDiacritics("œuvre")`, nil, str("œuvre")},
		{"Not false", `Not("False")`, nil, boolean(true)},
		{"Not true", `Not("True")`, nil, boolean(false)},
		{"Not boolean", `Not([active])`, MapSource{"active": boolean(true)}, boolean(false)},
		{"Not null", `Not([x])`, nil, boolean(true)},
		{"PCase default keeps apostrophe in word", `PCase("PINTO-DE'SILVA")`, nil, str("Pinto-De'silva")},
		{"PCase digits continue a word", `PCase("3RD floor")`, nil, str("3Rd Floor")},
		{"RemoveDuplicates", `RemoveDuplicates([proxyAddresses])`, proxies, multi("SMTP:john@contoso.com", "smtp:jd@contoso.com")},
		{"RemoveDuplicates is case-sensitive", `Count(RemoveDuplicates(Split("a,A,a", ",")))`, nil, integer(2)},
		{"Replace is case-sensitive", `Replace("aAa", "a", , , "b", , )`, nil, str("bAb")},
		{"Replace regex numbered group", `Replace("john.doe", , "(\\w+)\\.(\\w+)", , "$2, $1 $$", , )`, nil, str("doe, john $")},
		{"Replace regex whole match", `Replace("abc", , "b", , "[$&]", , )`, nil, str("a[b]c")},
		{"Replace null source", `Replace([x], "a", , , "b", , )`, nil, Value{}},
		{"Replace fewer trailing arguments", `Replace("a-b", "-", , , ".")`, nil, str("a.b")},
		{"Split single", `Split("a", ",")`, nil, multi("a")},
		{"Split null", `Split([x], ",")`, nil, Value{}},
		{"StripSpaces", "StripSpaces(\" a b\tc \")", nil, str("ab\tc")},
		{"Switch null source with default", `Switch([x], "dflt", "a", "A")`, nil, str("dflt")},
		{"Switch missing default is null", `Switch([x], , "a", "A")`, MapSource{"x": str("b")}, Value{}},
		{"Switch case-sensitive", `Switch([x], "no", "a", "A")`, MapSource{"x": str("A")}, str("no")},
		{"Switch boolean source", `Switch([active], "?", "True", "enabled", "False", "disabled")`, MapSource{"active": boolean(false)}, str("disabled")},
		{"ToLower invariant", `ToLower("İSTANBUL")`, nil, str("istanbul")},
		{"ToUpper keeps the length", `ToUpper("straße")`, nil, str("STRAßE")},
		{"ToUpper Turkish", `ToUpper("istanbul", "tr-TR")`, nil, str("İSTANBUL")},
		{"ToLower Turkish", `ToLower("ISPARTA", "tr-TR")`, nil, str("ısparta")},
		{"ToLower null", `ToLower([x])`, nil, Value{}},
		{"Word out of range", `Word("a b", 3, " ")`, nil, str("")},
		{"Word zero", `Word("a b", 0, " ")`, nil, str("")},
		{"Word null", `Word([x], 1, " ")`, nil, str("")},
		{"Word skips empty runs", `Word("a,,b", 2, ",")`, nil, str("b")},
		{"single-valued multi accepted", `ToUpper([x])`, MapSource{"x": multi("a")}, str("A")},
		{"bare attribute", `[userName]`, MapSource{"userName": str("bjensen")}, str("bjensen")},
		{"bare constant", `"x"`, nil, str("x")},
		{"bare number", `-12`, nil, integer(-12)},
		{"top-level comparison", `[a] = [b]`, MapSource{"a": str("1"), "b": integer(1)}, boolean(true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertValue(t, tc.expr, mustEval(t, tc.expr, tc.attrs), tc.want)
		})
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		expr  string
		attrs MapSource
		want  string // substring of the error
	}{
		{"Mid start zero at run time", `Mid("abc", [n], 1)`, MapSource{"n": integer(0)}, "Mid: argument 2 (start) is 1-based and must be at least 1, got 0"},
		{"not a number", `Left("abc", [n])`, MapSource{"n": str("three")}, `Left: argument 2 (NumChars) must be a whole number, got "three"`},
		{"not a date", `CDate([d])`, MapSource{"d": str("yesterday")}, `CDate: argument 1 (expression) must be a date and time`},
		{"several values", `ToLower([x])`, MapSource{"x": multi("a", "b")}, "ToLower: argument 1 (source) has 2 values where one is expected"},
		{"interval at run time", `DateAdd([i], 1, Now())`, MapSource{"i": str("q")}, "must be one of yyyy, m, d, ww, h, n, s"},
		{"format at run time", `FormatDateTime("2021", , "yyyy", [f])`, MapSource{"f": str("YYYY")}, `"Y" at position 0 of the format is not a date and time specifier (years are y)`},
		{"input does not match", `FormatDateTime("2021-13-01", , "yyyy-MM-dd", "yyyy")`, nil, "the month 13 is not between 1 and 12"},
		{"condition not boolean", `IIF([c], "a", "b")`, MapSource{"c": str("maybe")}, `IIF: argument 1 (condition) must be True or False, got "maybe"`},
		{"regex at run time", `Replace("a", , [p], , "b", , )`, MapSource{"p": str("(")}, "Replace: argument 3 (regexPattern): the regular expression does not compile"},
		{"unknown group", `Replace("a", , "(?<x>a)", "y", "b", , )`, nil, `no group named "y"`},
		{"Item zero at run time", `Item([x], [n])`, MapSource{"x": str("a"), "n": integer(0)}, "is 1-based"},
		{"unknown function", `Foo()`, nil, `unknown function "Foo"`},
		{"comparison of several values", `IIF([x] = "a", 1, 2)`, MapSource{"x": multi("a", "b")}, "a side has 2 values"},
		{"redacted values are hidden", `CDate(Redact([secret]))`, MapSource{"secret": str("hunter2")}, "got [Redact]"},
		{"values inside Redact are hidden", `Redact(CDate([secret]))`, MapSource{"secret": str("hunter2")}, "got [Redact]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Eval(tc.attrs, testEnv())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Eval(%s) error = %v, want it to contain %q", tc.expr, err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("Eval(%s) error %q shows a redacted value", tc.expr, err)
			}
		})
	}
}

func TestIgnoreFlowIfNullOrEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expr    string
		attrs   MapSource
		ignored bool
	}{
		{"null", `IgnoreFlowIfNullOrEmpty([department])`, nil, true},
		{"empty", `IgnoreFlowIfNullOrEmpty([department])`, MapSource{"department": str("")}, true},
		{"present", `IgnoreFlowIfNullOrEmpty([department])`, MapSource{"department": str("Sales")}, false},
		{"Switch without a match gives empty", `IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr."))`, MapSource{"prefix": str("1")}, true},
		{"nested inside another function", `Join(",", IgnoreFlowIfNullOrEmpty([a]), "b")`, nil, true},
		{"in the branch not taken", `IIF("True", "x", IgnoreFlowIfNullOrEmpty([a]))`, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := mustEval(t, tc.expr, tc.attrs)
			if v.Ignored() != tc.ignored {
				t.Fatalf("%s: Ignored() = %v, want %v (value %s)", tc.expr, v.Ignored(), tc.ignored, v)
			}
			if tc.ignored && !v.IsNull() {
				t.Fatalf("%s: an ignored value is %s, want null", tc.expr, v)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	attrs := MapSource{"userPrincipalName": str("jsmith@contoso.com")}
	for _, src := range []string{
		`Redact([userPrincipalName])`,
		`Join("-", Redact([userPrincipalName]), "x")`,
		`IIF(Redact([userPrincipalName]) = "", "a", "b")`,
	} {
		v := mustEval(t, src, attrs)
		if !v.Redacted() {
			t.Errorf("%s: Redacted() = false", src)
		}
		if v.String() != "[Redact]" || v.LogValue().String() != "[Redact]" {
			t.Errorf("%s: String() = %q, LogValue() = %q, want [Redact]", src, v.String(), v.LogValue())
		}
	}
	// The value still flows to the target.
	if got := mustEval(t, `Redact([userPrincipalName])`, attrs).Text(); got != "jsmith@contoso.com" {
		t.Errorf("Text() = %q, want the value itself", got)
	}
	if v := mustEval(t, `[userPrincipalName]`, attrs); v.Redacted() {
		t.Error("a plain attribute is Redacted")
	}
}

func TestRandom(t *testing.T) {
	t.Parallel()
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	g1 := mustEval(t, `Guid()`, nil).Text()
	if !guid.MatchString(g1) {
		t.Errorf("Guid() = %q, not a version 4 GUID", g1)
	}
	if g2 := mustEval(t, `Guid()`, nil).Text(); g2 != g1 {
		t.Errorf("Guid() with the same seed gave %q then %q", g1, g2)
	}

	count := func(s, set string) int {
		n := 0
		for _, r := range s {
			if strings.ContainsRune(set, r) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		expr                                  string
		length, digits, special, upper, lower int
		avoid                                 string
	}{
		{`RandomString(6,3,0,0,3)`, 6, 3, 0, 0, 3, ""},
		{`RandomString(10,2,2,2,1,"?,")`, 10, 2, 2, 2, 1, "?,"},
		{`RandomString(256,0,0,0,0)`, 256, 0, 0, 0, 0, ""},
		{`RandomString(4,0,0,4,0,"ABCDEFGHIJKLMNOPQRSTUVWXY")`, 4, 0, 0, 4, 0, "ABCDEFGHIJKLMNOPQRSTUVWXY"},
	}
	for _, tc := range tests {
		s := mustEval(t, tc.expr, nil).Text()
		switch {
		case len(s) != tc.length:
			t.Errorf("%s = %q, length %d, want %d", tc.expr, s, len(s), tc.length)
		case count(s, randomDigits) < tc.digits, count(s, randomSpecial) < tc.special,
			count(s, randomUpper) < tc.upper, count(s, randomLower) < tc.lower:
			t.Errorf("%s = %q misses a minimum", tc.expr, s)
		case tc.avoid != "" && strings.ContainsAny(s, tc.avoid):
			t.Errorf("%s = %q has a character it should avoid", tc.expr, s)
		}
	}
}

// TestSwitchHasNoNullBug reproduces the scenario of Entra's documented
// Switch bug: a mapping on companyName and another on displayName, and an
// update that changes only displayName. Entra's Switch then evaluates to
// null and clears the target; Ferry's gives the same value as before, and
// the same value as the IIF workaround Entra recommends.
func TestSwitchHasNoNullBug(t *testing.T) {
	t.Parallel()
	rt := userType(t)
	sw, err := Compile(`Switch([urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization], "External", "Company A", "A", "Company B", "B")`, SchemaChecker(rt))
	if err != nil {
		t.Fatal(err)
	}
	iif, err := Compile(`IIF([organization] = "Company A", "A", IIF([organization] = "Company B", "B", "External"))`, SchemaChecker(rt))
	if err != nil {
		t.Fatal(err)
	}
	before := testUser(t)
	after := before.Clone()
	after["displayName"] = "Barbara Jensen"
	for _, doc := range []resource.Document{before, after} {
		src := DocumentSource{Doc: doc, Type: rt}
		for _, e := range []*Expression{sw, iif} {
			v, err := e.Eval(src, testEnv())
			if err != nil {
				t.Fatal(err)
			}
			assertValue(t, e.String(), v, str("A"))
		}
	}
}

// TestValueSizeBound makes sure nested calls cannot grow a value without
// limit: each Replace multiplies the length by 16 here.
func TestValueSizeBound(t *testing.T) {
	t.Parallel()
	grow := func(levels int) string {
		src := `"a"`
		for range levels {
			src = `Replace(` + src + `, "a", , , "aaaaaaaaaaaaaaaa", , )`
		}
		return src
	}
	atLimit := grow(5) // 16^5 bytes: MaxValueSize exactly
	if v := mustEval(t, atLimit, nil); len(v.Text()) != MaxValueSize {
		t.Fatalf("%d levels give %d bytes", 5, len(v.Text()))
	}
	for _, s := range []string{
		grow(8),
		`Replace("` + strings.Repeat("a", 1024) + `", , "a", , "` + strings.Repeat("b", 1025) + `", , )`,
		`Replace("` + strings.Repeat("a", 1024) + `", , "(?<x>a)", "x", "` + strings.Repeat("b", 1025) + `", , )`,
		`Join("", ` + strings.Repeat(`Replace(Replace(Replace(Replace(Replace("a", "a", , , "aaaaaaaaaa", , ), "a", , , "aaaaaaaaaa", , ), "a", , , "aaaaaaaaaa", , ), "a", , , "aaaaaaaaaa", , ), "a", , , "aaaaaaaaaa", , ), `, 11) + `"")`,
	} {
		e, err := Compile(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Eval(nil, testEnv()); err == nil || !strings.Contains(err.Error(), "longer than 1048576 bytes") {
			t.Errorf("Eval of an exploding expression: %v", err)
		}
	}
}
