package resource

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Normalize validates a client's resource body against rt and returns its
// canonical form. It is what POST and PUT bodies go through, and what a
// PATCHed document is checked with. The input is not modified.
//
// It tolerates what real clients send: null values and empty arrays are
// absent; unknown core attributes, unknown or misspelled URNs in "schemas" and
// readOnly attributes (id, meta, groups) are ignored; attribute names match
// ignoring case; "True"/"False" strings become booleans; a scalar given for a
// complex attribute with a "value" sub-attribute becomes {"value": scalar}
// (Entra's manager); a one-element array given for a single-valued complex
// attribute is unwrapped; a single value given for a multi-valued attribute
// is wrapped; dotted ("name.givenName") and URN-qualified keys are placed
// where they belong; extension attributes sent at the top level move under
// their extension.
//
// It rejects, with a 400 *scim.Error: attributes of a schema URN the
// resource type does not have, and attributes a declared extension does not
// define (see CheckDeclared), since dropping them would lose data; values of the wrong type
// (invalidValue), missing required attributes (invalidValue), more than one
// primary value in a multi-valued attribute (invalidValue) and an attribute
// given twice under different spellings (invalidSyntax).
//
// The result's keys are canonical schema names, extension attributes are
// under the extension's URN, and "schemas" lists the core schema and every
// extension present.
func Normalize(d Document, rt *schema.ResourceType) (Document, error) {
	b := builder{rt: rt, out: Document{}}
	for key, v := range d {
		if strings.EqualFold(key, "schemas") {
			continue
		}
		if err := b.setTopLevel(key, v); err != nil {
			return nil, err
		}
	}
	if err := checkRequired(b.out, rt); err != nil {
		return nil, err
	}
	b.out["schemas"] = schemasOf(b.out, rt)
	return b.out, nil
}

// schemasOf lists the core schema and the extensions d has data for.
func schemasOf(d Document, rt *schema.ResourceType) []any {
	urns := []any{rt.Schema.ID}
	for _, ext := range rt.Extensions {
		if _, ok := d[ext.Schema.ID]; ok {
			urns = append(urns, ext.Schema.ID)
		}
	}
	return urns
}

type builder struct {
	rt  *schema.ResourceType
	out Document
}

// setTopLevel places the value of one top-level key of a request body.
func (b *builder) setTopLevel(key string, v any) error {
	if s := b.rt.SchemaByURN(key); s != nil && b.rt.IsExtension(s) {
		if v == nil {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return scim.BadRequest(scim.InvalidValue, "extension %q must be an object, got %s", s.ID, kindOf(v))
		}
		for k, ev := range m {
			t, ok := resolveKey(b.rt, s, k)
			if !ok {
				if b.rt.IsDeclared(s) && ev != nil {
					if err := CheckDeclared(b.rt, s.ID+":"+k, false); err != nil {
						return err
					}
				}
				continue
			}
			if err := b.set(t, ev, s.ID+":"+k); err != nil {
				return err
			}
		}
		return nil
	}
	t, ok := resolveKey(b.rt, nil, key)
	if !ok {
		if v == nil {
			return nil
		}
		_, object := v.(map[string]any)
		return CheckDeclared(b.rt, key, object)
	}
	return b.set(t, v, key)
}

// keyTarget is where a key of a request body lands: an attribute of a
// schema, or one sub-attribute of it for a dotted key.
type keyTarget struct {
	schema *schema.Schema
	attr   *schema.Attribute
	sub    *schema.Attribute
}

// resolveKey resolves key, which may be URN-qualified and may have one dotted
// sub-attribute, within scope (one schema) or, with scope nil, within the
// resource type. It reports false for keys that name nothing known.
func resolveKey(rt *schema.ResourceType, scope *schema.Schema, key string) (keyTarget, bool) {
	urn, rest := SplitURN(key)
	name, subName, _ := strings.Cut(rest, ".")
	var s *schema.Schema
	var a *schema.Attribute
	switch {
	case scope != nil && urn == "":
		s, a = scope, scope.Attribute(name)
	case scope != nil && !strings.EqualFold(urn, scope.ID):
		return keyTarget{}, false
	default:
		s, a = rt.Resolve(urn, name)
	}
	if a == nil {
		return keyTarget{}, false
	}
	t := keyTarget{schema: s, attr: a}
	if subName != "" {
		t.sub = a.SubAttribute(subName)
		if t.sub == nil {
			return keyTarget{}, false
		}
	}
	return t, true
}

// SplitURN splits a URN-qualified attribute path at its last colon:
// "urn:…:enterprise:2.0:User:manager.value" gives ("urn:…:enterprise:2.0:User",
// "manager.value"). A path that does not start with "urn:" has no URN.
func SplitURN(path string) (urn, rest string) {
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return "", path
	}
	i := strings.LastIndexByte(path, ':')
	return path[:i], path[i+1:]
}

// container returns the map attributes of s live in: the document itself for
// the core schema, the extension's object otherwise (created when create).
func container(d Document, rt *schema.ResourceType, s *schema.Schema, create bool) map[string]any {
	if s == rt.Schema {
		return d
	}
	if m, ok := d[s.ID].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	d[s.ID] = m
	return m
}

