package sqlfilter

import (
	"database/sql"
	"strings"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Kind says how an attribute_values row's value compares. For attributes
// the schema defines, the attribute's type decides and Kind is informative;
// for attributes it does not, filter.Match compares by the JSON type found
// in the document, and Kind is that type.
type Kind int

// The kinds of attribute_values row.
const (
	KindString   Kind = iota // val: Fold(s), or s when caseExact
	KindBoolean              // val: "true" or "false"
	KindNumber               // num: NumberKey
	KindDateTime             // val: Fold(s) for co/sw/ew; num: TimeKey, or NULL when s does not parse
	KindOther                // present, but equal, less or greater than nothing (a value of the wrong type)
)

// Row is one attribute_values row: one scalar value of a document.
type Row struct {
	// Path is the attribute's canonical lower-case path: "username",
	// "name.givenname", "emails.value", or for extension attributes the
	// lower-case schema URN, a colon and the name
	// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value").
	Path string
	// Elem is the index of the element within a multi-valued attribute,
	// and 0 otherwise. Rows of one element share it, which is what lets
	// emails[type eq "work" and value eq "x"] look at one element.
	Elem int
	Kind Kind
	Val  sql.NullString
	// Eqv is FoldKey(s) for the rare string whose FoldKey differs from its
	// Fold (it contains İ or ı), NULL otherwise; eq compares it as well.
	Eqv sql.NullString
	Num sql.NullString
	// Substring says the row belongs in the substring (trigram) index.
	Substring bool
}

// Builtin reports whether a top-level attribute of the resource type rt is
// server-managed and comes from the tables rather than the document: id,
// meta, a Group's members and a User's groups. Flatten skips such keys.
func Builtin(rt *schema.ResourceType, name string) bool {
	switch strings.ToLower(name) {
	case "id", "meta":
		return true
	case "members":
		return rt.Name == store.GroupType
	case "groups":
		return rt.Name == store.UserType
	}
	return false
}

// Flatten returns the attribute_values rows of doc, a resource of type rt:
// one per scalar value, including the elements of arrays and the
// sub-attributes of complex values. Nulls, empty arrays and objects hold no
// value and give no row, as in a normalized document. Keys Builtin reports
// are skipped.
func Flatten(doc map[string]any, rt *schema.ResourceType) []Row {
	f := flattener{}
	for key, v := range doc {
		if Builtin(rt, key) {
			continue
		}
		if s := rt.SchemaByURN(key); s != nil && rt.IsExtension(s) {
			m, _ := v.(map[string]any)
			prefix := strings.ToLower(s.ID) + ":"
			for k, ev := range m {
				f.attr(prefix, k, s.Attribute(k), ev)
			}
			continue
		}
		if m, ok := v.(map[string]any); ok && isURN(key) && !strings.EqualFold(key, rt.Schema.ID) {
			// An extension the resource type does not declare: filters
			// reach its attributes as "urn:...:name", never the object.
			prefix := strings.ToLower(key) + ":"
			for k, ev := range m {
				f.attr(prefix, k, nil, ev)
			}
			continue
		}
		f.attr("", key, rt.Schema.Attribute(key), v)
	}
	return f.rows
}

func isURN(s string) bool { return len(s) >= 4 && strings.EqualFold(s[:4], "urn:") }

type flattener struct {
	rows []Row
}

// attr flattens the value of the attribute key (definition def, nil when
// unknown) whose path starts with prefix.
func (f *flattener) attr(prefix, key string, def *schema.Attribute, v any) {
	name := key
	if def != nil {
		name = def.Name
	}
	path := prefix + strings.ToLower(name)
	elems, multi := v.([]any)
	if !multi {
		elems = []any{v}
	}
	for i, e := range elems {
		elem := 0
		if multi {
			elem = i
		}
		m, isMap := e.(map[string]any)
		switch {
		case isMap && (def == nil || def.Type == schema.Complex):
			for k, sv := range m {
				var sd *schema.Attribute
				if def != nil {
					if sd = def.SubAttribute(k); sd == nil {
						// Normalize drops sub-attributes the schema
						// lacks, so no filter can expect them.
						continue
					}
				}
				sname := k
				if sd != nil {
					sname = sd.Name
				}
				f.values(path+"."+strings.ToLower(sname), elem, sd, sv)
			}
		case def != nil && def.Type == schema.Complex:
			// A scalar where an object belongs has no sub-attributes to
			// compare; filter.Match finds nothing in it.
		default:
			f.values(path, elem, def, e)
		}
	}
}

// values adds the rows of v, a scalar or an array of scalars (a
// multi-valued sub-attribute), at elem.
func (f *flattener) values(path string, elem int, def *schema.Attribute, v any) {
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			f.value(path, elem, def, x)
		}
		return
	}
	f.value(path, elem, def, v)
}

func (f *flattener) value(path string, elem int, def *schema.Attribute, v any) {
	switch v.(type) {
	case nil:
		return
	case []any, map[string]any:
		// Complex attributes do not nest (RFC 7643 §2.3.8).
		return
	}
	r := Row{Path: path, Elem: elem}
	if def == nil {
		r.setUnknown(v)
	} else {
		r.setTyped(def, v)
	}
	f.rows = append(f.rows, r)
}

// setUnknown fills r for a value of an attribute the schema does not
// define: compared by its JSON type, strings ignoring case.
func (r *Row) setUnknown(v any) {
	switch x := v.(type) {
	case string:
		r.setString(x, false)
	case bool:
		r.setBool(x)
	default:
		if n, ok := numberText(v); ok {
			if k, ok := NumberKey(n); ok {
				r.Kind = KindNumber
				r.Num = valid(k)
				return
			}
		}
		r.Kind = KindOther
	}
}

func (r *Row) setTyped(def *schema.Attribute, v any) {
	r.Kind = KindOther
	switch def.Type {
	case schema.String, schema.Reference, schema.Binary:
		if s, ok := v.(string); ok {
			r.setString(s, def.CaseExact)
			r.Substring = substringIndexed(def) && utf8.RuneCountInString(r.Val.String) >= 3
		}
	case schema.Boolean:
		if b, ok := v.(bool); ok {
			r.setBool(b)
		}
	case schema.Integer, schema.Decimal:
		if n, ok := numberText(v); ok {
			if k, ok := NumberKey(n); ok {
				r.Kind = KindNumber
				r.Num = valid(k)
			}
		}
	case schema.DateTime:
		if s, ok := v.(string); ok {
			r.setString(s, def.CaseExact)
			r.Kind = KindDateTime
			if t, err := resource.ParseDateTime(s); err == nil {
				r.Num = valid(TimeKey(t))
			}
		}
	}
}

func (r *Row) setString(s string, caseExact bool) {
	r.Kind = KindString
	if caseExact {
		r.Val = valid(s)
		return
	}
	r.Val = valid(Fold(s))
	if k, ok := eqvOf(s); ok {
		r.Eqv = valid(k)
	}
}

func (r *Row) setBool(b bool) {
	r.Kind = KindBoolean
	if b {
		r.Val = valid("true")
	} else {
		r.Val = valid("false")
	}
}

func valid(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// substringIndexed reports whether the values of def go into the substring
// index. Values from a short list (canonicalValues such as emails.type),
// binary data and values never returned are left out: substring searches
// on them are rare, and fall back to scanning the attribute's own rows.
func substringIndexed(def *schema.Attribute) bool {
	switch def.Type {
	case schema.String, schema.Reference:
	default:
		return false
	}
	return len(def.CanonicalValues) == 0 && def.Returned != schema.Never
}
