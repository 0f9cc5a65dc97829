package adminview

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Schemas writes a table of the tenant's extension schemas.
func Schemas(w io.Writer, list []extensions.View) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "URN\tRESOURCE TYPE\tNAME\tATTRIBUTES")
	for _, v := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, v.ResourceType, orDash(v.Name), strings.Join(v.Attributes, ","))
	}
	return tw.Flush()
}

// Schema writes an extension schema and its attributes' characteristics.
func Schema(w io.Writer, v *extensions.View) error {
	var sc schema.Schema
	if err := json.Unmarshal(v.Schema, &sc); err != nil {
		return fmt.Errorf("the server's schema %s: %w", v.ID, err)
	}
	fmt.Fprintf(w, "Schema:        %s\nName:          %s\nResource type: %s\nDeclared:      %s\n", v.ID, orDash(v.Name), v.ResourceType, v.Created.UTC().Format("2006-01-02 15:04:05Z"))
	if sc.Description != "" {
		fmt.Fprintf(w, "Description:   %s\n", oneLine(sc.Description))
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "ATTRIBUTE\tTYPE\tMULTI\tREQUIRED\tCASE EXACT\tMUTABILITY\tRETURNED\tCANONICAL VALUES")
	row := func(name string, a *schema.Attribute) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, a.Type, yesNo(a.MultiValued), yesNo(a.Required), yesNo(a.CaseExact),
			a.Mutability, a.Returned, orDash(strings.Join(a.CanonicalValues, ",")))
	}
	for _, a := range sc.Attributes {
		row(a.Name, a)
		for _, sub := range a.SubAttributes {
			row(a.Name+"."+sub.Name, sub)
		}
	}
	return tw.Flush()
}

// SchemaAdded says a schema is declared and what it means for clients.
func SchemaAdded(w io.Writer, v *extensions.View) {
	fmt.Fprintf(w, "Declared %s for %ss (%s). SCIM clients may send its attributes from now on, as %s:ATTRIBUTE or under the %q key.\n",
		v.ID, v.ResourceType, plural(len(v.Attributes), "attribute"), v.ID, v.ID)
}

// SchemaRemoved says a schema is removed, and the values removed with it.
func SchemaRemoved(w io.Writer, res *extensions.RemoveResult) {
	if res.ResourcesChanged == 0 {
		fmt.Fprintf(w, "Removed %s.\n", res.ID)
		return
	}
	fmt.Fprintf(w, "Removed %s and its values from %s.\n", res.ID, plural(res.ResourcesChanged, "resource"))
}
