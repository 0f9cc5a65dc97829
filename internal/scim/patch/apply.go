package patch

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Apply applies ops, in order, to a copy of d (a normalized document of
// resource type rt) and returns the normalized result and whether it differs
// from d. It is atomic: on any error d is untouched and no result is
// returned. The result is validated as a whole (types, required attributes,
// at most one primary) and immutable attributes may not change.
//
// Attributes the schemas do not define are ignored, as they are in POST and
// PUT bodies, but for those under a schema URN the resource type does not
// have or a declared extension does not define (resource.CheckDeclared),
// which are refused. A path naming a readOnly attribute is a mutability error; a
// readOnly key inside a path-less value (Okta sends the group's "id" with a
// rename) is ignored.
func Apply(d resource.Document, rt *schema.ResourceType, ops []Operation) (resource.Document, bool, error) {
	work := d.Clone()
	if work == nil {
		work = resource.Document{}
	}
	for i, op := range ops {
		if err := applyOne(work, rt, op); err != nil {
			return nil, false, wrap(err, i, op)
		}
	}
	out, err := resource.Normalize(work, rt)
	if err != nil {
		return nil, false, err
	}
	if err := resource.CheckImmutable(d, out, rt); err != nil {
		return nil, false, err
	}
	return out, !reflect.DeepEqual(map[string]any(d), map[string]any(out)), nil
}

func applyOne(d resource.Document, rt *schema.ResourceType, op Operation) error {
	if op.Path == nil {
		return applyPathless(d, rt, op)
	}
	t, ok, err := resource.ResolvePath(rt, *op.Path)
	if err != nil {
		return err
	}
	if !ok {
		_, object := op.Value.(map[string]any)
		return resource.CheckDeclared(rt, op.Path.Attr.String(), object && op.Path.Filter == nil)
	}
	if err := checkWritable(t); err != nil {
		return err
	}
	return apply(d, rt, t, op.Op, op.Value)
}

// applyPathless applies an add or replace whose value is an object of
// attributes. Each key is read as a path of its own, which covers the RFC's
// nested form ({"name": {"givenName": …}}) and Entra's dotted and
// URN-qualified keys ({"name.givenName": …, "urn:…:User:employeeNumber": …})
// with one mechanism.
func applyPathless(d resource.Document, rt *schema.ResourceType, op Operation) error {
	m := op.Value.(map[string]any)
	for key, v := range m {
		if strings.EqualFold(key, "schemas") {
			continue
		}
		p, err := filter.ParsePath(key)
		if err != nil {
			continue // not an attribute name, so not an attribute we know
		}
		t, ok, err := resource.ResolvePath(rt, p)
		if err != nil {
			return err
		}
		if !ok && v != nil {
			_, object := v.(map[string]any)
			if err := resource.CheckDeclared(rt, key, object); err != nil {
				return err
			}
		}
		if !ok || readOnly(t) {
			continue
		}
		if t.Whole() {
			if err := applyExtension(d, rt, t.Schema, op.Op, v); err != nil {
				return err
			}
			continue
		}
		if err := apply(d, rt, t, op.Op, v); err != nil {
			return err
		}
	}
	return nil
}

// applyExtension applies an add or replace of a whole extension object by
// applying each of its attributes, so that attributes not mentioned are left
// as they are (RFC 7644 §3.5.2.3 for complex values).
func applyExtension(d resource.Document, rt *schema.ResourceType, ext *schema.Schema, op Op, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			delete(d, ext.ID)
			return nil
		}
		return scim.BadRequest(scim.InvalidValue, "extension %q must be an object", ext.ID)
	}
	for key, av := range m {
		p, err := filter.ParsePath(ext.ID + ":" + key)
		if err != nil {
			continue
		}
		t, ok, err := resource.ResolvePath(rt, p)
		if err != nil {
			return err
		}
		if !ok && av != nil {
			if err := resource.CheckDeclared(rt, ext.ID+":"+key, false); err != nil {
				return err
			}
		}
		if !ok || readOnly(t) {
			continue
		}
		if err := apply(d, rt, t, op, av); err != nil {
			return err
		}
	}
	return nil
}

func readOnly(t resource.Target) bool {
	return t.Attr != nil && (t.Attr.Mutability == schema.ReadOnly || (t.Sub != nil && t.Sub.Mutability == schema.ReadOnly))
}

func checkWritable(t resource.Target) error {
	if readOnly(t) {
		return scim.BadRequest(scim.Mutability, "attribute %q is readOnly", t.String())
	}
	return nil
}

