package resource

import (
	"bytes"
	"encoding/json"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// Field is one top-level member of a document, its value encoded: the unit
// in which a response that was encoded once can be projected again without
// decoding the whole document (ProjectFields).
type Field struct {
	Key string
	// Raw is the value as encoding/json encodes it.
	Raw []byte
	// Clean says Project with no attribute lists keeps this member as it
	// is: a value Project would drop, or whose sub-attributes it would
	// change, is not clean.
	Clean bool
}

// EncodeField encodes the member key, with value v, of a document of type
// rt.
func EncodeField(rt *schema.ResourceType, key string, v any) (Field, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Field{}, err
	}
	return Field{Key: key, Raw: raw, Clean: clean(rt, key, v)}, nil
}

// clean reports whether Project with empty lists returns the member key,
// with value v, unchanged. It may say no where the answer is yes (the
// member then takes the slow path), never the reverse. "schemas" is never
// clean: Project computes it.
func clean(rt *schema.ResourceType, key string, v any) bool {
	if key == "schemas" {
		return false
	}
	if s := rt.SchemaByURN(key); s != nil && rt.IsExtension(s) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return false
		}
		for k, sv := range m {
			if a := s.Attribute(k); a != nil && !cleanAttr(a, sv) {
				return false
			}
		}
		return true
	}
	a := rt.Schema.Attribute(key)
	return a == nil || cleanAttr(a, v)
}

// cleanAttr reports whether projectAttr with empty lists returns v as it is.
func cleanAttr(a *schema.Attribute, v any) bool {
	if a.Returned == schema.Never || a.Returned == schema.Request || isEmpty(v) {
		return false
	}
	if a.Type != schema.Complex {
		return true
	}
	cleanElem := func(e any) bool {
		m, ok := e.(map[string]any)
		if !ok {
			return true
		}
		if len(m) == 0 {
			return false
		}
		for k := range m {
			if sub := a.SubAttribute(k); sub != nil && (sub.Returned == schema.Never || sub.Returned == schema.Request) {
				return false
			}
		}
		return true
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if !cleanElem(e) {
				return false
			}
		}
		return true
	}
	return cleanElem(v)
}

// ProjectFields is Project over a document given as its encoded members:
// it returns the members the response carries, in the order given. A
// member is copied as it is when it is clean and the lists ask nothing of
// its sub-attributes; only the others are decoded, projected and encoded
// again, and "schemas" is computed from the members kept, as Project does.
// fields is not modified.
func ProjectFields(fields []Field, rt *schema.ResourceType, include, exclude Projection) ([]Field, error) {
	out := make([]Field, 0, len(fields))
	schemasAt := -1
	for _, f := range fields {
		if f.Key == "schemas" {
			schemasAt = len(out)
			out = append(out, f)
			continue
		}
		if s := rt.SchemaByURN(f.Key); s != nil && rt.IsExtension(s) {
			if f.Clean && include.Empty() && !exclude.touches(s) {
				out = append(out, f)
				continue
			}
			v, err := decodeValue(f.Raw)
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if pm := projectAttrs(m, s, include, exclude); len(pm) > 0 {
				if f, err = EncodeField(rt, f.Key, pm); err != nil {
					return nil, err
				}
				out = append(out, f)
			}
			continue
		}
		a := rt.Schema.Attribute(f.Key)
		if a == nil {
			out = append(out, f)
			continue
		}
		keep, only, drop := decide(a, include, exclude)
		if !keep {
			continue
		}
		if f.Clean && only == nil && drop == nil {
			out = append(out, f)
			continue
		}
		v, err := decodeValue(f.Raw)
		if err != nil {
			return nil, err
		}
		if pv, ok := projectAttr(a, v, include, exclude); ok {
			if f, err = EncodeField(rt, f.Key, pv); err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	if schemasAt >= 0 {
		present := make(Document, len(out))
		for _, f := range out {
			present[f.Key] = nil
		}
		raw, err := json.Marshal(schemasOf(present, rt))
		if err != nil {
			return nil, err
		}
		out[schemasAt] = Field{Key: "schemas", Raw: raw}
	}
	return out, nil
}

// touches reports whether the list names an attribute of s.
func (p Projection) touches(s *schema.Schema) bool {
	for _, a := range s.Attributes {
		if p.Has(a) {
			return true
		}
	}
	return false
}

// decide is projectAttr's choice for attribute a before it looks at the
// value: whether a is returned at all, and the sub-attributes kept (only)
// or dropped (drop) when it is. A kept value may still be dropped by
// projectAttr when its projection leaves it empty.
func decide(a *schema.Attribute, include, exclude Projection) (keep bool, only, drop map[*schema.Attribute]bool) {
	switch a.Returned {
	case schema.Never:
		return false, nil, nil
	case schema.Always:
		return true, nil, nil
	}
	if !include.Empty() {
		if include.whole[a] {
			return true, nil, nil
		}
		if subs := include.subs[a]; subs != nil {
			return true, subs, nil
		}
		return false, nil, nil
	}
	if a.Returned == schema.Request || exclude.whole[a] {
		return false, nil, nil
	}
	return true, nil, exclude.subs[a]
}

// decodeValue decodes one encoded value as Decode decodes documents, with
// numbers kept as json.Number, so that encoding it again gives the same
// text.
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
