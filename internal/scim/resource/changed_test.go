package resource

import (
	"slices"
	"testing"
)

func TestChangedAttributes(t *testing.T) {
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	before := Document{
		"userName": "ann", "active": true, "title": "CEO",
		"name":   map[string]any{"givenName": "Ann"},
		"emails": []any{map[string]any{"value": "ann@example.com", "type": "work"}},
		ent:      map[string]any{"department": "Board", "costCenter": "1"},
	}
	for _, tc := range []struct {
		name  string
		after Document
		want  []string
	}{
		{"nothing", before, nil},
		{"a simple attribute and the case of a key", Document{
			"UserName": "ann", "active": false, "title": "CEO",
			"name":   map[string]any{"givenName": "Ann"},
			"emails": []any{map[string]any{"value": "ann@example.com", "type": "work"}},
			ent:      map[string]any{"department": "Board", "costCenter": "1"},
		}, []string{"active"}},
		{"a complex one, an extension's, a removal", Document{
			"userName": "ann", "active": true,
			"name":   map[string]any{"givenName": "Anne"},
			"emails": []any{map[string]any{"value": "ann@example.com", "type": "work"}},
			ent:      map[string]any{"department": "Sales", "costCenter": "1"},
		}, []string{"name", "title", ent + ":department"}},
		{"an extension removed whole", Document{
			"userName": "ann", "active": true, "title": "CEO",
			"name":   map[string]any{"givenName": "Ann"},
			"emails": []any{map[string]any{"value": "ann@example.com", "type": "work"}},
		}, []string{ent + ":costCenter", ent + ":department"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChangedAttributes(before, tc.after); !slices.Equal(got, tc.want) {
				t.Errorf("ChangedAttributes = %q, want %q", got, tc.want)
			}
		})
	}
	if got := ChangedAttributes(nil, Document{"userName": "x"}); !slices.Equal(got, []string{"userName"}) {
		t.Errorf("from nothing = %q", got)
	}
}