func (b *builder) set(t keyTarget, v any, where string) error {
	attr := t.attr
	if t.sub != nil {
		if attr.MultiValued {
			return scim.BadRequest(scim.InvalidValue, "attribute %q: a sub-attribute of the multi-valued attribute %q cannot be set without a value filter", where, attr.Name)
		}
		attr = t.sub
	}
	nv, keep, err := NormalizeValue(attr, v, where)
	if err != nil || !keep {
		return err
	}
	c := container(b.out, b.rt, t.schema, true)
	if t.sub != nil {
		nv = map[string]any{t.sub.Name: nv}
	}
	old, exists := c[t.attr.Name]
	if !exists {
		c[t.attr.Name] = nv
		return nil
	}
	// Two keys for one attribute merge only when both are parts of one
	// complex value ("name" and "name.givenName"); anything else would make
	// the result depend on map order.
	om, ok1 := old.(map[string]any)
	nm, ok2 := nv.(map[string]any)
	if ok1 && ok2 && !t.attr.MultiValued {
		for k, sv := range nm {
			if _, dup := om[k]; dup {
				return scim.BadRequest(scim.InvalidSyntax, "attribute %q is given more than once", t.attr.Name+"."+k)
			}
			om[k] = sv
		}
		return nil
	}
	return scim.BadRequest(scim.InvalidSyntax, "attribute %q is given more than once", t.attr.Name)
}

// NormalizeValue validates and normalizes v as a value of attr (see
// Normalize for the tolerated forms). It reports keep=false for values that
// mean "absent": null, empty arrays and objects, and anything written to a
// readOnly attribute. where names the value in error messages.
func NormalizeValue(attr *schema.Attribute, v any, where string) (any, bool, error) {
	if v == nil || attr.Mutability == schema.ReadOnly {
		return nil, false, nil
	}
	if !attr.MultiValued {
		if arr, ok := v.([]any); ok && attr.Type == schema.Complex {
			switch len(arr) {
			case 0:
				return nil, false, nil
			case 1:
				v = arr[0]
			}
		}
		return normalizeSingle(attr, v, where)
	}
	arr, ok := v.([]any)
	if !ok {
		arr = []any{v}
	}
	out := make([]any, 0, len(arr))
	primaries := 0
	for i, e := range arr {
		ne, keep, err := normalizeSingle(attr, e, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, false, err
		}
		if !keep {
			continue
		}
		if m, ok := ne.(map[string]any); ok && m["primary"] == true {
			primaries++
		}
		out = append(out, ne)
	}
	if primaries > 1 {
		return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: at most one value may be primary, %d are", where, primaries)
	}
	if len(out) == 0 {
		return nil, false, nil
	}
	return out, true, nil
}

func normalizeSingle(attr *schema.Attribute, v any, where string) (any, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	if attr.Type != schema.Complex {
		return normalizeScalar(attr, v, where)
	}
	m, ok := v.(map[string]any)
	if !ok {
		// Entra sends manager as a bare id; a reference given as a scalar
		// means its "value".
		if valueSub := attr.SubAttribute("value"); valueSub != nil && isScalar(v) {
			return normalizeSingle(attr, map[string]any{valueSub.Name: v}, where)
		}
		return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: expected an object, got %s", where, kindOf(v))
	}
	out := make(map[string]any, len(m))
	for k, sv := range m {
		sub := attr.SubAttribute(k)
		if sub == nil {
			continue
		}
		nv, keep, err := NormalizeValue(sub, sv, where+"."+sub.Name)
		if err != nil {
			return nil, false, err
		}
		if !keep {
			continue
		}
		if _, dup := out[sub.Name]; dup {
			return nil, false, scim.BadRequest(scim.InvalidSyntax, "attribute %q is given more than once", where+"."+sub.Name)
		}
		out[sub.Name] = nv
	}
	if len(out) == 0 {
		return nil, false, nil
	}
	return out, true, nil
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, json.Number:
		return true
	}
	return false
}

func typeError(where string, want string, v any) error {
	return scim.BadRequest(scim.InvalidValue, "attribute %q: expected %s, got %s", where, want, kindOf(v))
}

