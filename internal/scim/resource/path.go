package resource

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Target is an attribute path resolved against a resource type's schemas.
type Target struct {
	Schema *schema.Schema    // the schema owning Attr, or the extension named whole
	Attr   *schema.Attribute // nil when the path names a whole extension
	Filter filter.Expr       // selects elements of a multi-valued Attr, or nil
	Sub    *schema.Attribute // the sub-attribute addressed within Attr, or nil
}

// Whole reports whether the target is a whole extension, e.g. the path
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".
func (t Target) Whole() bool { return t.Attr == nil }

// String returns the target in canonical SCIM path syntax.
func (t Target) String() string {
	if t.Attr == nil {
		return t.Schema.ID
	}
	var b strings.Builder
	b.WriteString(t.Attr.Name)
	if t.Filter != nil {
		b.WriteString("[" + t.Filter.String() + "]")
	}
	if t.Sub != nil {
		b.WriteString("." + t.Sub.Name)
	}
	return b.String()
}

// ResolvePath resolves a parsed path against rt. It reports ok=false for a
// path naming an attribute the schemas do not define, and an invalidPath
// error for one that cannot be meant: a sub-attribute of a simple attribute,
// or a value filter on an attribute that is not multi-valued and complex.
func ResolvePath(rt *schema.ResourceType, p filter.Path) (t Target, ok bool, err error) {
	if p.Filter == nil && p.Attr.Sub == "" {
		if s := rt.SchemaByURN(p.Attr.String()); s != nil && rt.IsExtension(s) {
			return Target{Schema: s}, true, nil
		}
	}
	s, a := rt.Resolve(p.Attr.URN, p.Attr.Name)
	if a == nil {
		return Target{}, false, nil
	}
	t = Target{Schema: s, Attr: a, Filter: p.Filter}
	subName := p.Attr.Sub
	if p.Filter != nil {
		if !a.MultiValued || a.Type != schema.Complex {
			return Target{}, false, scim.BadRequest(scim.InvalidPath, "path %q: a value filter needs a multi-valued complex attribute, and %q is not one", p.String(), a.Name)
		}
		if err := filter.Check(p.Filter, elementType(a)); err != nil {
			return Target{}, false, scim.BadRequest(scim.InvalidPath, "path %q: %s", p.String(), detail(err))
		}
		subName = p.Sub
	}
	if subName != "" {
		if a.Type != schema.Complex {
			return Target{}, false, scim.BadRequest(scim.InvalidPath, "path %q: %q has no sub-attributes", p.String(), a.Name)
		}
		t.Sub = a.SubAttribute(subName)
		if t.Sub == nil {
			return Target{}, false, nil
		}
	}
	return t, true, nil
}

func detail(err error) string {
	if e, ok := scim.AsError(err); ok {
		return e.Detail
	}
	return err.Error()
}

// elementType wraps a complex attribute's sub-attributes as a resource type,
// so that a value filter (whose paths are relative to the element) can be
// checked and evaluated with the same code as a resource filter.
func elementType(a *schema.Attribute) *schema.ResourceType {
	return &schema.ResourceType{Schema: &schema.Schema{Attributes: a.SubAttributes}}
}

// Values returns the values the target addresses in d: the attribute's value
// (each element for a multi-valued one), the sub-attribute's values, or only
// those of elements the filter selects. Absent values are skipped, so the
// result is empty when nothing is there.
func (t Target) Values(d Document, rt *schema.ResourceType) []any {
	c := container(d, rt, t.Schema, false)
	if c == nil {
		return nil
	}
	if t.Attr == nil {
		return []any{c}
	}
	_, v, ok := Lookup(c, t.Attr.Name)
	if !ok || v == nil {
		return nil
	}
	elems, multi := v.([]any)
	if !multi {
		elems = []any{v}
	}
	var out []any
	for _, e := range elems {
		if t.Filter != nil {
			m, ok := e.(map[string]any)
			if !ok || !filter.MatchElement(t.Filter, m, t.Attr) {
				continue
			}
		}
		if t.Sub == nil {
			out = append(out, e)
			continue
		}
		if m, ok := e.(map[string]any); ok {
			if _, sv, ok := Lookup(m, t.Sub.Name); ok && sv != nil {
				out = append(out, sv)
			}
		}
	}
	return out
}
