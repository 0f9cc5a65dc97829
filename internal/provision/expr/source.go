package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// AttributeInfo describes what an attribute path reads from a resource
// type's documents.
type AttributeInfo struct {
	Path     string      // the path in canonical SCIM syntax
	Type     schema.Type // the type of each value the path yields
	Multi    bool        // the path goes through a multi-valued attribute, so it may yield several values
	Filtered bool        // a value filter selects among the multi-valued attribute's elements
}

// ResolveAttribute resolves a SCIM attribute path, as written in an
// attribute reference, against rt. A complex attribute named without a
// sub-attribute stands for its "value" sub-attribute (emails, members,
// manager), as in SCIM filters; one without a "value" sub-attribute (name)
// is an error, as is a path rt does not define.
func ResolveAttribute(rt *schema.ResourceType, path string) (AttributeInfo, error) {
	t, a, err := resolve(rt, path)
	if err != nil {
		return AttributeInfo{}, err
	}
	return AttributeInfo{Path: t.String(), Type: a.Type, Multi: t.Attr.MultiValued, Filtered: t.Filter != nil}, nil
}

// resolve resolves path and returns the attribute whose values it yields.
func resolve(rt *schema.ResourceType, path string) (resource.Target, *schema.Attribute, error) {
	if rt == nil {
		return resource.Target{}, nil, fmt.Errorf("no resource type to resolve %q against", path)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		return resource.Target{}, nil, fmt.Errorf("not a valid SCIM attribute path: %s", scimDetail(err))
	}
	t, ok, err := resource.ResolvePath(rt, p)
	if err != nil {
		return resource.Target{}, nil, fmt.Errorf("%s", scimDetail(err))
	}
	if !ok {
		return resource.Target{}, nil, fmt.Errorf("the %s resource type has no such attribute", rt.Name)
	}
	if t.Whole() {
		return resource.Target{}, nil, fmt.Errorf("names a whole schema extension, not an attribute")
	}
	a := t.Attr
	if t.Sub != nil {
		a = t.Sub
	}
	if a.Type == schema.Complex {
		v := a.SubAttribute("value")
		if v == nil {
			example := ""
			if len(a.SubAttributes) > 0 {
				example = fmt.Sprintf(", such as %s.%s", t.String(), a.SubAttributes[0].Name)
			}
			return resource.Target{}, nil, fmt.Errorf("%s is a complex attribute; name one of its sub-attributes%s", a.Name, example)
		}
		a = v
	}
	return t, a, nil
}

func scimDetail(err error) string {
	if e, ok := scim.AsError(err); ok {
		return e.Detail
	}
	return err.Error()
}

// SchemaChecker returns an AttributeChecker accepting the paths rt defines
// (see ResolveAttribute) and the extra names, which are virtual attributes
// the engine provides, such as "IsSoftDeleted". Extra names match ignoring
// case.
func SchemaChecker(rt *schema.ResourceType, extra ...string) AttributeChecker {
	return func(path string) error {
		for _, x := range extra {
			if strings.EqualFold(x, path) {
				return nil
			}
		}
		_, _, err := resolve(rt, path)
		return err
	}
}

// DocumentSource is a Source reading a SCIM resource document of Ferry's
// source directory.
//
// Values take the attribute's schema type: booleans are Bool (so "True" and
// "False" as text), integers Int, dateTimes DateTime, other types strings.
// A multi-valued attribute, or a path through one such as
// emails[type eq "work"].value, gives a multi-valued Value of the values it
// selects; a missing attribute gives null.
type DocumentSource struct {
	Doc  resource.Document
	Type *schema.ResourceType

	// Virtual holds attributes the engine computes rather than reads, such as
	// IsSoftDeleted. They are looked up first, by exact name and then
	// ignoring case.
	Virtual map[string]Value
}

// Attribute implements Source.
func (s DocumentSource) Attribute(path string) (Value, error) {
	if v, ok := lookupFold(s.Virtual, path); ok {
		return v, nil
	}
	t, a, err := resolve(s.Type, path)
	if err != nil {
		return Value{}, err
	}
	raw := t.Values(s.Doc, s.Type)
	if t.Sub == nil && t.Attr.Type == schema.Complex {
		// The complex attribute stands for its "value" sub-attribute.
		var vals []any
		for _, e := range raw {
			if m, ok := e.(map[string]any); ok {
				if _, v, ok := resource.Lookup(m, "value"); ok && v != nil {
					vals = append(vals, v)
				}
			}
		}
		raw = vals
	}
	out := make([]Value, 0, len(raw))
	for _, r := range raw {
		if v := fromJSON(r, a.Type); v.kind != Null {
			out = append(out, v)
		}
	}
	if t.Attr.MultiValued {
		return MultiValue(out...), nil
	}
	if len(out) == 0 {
		return Value{}, nil
	}
	return out[0], nil
}

// fromJSON converts a decoded JSON value of an attribute of type typ. It
// copes with documents that were not normalized: a value of an unexpected
// JSON type is converted by its own type.
func fromJSON(raw any, typ schema.Type) Value {
	switch r := raw.(type) {
	case nil:
		return Value{}
	case string:
		switch typ {
		case schema.Boolean:
			if b, err := strconv.ParseBool(r); err == nil {
				return BoolValue(b)
			}
		case schema.DateTime:
			if t, err := resource.ParseDateTime(r); err == nil {
				return TimeValue(t)
			}
		case schema.Integer:
			if n, err := strconv.ParseInt(r, 10, 64); err == nil {
				return IntValue(n)
			}
		}
		return StringValue(r)
	case bool:
		return BoolValue(r)
	case json.Number:
		if n, err := r.Int64(); err == nil && typ != schema.Decimal {
			return IntValue(n)
		}
		return StringValue(r.String())
	case float64:
		if r == math.Trunc(r) && math.Abs(r) < 1<<53 && typ != schema.Decimal {
			return IntValue(int64(r))
		}
		return StringValue(strconv.FormatFloat(r, 'g', -1, 64))
	case int:
		return IntValue(int64(r))
	case int64:
		return IntValue(r)
	}
	return Value{}
}

// MapSource is a Source backed by a map from attribute path to value: for
// previews, tests and engines whose source object is not a SCIM document.
// Paths match exactly first, then ignoring case; a missing path is null.
type MapSource map[string]Value

// Attribute implements Source.
func (m MapSource) Attribute(path string) (Value, error) {
	v, _ := lookupFold(m, path)
	return v, nil
}

func lookupFold(m map[string]Value, name string) (Value, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return Value{}, false
}
