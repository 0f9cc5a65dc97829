package provision

import (
	"strings"
	"testing"
)

// TestTemplateDescription checks that every template describes itself
// for the console's gallery, and that a name outside the templates has
// no description.
func TestTemplateDescription(t *testing.T) {
	t.Parallel()
	for _, name := range Templates() {
		if d := TemplateDescription(name); len(strings.TrimSpace(d)) < 20 {
			t.Errorf("template %s: description %q", name, d)
		}
	}
	for _, name := range []string{"", "nope", "../templates/scim", "scim.json"} {
		if d := TemplateDescription(name); d != "" {
			t.Errorf("TemplateDescription(%q) = %q, want none", name, d)
		}
	}
}
