package filter

import "testing"

const benchValuePathFilter = `emails[type eq "work" and value co "@example.com"] or (name.familyName sw "J" and not (active eq false))`

func BenchmarkParseSimple(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`userName eq "x"`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseValuePath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchValuePathFilter); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	e, err := Parse(benchValuePathFilter)
	if err != nil {
		b.Fatal(err)
	}
	rt := testUserType()
	doc := decode(b, testUserJSON)
	// The work e-mail is at example.com, so the first operand decides;
	// moving it elsewhere makes the benchmark walk the whole filter.
	doc["Emails"].([]any)[0].(map[string]any)["value"] = "bjensen@example.org"
	if Match(e, doc, rt) {
		b.Fatal("the filter matched; the benchmark is meant to evaluate every operand")
	}
	b.ReportAllocs()
	for b.Loop() {
		Match(e, doc, rt)
	}
}
