package sqlfilter

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// TestFoldKeyMatchesEqualFold checks, over every pair of runes that fold
// to the same Fold or share a case-folding orbit, that FoldKey equality is
// exactly strings.EqualFold, and that Fold agrees with filter.Match's
// folding (the lower case of the upper case).
func TestFoldKeyMatchesEqualFold(t *testing.T) {
	t.Parallel()
	byFold := map[string][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		byFold[Fold(s)] = append(byFold[Fold(s)], r)
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if (FoldKey(s) == FoldKey(string(o))) != strings.EqualFold(s, string(o)) {
				t.Errorf("%U and %U: FoldKey equal %v, EqualFold %v", r, o, FoldKey(s) == FoldKey(string(o)), strings.EqualFold(s, string(o)))
			}
		}
		if want := string(unicode.ToLower(unicode.ToUpper(r))); r >= utf8.RuneSelf && Fold(s) != want {
			t.Errorf("Fold(%U) = %q, want %q", r, Fold(s), want)
		}
	}
	for _, rs := range byFold {
		for _, a := range rs {
			for _, b := range rs {
				if (FoldKey(string(a)) == FoldKey(string(b))) != strings.EqualFold(string(a), string(b)) {
					t.Errorf("%U and %U: FoldKey equal %v, EqualFold %v", a, b, FoldKey(string(a)) == FoldKey(string(b)), strings.EqualFold(string(a), string(b)))
				}
			}
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, fold, key string }{
		{"plain", "plain", "plain"},
		{"MiXeD", "mixed", "mixed"},
		{"\u212Aelvin", "kelvin", "kelvin"},
		{"İstanbul", "istanbul", "İstanbul"},
		{"IRMAK ırmak", "irmak irmak", "irmak ırmak"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ", "σίσυφοσ"},
		{"Straße", "straße", "straße"},
	}
	for _, tc := range tests {
		if got := Fold(tc.in); got != tc.fold {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.fold)
		}
		if got := FoldKey(tc.in); got != tc.key {
			t.Errorf("FoldKey(%q) = %q, want %q", tc.in, got, tc.key)
		}
	}
}

// TestNumberKeyOrder checks that comparing keys compares the numbers, by
// sorting random numbers in many spellings both ways.
func TestNumberKeyOrder(t *testing.T) {
	t.Parallel()
	fixed := []string{"0", "-0", "0.0", "0e5", "1", "1.0", "10e-1", "0.1e1", "2", "-1", "-1.5", "-1.25", "-10",
		"100", "1e2", "99.999", "1e308", "-1e308", "1e-300", "-1e-300", "123456789012345678901234567890",
		"123456789012345678901234567891", "0.30000000000000001", "0.3", "-0.30000000000000001", "5e-324", "1E+3", "7e999999999999"}
	rng := rand.New(rand.NewPCG(1, 2))
	nums := append([]string(nil), fixed...)
	for range 2000 {
		mant := strconv.FormatInt(rng.Int64N(2_000_000)-1_000_000, 10)
		switch rng.IntN(3) {
		case 0:
			nums = append(nums, mant)
		case 1:
			nums = append(nums, mant+"."+strconv.Itoa(rng.IntN(1000)))
		default:
			nums = append(nums, mant+"e"+strconv.Itoa(rng.IntN(40)-20))
		}
	}
	val := func(s string) *big.Rat {
		// big.Rat parses decimal and exponent notation exactly.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			if strings.HasSuffix(s, "e999999999999") {
				r, _ = new(big.Rat).SetString("1e400")
				return r.Mul(r, r)
			}
			t.Fatalf("big.Rat cannot parse %q", s)
		}
		return r
	}
	keys := map[string]string{}
	for _, n := range nums {
		k, ok := NumberKey(n)
		if !ok {
			t.Fatalf("NumberKey(%q) failed", n)
		}
		keys[n] = k
	}
	byKey := append([]string(nil), nums...)
	sort.SliceStable(byKey, func(i, j int) bool { return keys[byKey[i]] < keys[byKey[j]] })
	for i := 1; i < len(byKey); i++ {
		a, b := byKey[i-1], byKey[i]
		c := val(a).Cmp(val(b))
		if c > 0 || (c == 0) != (keys[a] == keys[b]) {
			t.Errorf("%s (key %q) sorts before %s (key %q), but compare = %d", a, keys[a], b, keys[b], c)
		}
	}
	for _, bad := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "0x10", "NaN", "Inf", "1_000", " 1"} {
		if k, ok := NumberKey(bad); ok {
			t.Errorf("NumberKey(%q) = %q, want failure", bad, k)
		}
	}
	if k, ok := numberText(json.Number("2.50")); !ok || k != "2.50" {
		t.Errorf("numberText(json.Number) = %q, %v", k, ok)
	}
}

func TestTimeKey(t *testing.T) {
	t.Parallel()
	parse := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// In time order, including the years an offset pushes out of
	// 0000-9999.
	ordered := []string{
		"0000-01-01T00:00:00+01:00",
		"0000-01-01T00:00:00Z",
		"2011-05-13T04:42:34Z",
		"2011-05-13T06:42:34.000000001+02:00",
		"2011-05-13T04:42:34.5Z",
		"9999-12-31T23:59:59Z",
		"9999-12-31T23:00:00-02:00",
	}
	for i := 1; i < len(ordered); i++ {
		a, b := TimeKey(parse(ordered[i-1])), TimeKey(parse(ordered[i]))
		if a >= b {
			t.Errorf("TimeKey(%s) = %q is not below TimeKey(%s) = %q", ordered[i-1], a, ordered[i], b)
		}
	}
	if got := TimeKey(parse("2011-05-13T06:42:34+02:00")); got != "2011-05-13T04:42:34.000000000Z" {
		t.Errorf("TimeKey = %q", got)
	}
}

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p, want string
		ok      bool
	}{
		{"abc", "abd", true},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
		{"é", "ê", true},
		{"a\u007f", "a\u0080", true},
		{"a\uD7FF", "a\uE000", true},
		{"x\U0010FFFF", "y", true},
		{"\U0010FFFF", "", false},
	} {
		got, ok := prefixEnd(tc.p)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.p, got, ok, tc.want, tc.ok)
		}
		if utf8.ValidString(tc.p) && !utf8.ValidString(got) {
			t.Errorf("prefixEnd(%q) = %q is not UTF-8", tc.p, got)
		}
		// Every string starting with p sorts below the bound.
		for _, tail := range []string{"", "\x00", "z", "\U0010FFFF", "\xf4\x8f\xbf\xbf"} {
			if tc.ok && !(tc.p+tail < got) {
				t.Errorf("%q sorts above prefixEnd(%q) = %q", tc.p+tail, tc.p, got)
			}
		}
	}
}
