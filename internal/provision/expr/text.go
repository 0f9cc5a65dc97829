package expr

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
)

// diacriticsReplacer returns a replacer for Entra's NormalizeDiacritics
// table, which is fixed: characters it does not list, such as œ without a
// macron, are left alone. The table lists some letters with combining marks
// (ā followed by U+0301); longer sequences are tried first, so that such a
// letter loses its marks as a whole.
func diacriticsReplacer() *strings.Replacer {
	table := []struct {
		to   string
		from []string
	}{
		{"a", []string{"\u00e4", "\u00e0", "\u00e2", "\u00e3", "\u00e5", "\u00e1", "\u0105", "\u0103", "\u0101", "\u0101\u0301", "\u0101\u0300", "\u0101\u0302", "\u0101\u0303", "\u01df", "\u0101\u0308", "\u01e1", "a\u0331", "\u00e5\u0304"}},
		{"A", []string{"\u00c4", "\u00c0", "\u00c2", "\u00c3", "\u00c5", "\u00c1", "\u0104", "\u0102", "\u0100", "\u0100\u0301", "\u0100\u0300", "\u0100\u0302", "\u0100\u0303", "\u01de", "\u0100\u0308", "\u01e0", "A\u0331", "\u00c5\u0304"}},
		{"ae", []string{"\u00e6", "\u01e3"}},
		{"AE", []string{"\u00c6", "\u01e2"}},
		{"c", []string{"\u00e7", "\u010d", "\u0107", "c\u0304", "c\u0331"}},
		{"C", []string{"\u00c7", "\u010c", "\u0106", "C\u0304", "C\u0331"}},
		{"d", []string{"\u010f", "d\u0304", "\u1e0f"}},
		{"D", []string{"\u010e", "D\u0304", "\u1e0e"}},
		{"e", []string{"\u00eb", "\u00e8", "\u00e9", "\u00ea", "\u0119", "\u011b", "\u0117", "\u0113", "\u1e17", "\u1e15", "\u0113\u0302", "\u0113\u0303", "\u00ea\u0304", "e\u0331", "\u00eb\u0304", "e\u030a\u0304"}},
		{"E", []string{"\u00cb", "\u00c8", "\u00c9", "\u00ca", "\u0118", "\u011a", "\u0116", "\u0112", "\u1e16", "\u1e14", "\u0112\u0302", "\u0112\u0303", "\u00ca\u0304", "E\u0331", "\u00cb\u0304", "E\u030a\u0304"}},
		{"g", []string{"\u011f", "\u1e21", "g\u0331"}},
		{"G", []string{"\u011e", "\u1e20", "G\u0331"}},
		{"i", []string{"\u00ef", "\u00ee", "\u00ec", "\u00ed", "\u0131", "\u012b", "\u012b\u0301", "\u012b\u0300", "\u012b\u0302", "\u012b\u0303", "i\u0331"}},
		{"I", []string{"\u00cf", "\u00ce", "\u00cc", "\u00cd", "\u0130", "\u012a", "\u012a\u0301", "\u012a\u0300", "\u012a\u0302", "\u012a\u0303", "I\u0331"}},
		{"l", []string{"\u013e", "\u0142", "l\u0304", "\u1e39", "\u1e3b"}},
		{"L", []string{"\u0141", "\u013d", "L\u0304", "\u1e38", "\u1e3a"}},
		{"n", []string{"\u00f1", "\u0144", "\u0148", "n\u0304", "\u1e49"}},
		{"N", []string{"\u00d1", "\u0143", "\u0147", "N\u0304", "\u1e48"}},
		{"o", []string{"\u00f6", "\u00f2", "\u0151", "\u00f5", "\u00f4", "\u00f3", "\u014d", "\u1e53", "\u1e51", "\u014d\u0302", "\u014d\u0303", "\u022b", "\u014d\u0308", "\u01ed", "\u022d", "\u0231", "o\u0331"}},
		{"O", []string{"\u00d6", "\u00d2", "\u0150", "\u00d5", "\u00d4", "\u00d3", "\u014c", "\u1e52", "\u1e50", "\u014c\u0302", "\u014c\u0303", "\u022a", "\u014c\u0308", "\u01ec", "\u022c", "\u0230", "O\u0331"}},
		{"oe", []string{"\u00f8", "\u00f8\u0304", "\u0153\u0304"}},
		{"OE", []string{"\u00d8", "\u00d8\u0304", "\u0152\u0304"}},
		{"r", []string{"\u0159", "r\u0304", "\u1e5f", "\u1e5d"}},
		{"R", []string{"\u0158", "R\u0304", "\u1e5e", "\u1e5c"}},
		{"ss", []string{"\u00df"}},
		{"s", []string{"\u0161", "\u015b", "\u0219", "\u015f", "s\u0304", "s\u0331"}},
		{"S", []string{"\u0160", "\u015a", "\u0218", "\u015e", "S\u0304", "S\u0331"}},
		{"t", []string{"\u0165", "\u021b", "t\u0304", "\u1e6f"}},
		{"T", []string{"\u0164", "\u021a", "T\u0304", "\u1e6e"}},
		{"u", []string{"\u00fc", "\u00f9", "\u00fb", "\u00fa", "\u016f", "\u0171", "\u016b", "\u016b\u0301", "\u016b\u0300", "\u016b\u0302", "\u016b\u0303", "u\u0307\u0304", "\u01d6", "\u1e7b", "\u1e73\u0304", "u\u0331"}},
		{"U", []string{"\u00dc", "\u00d9", "\u00db", "\u00da", "\u016e", "\u0170", "\u016a", "\u016a\u0301", "\u016a\u0300", "\u016a\u0302", "\u016a\u0303", "U\u0307\u0304", "\u01d5", "\u1e7a", "\u1e72\u0304", "U\u0331"}},
		{"y", []string{"\u00ff", "\u00fd", "\u0233", "\u0233\u0301", "\u0233\u0300", "\u0233\u0303", "y\u0331"}},
		{"Y", []string{"\u0178", "\u00dd", "\u0232", "\u0232\u0301", "\u0232\u0300", "\u0232\u0303", "Y\u0331"}},
		{"z", []string{"\u017a", "\u017e", "\u017c", "z\u0304", "\u1e95"}},
		{"Z", []string{"\u0179", "\u017d", "\u017b", "Z\u0304", "\u1e94"}},
	}
	type pair struct{ from, to string }
	var pairs []pair
	for _, row := range table {
		for _, from := range row.from {
			pairs = append(pairs, pair{from, row.to})
		}
	}
	// strings.Replacer prefers earlier pairs at the same position.
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(len(b.from), len(a.from)) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.from, p.to)
	}
	return strings.NewReplacer(args...)
}

