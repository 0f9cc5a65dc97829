package resource

import (
	"reflect"
	"slices"
	"strings"
)

// ChangedAttributes names the attributes that differ between two states of
// a resource: top-level attribute names as the documents spell them, and an
// extension's attributes as URN:name (RFC 7643 §3.3), so that a change of
// the enterprise department reads
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
// The names are sorted; nil states count as empty.
func ChangedAttributes(before, after Document) []string {
	var out []string
	seen := map[string]bool{}
	visit := func(k string) {
		lk := strings.ToLower(k)
		if seen[lk] {
			return
		}
		seen[lk] = true
		b, a := lookupValue(before, k), lookupValue(after, k)
		if len(k) > 4 && strings.EqualFold(k[:4], "urn:") {
			bm, _ := b.(map[string]any)
			am, _ := a.(map[string]any)
			if bm != nil || am != nil {
				for _, sub := range ChangedAttributes(bm, am) {
					out = append(out, k+":"+sub)
				}
				return
			}
		}
		if !reflect.DeepEqual(b, a) {
			out = append(out, k)
		}
	}
	for k := range after {
		visit(k)
	}
	for k := range before {
		visit(k)
	}
	slices.SortFunc(out, func(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) })
	return out
}

// lookup finds a key ignoring case, as SCIM attribute names are
// (RFC 7643 §2.1).
func lookupValue(d map[string]any, k string) any {
	if v, ok := d[k]; ok {
		return v
	}
	_, v, _ := Lookup(d, k)
	return v
}
