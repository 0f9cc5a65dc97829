// Package events is the directory's changes as events for the applications
// that consume the directory (user.created, user.deactivated,
// group.member_added, ...). It starts with what an event needs from two
// states of a resource: the names of the attributes that changed.
package events

import (
	"reflect"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
)

// ChangedAttributes names the attributes that differ between two states of
// a resource: top-level attribute names as the documents spell them, and an
// extension's attributes as URN:name (RFC 7643 §3.3), so that a change of
// the enterprise department reads
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
// The names are sorted; nil states count as empty.
func ChangedAttributes(before, after resource.Document) []string {
	var out []string
	seen := map[string]bool{}
	visit := func(k string) {
		lk := strings.ToLower(k)
		if seen[lk] {
			return
		}
		seen[lk] = true
		b, a := lookup(before, k), lookup(after, k)
		if isURN(k) {
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
func lookup(d map[string]any, k string) any {
	if v, ok := d[k]; ok {
		return v
	}
	_, v, _ := resource.Lookup(d, k)
	return v
}

func isURN(s string) bool { return len(s) > 4 && strings.EqualFold(s[:4], "urn:") }