// titleCase is PCase without word separators: .NET's TextInfo.ToTitleCase
// of the lower-cased string. A word starts at a letter that follows a
// separator (white space, punctuation, symbols, control characters);
// digits and marks continue a word, and an apostrophe inside a word does
// not end it ("O'NEIL" gives "O'neil").
func titleCase(s string) string {
	var b strings.Builder
	inWord := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			if inWord {
				r = unicode.ToLower(r)
			} else {
				r = unicode.ToTitle(r)
				inWord = true
			}
		case r == '\'' && inWord:
		case isWordSeparator(r):
			inWord = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isWordSeparator reports whether .NET's ToTitleCase treats r as separating
// words: the Unicode categories Entra's PCase documentation lists.
func isWordSeparator(r rune) bool {
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Cc, unicode.Cf,
		unicode.Pc, unicode.Pd, unicode.Ps, unicode.Pe, unicode.Pi, unicode.Pf, unicode.Po,
		unicode.Sm, unicode.Sc, unicode.Sk, unicode.So)
}

// properCase is PCase with word separators: the first character of each
// run of non-separators is upper-cased, the others lower-cased.
func properCase(s, separators string) string {
	var b strings.Builder
	inWord := false
	for _, r := range s {
		switch {
		case strings.ContainsRune(separators, r):
			inWord = false
		case inWord:
			r = unicode.ToLower(r)
		default:
			r = unicode.ToTitle(r)
			inWord = true
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The character classes of RandomString: those of Windows' password
// complexity requirements, which Entra's documentation points to.
const (
	randomDigits  = "0123456789"
	randomSpecial = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
	randomUpper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	randomLower   = "abcdefghijklmnopqrstuvwxyz"
)

// randomPools returns the four classes without the characters to avoid, in
// the order of RandomString's minimums: numbers, special, capital, lower.
func randomPools(avoid string) [4]string {
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(avoid, r) {
				return -1
			}
			return r
		}, set)
	}
	return [4]string{keep(randomDigits), keep(randomSpecial), keep(randomUpper), keep(randomLower)}
}

// randomStringProblem says what is wrong with RandomString's arguments
// (Length, then the four minimums), or "".
func randomStringProblem(n [5]int64, avoid string) string {
	names := [5]string{"Length", "MinimumNumbers", "MinimumSpecialCharacters", "MinimumCapital", "MinimumLowerCase"}
	length := n[0]
	if length < 1 || length > 256 {
		return fmt.Sprintf("Length must be between 1 and 256, not %d", length)
	}
	sum := int64(0)
	for i := 1; i < 5; i++ {
		if n[i] < 0 {
			return fmt.Sprintf("%s must not be negative, not %d", names[i], n[i])
		}
		if n[i] > length {
			return fmt.Sprintf("%s is %d, more than Length %d", names[i], n[i], length)
		}
		sum += n[i]
	}
	if sum > length {
		return fmt.Sprintf("the minimums add up to %d, more than Length %d", sum, length)
	}
	pools := randomPools(avoid)
	for i, p := range pools {
		if p == "" && n[i+1] > 0 {
			return fmt.Sprintf("CharactersToAvoid leaves no characters for %s", names[i+1])
		}
	}
	if strings.Join(pools[:], "") == "" {
		return "CharactersToAvoid leaves no characters to choose from"
	}
	return ""
}

// randomString generates RandomString's result: the required minimum from
// each class, the rest from all classes, shuffled. The arguments must have
// passed randomStringProblem.
func randomString(r io.Reader, n [5]int64, avoid string) (string, error) {
	pools := randomPools(avoid)
	all := strings.Join(pools[:], "")
	out := make([]byte, 0, n[0])
	pick := func(set string) error {
		i, err := randomInt(r, len(set))
		if err == nil {
			out = append(out, set[i])
		}
		return err
	}
	for i, p := range pools {
		for j := int64(0); j < n[i+1]; j++ {
			if err := pick(p); err != nil {
				return "", err
			}
		}
	}
	for int64(len(out)) < n[0] {
		if err := pick(all); err != nil {
			return "", err
		}
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := randomInt(r, i+1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// randomInt returns a uniformly distributed integer in [0, n), n ≤ 65536,
// reading two bytes at a time and rejecting the values that would bias it.
func randomInt(r io.Reader, n int) (int, error) {
	limit := 65536 - 65536%n
	var b [2]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("reading randomness: %w", err)
		}
		if v := int(b[0])<<8 | int(b[1]); v < limit {
			return v % n, nil
		}
	}
}
