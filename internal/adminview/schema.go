package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// TargetSchema writes the attributes an application's mappings may set, a
// line each, after where they come from.
func TargetSchema(w io.Writer, v *provision.TargetSchemaView) error {
	if v.Message != "" {
		fmt.Fprintf(w, "%s: %s\n", v.App, v.Message)
	}
	if v.Discovered && v.DiscoveredAt != nil {
		fmt.Fprintf(w, "Attributes of %s's target, as it declared them at /Schemas on %s (ferry apps schema %s --refresh reads them again):\n",
			v.App, formatTime(*v.DiscoveredAt), v.App)
	} else {
		fmt.Fprintf(w, "%s's target declares no schema of its own; these are RFC 7643's User and Group attributes:\n", v.App)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "RESOURCE\tATTRIBUTE\tTYPE\tMULTI\tMUTABILITY\tSOURCE")
	for _, a := range v.Attributes {
		typ := a.Type
		if a.Required {
			typ += " (required)"
		}
		if len(a.CanonicalValues) > 0 {
			typ += " [" + strings.Join(a.CanonicalValues, "|") + "]"
		}
		multi := "-"
		if a.MultiValued {
			multi = "multi"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ResourceType, a.Path, typ, multi, a.Mutability, a.Source)
	}
	return tw.Flush()
}
