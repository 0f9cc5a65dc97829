package resource

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// Projection is a parsed "attributes" or "excludedAttributes" list
// (RFC 7644 §3.4.2.5): which attributes, or which of their sub-attributes,
// were named.
type Projection struct {
	whole map[*schema.Attribute]bool
	subs  map[*schema.Attribute]map[*schema.Attribute]bool
}

// ParseProjection parses a comma-separated attribute list as given in the
// attributes or excludedAttributes query parameter (or the equivalent
// SearchRequest arrays, joined). Names may be URN-qualified, dotted, or a
// whole schema URN. Names that match no attribute are ignored, as a list is
// a request about what to return, not a claim about the schema.
func ParseProjection(rt *schema.ResourceType, list ...string) Projection {
	p := Projection{}
	for _, item := range list {
		if item == "" {
			continue // most requests ask for no projection: no split to make
		}
		for _, name := range strings.Split(item, ",") {
			p.add(rt, strings.TrimSpace(name))
		}
	}
	return p
}

func (p *Projection) add(rt *schema.ResourceType, name string) {
	if name == "" {
		return
	}
	if s := rt.SchemaByURN(name); s != nil {
		for _, a := range s.Attributes {
			p.addWhole(a)
		}
		return
	}
	t, ok := resolveKey(rt, nil, name)
	if !ok {
		return
	}
	if t.sub == nil {
		p.addWhole(t.attr)
		return
	}
	if p.subs == nil {
		p.subs = map[*schema.Attribute]map[*schema.Attribute]bool{}
	}
	if p.subs[t.attr] == nil {
		p.subs[t.attr] = map[*schema.Attribute]bool{}
	}
	p.subs[t.attr][t.sub] = true
}

func (p *Projection) addWhole(a *schema.Attribute) {
	if p.whole == nil {
		p.whole = map[*schema.Attribute]bool{}
	}
	p.whole[a] = true
}

// Has reports whether the list names a, whole or by some sub-attribute.
func (p Projection) Has(a *schema.Attribute) bool { return p.whole[a] || p.subs[a] != nil }

// HasWhole reports whether the list names a itself.
func (p Projection) HasWhole(a *schema.Attribute) bool { return p.whole[a] }

// Empty reports whether the list named no known attribute.
func (p Projection) Empty() bool { return len(p.whole) == 0 && len(p.subs) == 0 }

// Project returns the part of d a response carries (RFC 7643 §7 "returned",
// RFC 7644 §3.4.2.5): attributes returned "never" are dropped; "always" are
// kept; with a non-empty include list only the listed attributes (and
// sub-attributes) are returned besides the "always" ones, "request" ones only
// when listed; otherwise "default" ones are returned unless excluded. d is not
// modified; unchanged values are shared with it. "schemas" is always kept, and
// keys that match no attribute are kept as they are, as they are the
// server's own.
func Project(d Document, rt *schema.ResourceType, include, exclude Projection) Document {
	out := make(Document, len(d))
	for key, v := range d {
		if key == "schemas" {
			out[key] = v
			continue
		}
		if s := rt.SchemaByURN(key); s != nil && rt.IsExtension(s) {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			pm := projectAttrs(m, s, include, exclude)
			if len(pm) > 0 {
				out[key] = pm
			}
			continue
		}
		a := rt.Schema.Attribute(key)
		if a == nil {
			out[key] = v
			continue
		}
		if pv, ok := projectAttr(a, v, include, exclude); ok {
			out[key] = pv
		}
	}
	if _, ok := d["schemas"]; ok {
		// An extension whose attributes were all projected away is no longer
		// present, so it leaves "schemas" too.
		out["schemas"] = schemasOf(out, rt)
	}
	return out
}

func projectAttrs(m map[string]any, s *schema.Schema, include, exclude Projection) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		a := s.Attribute(k)
		if a == nil {
			out[k] = v
			continue
		}
		if pv, ok := projectAttr(a, v, include, exclude); ok {
			out[k] = pv
		}
	}
	return out
}

// projectAttr decides whether attribute a, with value v, is returned and
// with which sub-attributes.
func projectAttr(a *schema.Attribute, v any, include, exclude Projection) (any, bool) {
	keep, only, drop := decide(a, include, exclude)
	if !keep {
		return nil, false
	}
	pv := projectSubs(a, v, only, drop)
	// An attribute returned always, or named whole, is returned even empty.
	if a.Returned == schema.Always || include.whole[a] {
		return pv, true
	}
	return pv, !isEmpty(pv)
}

// projectSubs applies the sub-attributes' own "returned" and the listed
// sub-attributes to a complex value (or each element of a multi-valued one).
// With only set, only those sub-attributes (and "always" ones) are kept; with
// drop set, those are removed.
func projectSubs(a *schema.Attribute, v any, only, drop map[*schema.Attribute]bool) any {
	if a.Type != schema.Complex {
		return v
	}
	project := func(e any) any {
		m, ok := e.(map[string]any)
		if !ok {
			return e
		}
		out := make(map[string]any, len(m))
		for k, sv := range m {
			sub := a.SubAttribute(k)
			if sub == nil {
				if only == nil {
					out[k] = sv
				}
				continue
			}
			switch {
			case sub.Returned == schema.Never:
			case sub.Returned == schema.Always:
				out[k] = sv
			case only != nil:
				if only[sub] {
					out[k] = sv
				}
			case sub.Returned == schema.Request, drop[sub]:
			default:
				out[k] = sv
			}
		}
		return out
	}
	if arr, ok := v.([]any); ok {
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if pe := project(e); !isEmpty(pe) {
				out = append(out, pe)
			}
		}
		return out
	}
	return project(v)
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}