// clears reports whether an add or replace value means "clear": Entra sends
// "" and null to empty an attribute, and Microsoft's gallery tests
// (SCIM_Null_Update_Test, SCIM_Update_Manager_Test in
// https://github.com/AzureAD/SCIMReferenceCode/blob/master/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md)
// expect it to.
func clears(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

// apply performs one operation on a resolved target.
func apply(d resource.Document, rt *schema.ResourceType, t resource.Target, op Op, v any) error {
	if t.Whole() {
		if op == Remove || clears(v) {
			delete(d, t.Schema.ID)
			return nil
		}
		return applyExtension(d, rt, t.Schema, op, v)
	}
	if op != Remove && clears(v) {
		op, v = Remove, nil
	}
	c := containerOf(d, rt, t.Schema, op != Remove)
	if c == nil {
		return nil // removing from an extension that is not there
	}
	key, cur, _ := resource.Lookup(c, t.Attr.Name)
	if key != "" && key != t.Attr.Name {
		delete(c, key) // keep one canonical key
		c[t.Attr.Name] = cur
	}
	a := t.Attr
	var next any
	var err error
	switch {
	case t.Filter != nil:
		next, err = applyFiltered(a, t.Filter, t.Sub, cur, op, v)
	case t.Sub != nil:
		next, err = applySub(a, t.Sub, cur, op, v)
	case a.MultiValued:
		next, err = applyMulti(a, cur, op, v)
	default:
		next, err = applySingle(a, cur, op, v)
	}
	if err != nil {
		return err
	}
	if isEmpty(next) {
		delete(c, a.Name)
	} else {
		c[a.Name] = next
	}
	if t.Schema != rt.Schema && len(c) == 0 {
		delete(d, t.Schema.ID)
	}
	return nil
}

func containerOf(d resource.Document, rt *schema.ResourceType, s *schema.Schema, create bool) map[string]any {
	if s == rt.Schema {
		return d
	}
	if key, v, ok := resource.Lookup(d, s.ID); ok {
		if m, ok := v.(map[string]any); ok {
			if key != s.ID {
				delete(d, key)
				d[s.ID] = m
			}
			return m
		}
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	d[s.ID] = m
	return m
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

// applySingle handles a single-valued attribute addressed without a filter
// or sub-attribute.
func applySingle(a *schema.Attribute, cur any, op Op, v any) (any, error) {
	if op == Remove {
		if v != nil && cur != nil {
			// A remove that names the value removes it only if it is
			// still the current one.
			nv, keep, err := resource.NormalizeValue(a, v, a.Name)
			if err != nil {
				return nil, err
			}
			if keep && !sameElement(a, cur, nv) {
				return cur, nil
			}
		}
		return nil, nil
	}
	nv, keep, err := resource.NormalizeValue(a, v, a.Name)
	if err != nil || !keep {
		return nil, err
	}
	if a.Type != schema.Complex {
		return nv, nil
	}
	cm, _ := cur.(map[string]any)
	nm := nv.(map[string]any)
	// A complex value is merged sub-attribute by sub-attribute (RFC 7644
	// §3.5.2.1, §3.5.2.3), except when its "value" changes: that is a
	// different referent (a new manager), whose old $ref and displayName
	// must not linger.
	if cm == nil || valueChanged(a, cm, nm) {
		return nm, nil
	}
	merged := make(map[string]any, len(cm)+len(nm))
	for k, sv := range cm {
		merged[k] = sv
	}
	for k, sv := range nm {
		merged[k] = sv
	}
	return merged, nil
}

func valueChanged(a *schema.Attribute, cur, next map[string]any) bool {
	sub := a.SubAttribute("value")
	if sub == nil {
		return false
	}
	nv, ok := next[sub.Name]
	if !ok {
		return false
	}
	return !equalScalar(sub, cur[sub.Name], nv)
}

// applySub handles attr.sub without a filter.
func applySub(a, sub *schema.Attribute, cur any, op Op, v any) (any, error) {
	var nv any
	if op != Remove {
		var keep bool
		var err error
		nv, keep, err = resource.NormalizeValue(sub, v, a.Name+"."+sub.Name)
		if err != nil {
			return nil, err
		}
		if !keep {
			op = Remove
		}
	}
	set := func(m map[string]any) map[string]any {
		out := cloneShallow(m)
		if op == Remove {
			delete(out, sub.Name)
		} else {
			out[sub.Name] = nv
		}
		return out
	}
	if !a.MultiValued {
		m, _ := cur.(map[string]any)
		if m == nil && op == Remove {
			return cur, nil
		}
		return set(m), nil
	}
	// A sub-attribute of a multi-valued attribute without a filter
	// addresses every element.
	elems, _ := cur.([]any)
	out := make([]any, 0, len(elems))
	for _, e := range elems {
		if m, ok := e.(map[string]any); ok {
			if nm := set(m); !onlyMetadata(nm) {
				out = append(out, nm)
			}
		}
	}
	return out, nil
}

func cloneShallow(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// applyMulti handles a multi-valued attribute addressed without a filter.
func applyMulti(a *schema.Attribute, cur any, op Op, v any) (any, error) {
	elems, _ := cur.([]any)
	var given []any
	if v != nil {
		nv, keep, err := resource.NormalizeValue(a, v, a.Name)
		if err != nil {
			return nil, err
		}
		if keep {
			given = nv.([]any)
		}
	}
	switch op {
	case Remove:
		if v == nil {
			return nil, nil
		}
		// Entra removes group members with a value array (and no filter):
		// only the listed values go, never the whole attribute
		// (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#update-group-remove-members).
		out := make([]any, 0, len(elems))
		for _, e := range elems {
			if !containsElement(a, given, e) {
				out = append(out, e)
			}
		}
		return out, nil
	case Replace:
		return given, nil
	default: // Add
		out := append([]any(nil), elems...)
		var changed []int
		for _, g := range given {
			i := indexOf(a, out, g)
			if i >= 0 {
				out[i] = mergeElement(out[i], g)
			} else {
				i = len(out)
				out = append(out, g)
			}
			changed = append(changed, i)
		}
		return settlePrimary(out, changed), nil
	}
}

// applyFiltered handles attr[filter] and attr[filter].sub.
func applyFiltered(a *schema.Attribute, f filter.Expr, sub *schema.Attribute, cur any, op Op, v any) (any, error) {
	elems, _ := cur.([]any)
	var matched []int
	for i, e := range elems {
		if m, ok := e.(map[string]any); ok && filter.MatchElement(f, m, a) {
			matched = append(matched, i)
		}
	}
	out := append([]any(nil), elems...)
	if op == Remove {
		drop := map[int]bool{}
		for _, i := range matched {
			if sub == nil {
				drop[i] = true
				continue
			}
			m := out[i].(map[string]any)
			if v != nil && !equalScalar(sub, m[sub.Name], v) {
				continue // Entra names the old value; another one is not it
			}
			nm := cloneShallow(m)
			delete(nm, sub.Name)
			if onlyMetadata(nm) {
				drop[i] = true
			} else {
				out[i] = nm
			}
		}
		kept := out[:0]
		for i, e := range out {
			if !drop[i] {
				kept = append(kept, e)
			}
		}
		return kept, nil
	}
	var nv any
	var err error
	if sub != nil {
		nv, _, err = resource.NormalizeValue(sub, v, a.Name+"."+sub.Name)
	} else {
		one := *a // one element of a, to normalize as a single value
		one.MultiValued = false
		nv, _, err = resource.NormalizeValue(&one, v, a.Name)
	}
	if err != nil {
		return nil, err
	}
	if len(matched) == 0 {
		// Entra adds a work email, phone or address with
		// emails[type eq "work"].value even when none exists yet; the
		// filter's equality clauses describe the element to create
		// (https://github.com/wireapp/wire-server/pull/5419).
		elem, ok := elementFromFilter(a, f)
		if !ok {
			return nil, scim.BadRequest(scim.NoTarget, "no value of %q matches the filter %s", a.Name, f.String())
		}
		if sub != nil {
			elem[sub.Name] = nv
		} else if nm, ok := nv.(map[string]any); ok {
			for k, sv := range nm {
				elem[k] = sv
			}
		}
		if ps := a.SubAttribute("primary"); ps != nil && !anyPrimary(out) {
			if _, set := elem[ps.Name]; !set {
				elem[ps.Name] = true
			}
		}
		out = append(out, elem)
		return settlePrimary(out, []int{len(out) - 1}), nil
	}
	for _, i := range matched {
		m := out[i].(map[string]any)
		var nm map[string]any
		switch {
		case sub != nil:
			nm = cloneShallow(m)
			nm[sub.Name] = nv
		case op == Replace:
			// Replacing a selected element replaces it whole (RFC 7644
			// §3.5.2.3, the "entire work address" example).
			nm, _ = nv.(map[string]any)
		default:
			nm = cloneShallow(m)
			if given, ok := nv.(map[string]any); ok {
				for k, sv := range given {
					nm[k] = sv
				}
			}
		}
		out[i] = nm
	}
	return settlePrimary(out, matched), nil
}

// elementFromFilter builds the element a filter of equality clauses joined
// by "and" describes, e.g. {"type": "work"} from type eq "work". It reports
// false for any other filter, which does not say what to create.
func elementFromFilter(a *schema.Attribute, f filter.Expr) (map[string]any, bool) {
	elem := map[string]any{}
	var walk func(filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch e := e.(type) {
		case *filter.Logical:
			return e.Op == filter.And && walk(e.Left) && walk(e.Right)
		case *filter.Compare:
			sub := a.SubAttribute(e.Path.Name)
			if e.Op != filter.Eq || e.Path.URN != "" || e.Path.Sub != "" || sub == nil {
				return false
			}
			var v any
			switch e.Value.Kind {
			case filter.StringValue:
				v = e.Value.Str
			case filter.BoolValue:
				v = e.Value.Bool
			case filter.NumberValue:
				v = json.Number(e.Value.Str)
			default:
				return false
			}
			nv, keep, err := resource.NormalizeValue(sub, v, a.Name+"."+sub.Name)
			if err != nil || !keep {
				return false
			}
			elem[sub.Name] = nv
			return true
		}
		return false
	}
	return elem, walk(f)
}

// onlyMetadata reports whether an element has lost everything but the
// sub-attributes that describe a value (type, primary, display), so that
// removing its value removes it.
func onlyMetadata(m map[string]any) bool {
	for k := range m {
		switch strings.ToLower(k) {
		case "type", "primary", "display":
		default:
			return false
		}
	}
	return true
}

func anyPrimary(elems []any) bool {
	for _, e := range elems {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			return true
		}
	}
	return false
}

// settlePrimary keeps "primary" unique: when one of the changed elements
// (by index) is primary, every other element stops being primary (RFC 7644
// §3.5.2). The last changed primary element wins.
func settlePrimary(elems []any, changed []int) []any {
	winner := -1
	for _, i := range changed {
		if m, ok := elems[i].(map[string]any); ok && m["primary"] == true {
			winner = i
		}
	}
	if winner < 0 {
		return elems
	}
	for i, e := range elems {
		if m, ok := e.(map[string]any); ok && i != winner && m["primary"] == true {
			nm := cloneShallow(m)
			nm["primary"] = false
			elems[i] = nm
		}
	}
	return elems
}

// indexOf finds the element of elems that g identifies (see sameElement).
func indexOf(a *schema.Attribute, elems []any, g any) int {
	for i, e := range elems {
		if sameElement(a, e, g) {
			return i
		}
	}
	return -1
}

func containsElement(a *schema.Attribute, given []any, e any) bool {
	return indexOf(a, given, e) >= 0
}

// sameElement reports whether two values of attribute a denote the same
// thing: for complex values with a "value" sub-attribute, equal values (and
// equal types, when both have one), so that re-adding a member or an email
// does not duplicate it; for other values, equality.
func sameElement(a *schema.Attribute, x, y any) bool {
	if a.Type != schema.Complex {
		return equalScalar(a, x, y)
	}
	xm, ok1 := x.(map[string]any)
	ym, ok2 := y.(map[string]any)
	if !ok1 || !ok2 {
		return false
	}
	valueSub := a.SubAttribute("value")
	if valueSub == nil {
		return reflect.DeepEqual(xm, ym)
	}
	xv, ok1 := xm[valueSub.Name]
	yv, ok2 := ym[valueSub.Name]
	if !ok1 || !ok2 || !equalScalar(valueSub, xv, yv) {
		return false
	}
	if typeSub := a.SubAttribute("type"); typeSub != nil {
		xt, ok1 := xm[typeSub.Name]
		yt, ok2 := ym[typeSub.Name]
		if ok1 && ok2 && !equalScalar(typeSub, xt, yt) {
			return false
		}
	}
	return true
}

func mergeElement(cur, g any) any {
	cm, ok1 := cur.(map[string]any)
	gm, ok2 := g.(map[string]any)
	if !ok1 || !ok2 {
		return g
	}
	out := cloneShallow(cm)
	for k, v := range gm {
		out[k] = v
	}
	return out
}

// equalScalar compares two simple values of attribute a: strings honour
// caseExact, numbers compare by value.
func equalScalar(a *schema.Attribute, x, y any) bool {
	switch xv := x.(type) {
	case string:
		yv, ok := y.(string)
		if !ok {
			return false
		}
		if a.CaseExact {
			return xv == yv
		}
		return strings.EqualFold(xv, yv)
	case json.Number:
		yv, ok := y.(json.Number)
		if !ok {
			return false
		}
		xf, ok1 := new(big.Float).SetString(string(xv))
		yf, ok2 := new(big.Float).SetString(string(yv))
		return ok1 && ok2 && xf.Cmp(yf) == 0
	default:
		return reflect.DeepEqual(x, y)
	}
}