func normalizeScalar(attr *schema.Attribute, v any, where string) (any, bool, error) {
	switch attr.Type {
	case schema.String, schema.Reference:
		s, ok := v.(string)
		if !ok {
			return nil, false, typeError(where, "a string", v)
		}
		if strings.IndexByte(s, 0) >= 0 {
			// No identity attribute needs it, and PostgreSQL text
			// cannot hold it: refused alike whatever the store.
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: the character U+0000 is not allowed", where)
		}
		if attr.CanonicalOnly && !slices.ContainsFunc(attr.CanonicalValues, func(c string) bool {
			return c == s || !attr.CaseExact && strings.EqualFold(c, s)
		}) {
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: %q is not one of its canonical values %s", where, truncate(s, 40), strings.Join(attr.CanonicalValues, ", "))
		}
		return s, true, nil
	case schema.Binary:
		s, ok := v.(string)
		if !ok {
			return nil, false, typeError(where, "a base64 string", v)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: not valid base64: %v", where, err)
		}
		return s, true, nil
	case schema.Boolean:
		switch b := v.(type) {
		case bool:
			return b, true, nil
		case string:
			// Entra's default job sends "True"/"False" (its Switch expression
			// yields strings).
			if strings.EqualFold(b, "true") {
				return true, true, nil
			}
			if strings.EqualFold(b, "false") {
				return false, true, nil
			}
		}
		return nil, false, typeError(where, "a boolean", v)
	case schema.Integer:
		n, ok := toNumber(v)
		if !ok {
			return nil, false, typeError(where, "an integer", v)
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: expected an integer, got %s", where, n)
		}
		return n, true, nil
	case schema.Decimal:
		n, ok := toNumber(v)
		if !ok {
			return nil, false, typeError(where, "a number", v)
		}
		if f, err := strconv.ParseFloat(string(n), 64); err != nil || math.IsInf(f, 0) {
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: %s is not a decimal in range", where, n)
		}
		return n, true, nil
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, false, typeError(where, "a dateTime string", v)
		}
		if _, err := ParseDateTime(s); err != nil {
			return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q: %q is not an xsd:dateTime such as 2008-01-23T04:56:22Z", where, truncate(s, 40))
		}
		return s, true, nil
	default:
		return nil, false, scim.BadRequest(scim.InvalidValue, "attribute %q has unsupported type %q", where, attr.Type)
	}
}

// toNumber accepts a decoded JSON number, or a Go number from code that
// builds documents directly, as json.Number.
func toNumber(v any) (json.Number, bool) {
	switch n := v.(type) {
	case json.Number:
		return n, true
	case int:
		return json.Number(strconv.Itoa(n)), true
	case int64:
		return json.Number(strconv.FormatInt(n, 10)), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return "", false
		}
		return json.Number(strconv.FormatFloat(n, 'g', -1, 64)), true
	}
	return "", false
}

// ParseDateTime parses an xsd:dateTime (RFC 7643 §2.3.5): RFC 3339, with the
// time zone optional (a value without one is read as UTC).
func ParseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

// checkRequired reports the first required attribute d lacks.
func checkRequired(d Document, rt *schema.ResourceType) error {
	if err := checkRequiredIn(d, rt.Schema.Attributes, ""); err != nil {
		return err
	}
	for _, ext := range rt.Extensions {
		m, ok := d[ext.Schema.ID].(map[string]any)
		if !ok {
			if ext.Required {
				return scim.BadRequest(scim.InvalidValue, "extension %q is required", ext.Schema.ID)
			}
			continue
		}
		if err := checkRequiredIn(m, ext.Schema.Attributes, ext.Schema.ID+":"); err != nil {
			return err
		}
	}
	return nil
}

func checkRequiredIn(m map[string]any, attrs []*schema.Attribute, prefix string) error {
	for _, a := range attrs {
		if a.Mutability == schema.ReadOnly {
			continue
		}
		v, ok := m[a.Name]
		if !ok {
			if a.Required {
				return scim.BadRequest(scim.InvalidValue, "attribute %q is required", prefix+a.Name)
			}
			continue
		}
		if a.Type != schema.Complex {
			continue
		}
		elems, ok := v.([]any)
		if !ok {
			elems = []any{v}
		}
		for _, e := range elems {
			if em, ok := e.(map[string]any); ok {
				if err := checkRequiredIn(em, a.SubAttributes, prefix+a.Name+"."); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CheckImmutable reports a mutability error when after changes an immutable
// attribute that before had a value (RFC 7643 §7: immutable attributes may be
// set once, then never changed). Sub-attributes of single-valued complex
// attributes are checked too; elements of multi-valued attributes are not,
// since they have no identity to compare by.
func CheckImmutable(before, after Document, rt *schema.ResourceType) error {
	if err := checkImmutableIn(before, after, rt.Schema.Attributes, ""); err != nil {
		return err
	}
	for _, ext := range rt.Extensions {
		bm, _ := before[ext.Schema.ID].(map[string]any)
		am, _ := after[ext.Schema.ID].(map[string]any)
		if bm == nil {
			continue
		}
		if err := checkImmutableIn(bm, am, ext.Schema.Attributes, ext.Schema.ID+":"); err != nil {
			return err
		}
	}
	return nil
}

func checkImmutableIn(before, after map[string]any, attrs []*schema.Attribute, prefix string) error {
	for _, a := range attrs {
		bv, ok := before[a.Name]
		if !ok {
			continue
		}
		av := after[a.Name]
		if a.Mutability == schema.Immutable && !reflect.DeepEqual(bv, av) {
			return scim.BadRequest(scim.Mutability, "attribute %q is immutable and cannot be changed once set", prefix+a.Name)
		}
		if a.Type == schema.Complex && !a.MultiValued {
			bm, _ := bv.(map[string]any)
			am, _ := av.(map[string]any)
			if bm != nil {
				if err := checkImmutableIn(bm, am, a.SubAttributes, prefix+a.Name+"."); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
