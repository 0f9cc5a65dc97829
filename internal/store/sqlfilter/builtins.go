package sqlfilter

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Server-managed attributes come from columns and memberships rather than
// attribute_values. Each has exactly one value per resource (or per
// element), never empty, which keeps pr and null simple.

// inResources is the resource-level condition "the resource's own row in
// resources passes cond", written as an rid lookup so that an index on the
// column can answer it.
func (tr *translator) inResources(cond func(b *Builder, s string) string) *node {
	return ridLookup(func(b *Builder) string {
		s := tr.alias("s")
		return "SELECT " + s + ".rid FROM resources " + s + " WHERE " + s + ".tenant_id = " +
			tr.t.TenantArg + " AND " + s + ".type = " + tr.t.TypeArg + " AND " + cond(b, s)
	})
}

// compareID translates a comparison on id (resources.id).
func (tr *translator) compareID(r ref, c *filter.Compare) *node {
	if c.Path.Sub != "" {
		return nilSlots(c)
	}
	if n, ok := presentValue(c); ok {
		return n
	}
	if c.Value.Kind != filter.StringValue {
		return falseNode
	}
	caseExact := r.def.CaseExact
	col := func(s string) string {
		if caseExact {
			return s + ".id"
		}
		return foldedKey(s + ".id_key")
	}
	p := c.Value.Str
	if !caseExact {
		p = Fold(p)
	}
	if c.Op == filter.Ne {
		if caseExact {
			return leaf(func(b *Builder, res string) string { return res + ".id <> " + b.Arg(p) })
		}
		k := FoldKey(c.Value.Str)
		return leaf(func(b *Builder, res string) string { return res + ".id_key <> " + b.Arg(k) })
	}
	if c.Op == filter.Eq && !caseExact {
		k := FoldKey(c.Value.Str)
		return tr.inResources(func(b *Builder, s string) string { return s + ".id_key = " + b.Arg(k) })
	}
	cond, ok := textTest(c.Op, p)
	if !ok {
		return falseNode
	}
	if cond == nil {
		return trueNode
	}
	switch c.Op {
	case filter.Gt, filter.Ge, filter.Lt, filter.Le:
		if caseExact {
			// A range of ids on the resource's own row: with a sort by
			// id it is a range of the (tenant, type, id) index that a
			// LIMIT stops early, which is how the engine pages through
			// a directory ("id gt" the last id seen). As an rid lookup,
			// each page would first collect every id after it.
			return leaf(func(b *Builder, res string) string { return cond(b, res+".id") })
		}
	}
	return tr.inResources(func(b *Builder, s string) string { return cond(b, col(s)) })
}

// foldedKey turns a FoldKey column into the Fold form the ordered and
// substring operators compare: the two differ only in İ and ı.
func foldedKey(col string) string {
	return "replace(replace(" + col + ", 'İ', 'i'), 'ı', 'i')"
}

// presentValue answers pr and null comparisons on an attribute that always
// has one value that is not empty.
func presentValue(c *filter.Compare) (*node, bool) {
	switch {
	case c.Op == filter.Pr:
		return trueNode, true
	case c.Value.Kind == filter.NullValue:
		return constNode(c.Op == filter.Ne), true
	}
	return nil, false
}

// textTest is a comparison of a text expression with p (already folded
// when the comparison ignores case): ok is false when nothing passes, and
// the condition is nil when everything does.
func textTest(op filter.Op, p string) (func(b *Builder, col string) string, bool) {
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		if p == "" {
			return nil, true
		}
	}
	switch op {
	case filter.Co:
		return func(b *Builder, col string) string { return b.d.Contains(b, col, p) }, true
	case filter.Sw:
		return func(b *Builder, col string) string { return b.d.HasPrefix(b, col, p) }, true
	case filter.Ew:
		return func(b *Builder, col string) string { return b.d.HasSuffix(b, col, p) }, true
	}
	var sqlOp string
	switch op {
	case filter.Eq:
		sqlOp = " = "
	case filter.Ne:
		sqlOp = " <> "
	case filter.Gt:
		sqlOp = " > "
	case filter.Ge:
		sqlOp = " >= "
	case filter.Lt:
		sqlOp = " < "
	case filter.Le:
		sqlOp = " <= "
	default:
		return nil, false
	}
	return func(b *Builder, col string) string { return col + sqlOp + b.Arg(p) }, true
}

// compareMeta translates a comparison on meta or one of its
// sub-attributes.
func (tr *translator) compareMeta(r ref, c *filter.Compare) (*node, error) {
	if c.Path.Sub == "" {
		// meta is an object without a "value": present, never null,
		// and unequal to anything.
		if n, ok := presentValue(c); ok {
			return n, nil
		}
		return nilSlots(c), nil
	}
	sub := r.def.SubAttribute(c.Path.Sub)
	if sub == nil {
		return nilSlots(c), nil
	}
	switch strings.ToLower(sub.Name) {
	case "resourcetype":
		// One value per resource type: decide here, with the evaluator.
		doc := map[string]any{"meta": map[string]any{"resourceType": tr.rt.Name}}
		return constNode(filter.Match(c, doc, tr.rt)), nil
	case "created":
		return tr.compareTime("created_at", sub, c), nil
	case "lastmodified":
		return tr.compareTime("last_modified", sub, c), nil
	}
	return nil, store.Errorf(store.ErrUnsupportedFilter, "invalid filter: %s cannot be filtered on: its value is rendered by the server, not stored", c.Path)
}

// compareTime translates a comparison on a timestamp column holding the
// TimeKey text of a time to the millisecond.
func (tr *translator) compareTime(col string, def *schema.Attribute, c *filter.Compare) *node {
	if n, ok := presentValue(c); ok {
		return n
	}
	if c.Value.Kind != filter.StringValue {
		return falseNode
	}
	switch c.Op {
	case filter.Co, filter.Sw, filter.Ew:
		// Substring operators look at the text as rendered
		// (RenderedTimeLayout): the column's first 23 characters, down
		// to the milliseconds, and a "Z". The text is ASCII, so lower()
		// folds it when the attribute is not caseExact.
		p := c.Value.Str
		expr := func(s string) string { return "(substr(" + s + "." + col + ", 1, 23) || 'Z')" }
		if !def.CaseExact {
			p, expr = Fold(p), func(s string) string { return "lower(substr(" + s + "." + col + ", 1, 23) || 'Z')" }
		}
		cond, _ := textTest(c.Op, p)
		if cond == nil {
			return trueNode
		}
		return tr.inResources(func(b *Builder, s string) string { return cond(b, expr(s)) })
	}
	t, err := resource.ParseDateTime(c.Value.Str)
	if err != nil {
		return falseNode
	}
	cond, ok := textTest(c.Op, TimeKey(t))
	if !ok {
		return falseNode
	}
	if c.Op == filter.Ne {
		return leaf(func(b *Builder, res string) string { return cond(b, res+"."+col) })
	}
	return tr.inResources(func(b *Builder, s string) string { return cond(b, s+"."+col) })
}

// compareExtension translates a comparison on a whole extension object
// ("urn:...:enterprise:2.0:User pr").
func (tr *translator) compareExtension(r ref, c *filter.Compare) (*node, error) {
	under := pathSel{under: r.path}
	switch {
	case c.Op == filter.Pr:
		// pr looks two levels into the object: a value, or an element
		// of a multi-valued complex attribute that has any member.
		n := tr.inRows(&avSet{paths: under, test: presentTest})
		for _, a := range r.ext.Attributes {
			if a.MultiValued && a.Type == schema.Complex {
				n = orNode(n, tr.inRows(&avSet{paths: pathSel{prefix: r.path + strings.ToLower(a.Name)}}))
			}
		}
		return n, nil
	case c.Value.Kind == filter.NullValue:
		has := tr.inRows(&avSet{paths: under})
		switch c.Op {
		case filter.Eq:
			return notNode(has), nil
		case filter.Ne:
			return has, nil
		}
		return falseNode, nil
	}
	if r.ext.Attribute("value") != nil {
		return nil, store.Errorf(store.ErrUnsupportedFilter, "invalid filter: comparing the whole extension %q is not supported; filter its attributes instead", r.ext.ID)
	}
	// Compared as a whole, an object stands for its "value", which an
	// extension without such an attribute lacks.
	return nilSlots(c), nil
}

// --- memberships ---------------------------------------------------------

// membership describes memberships seen from the resource: a group's
// members (self is group_rid), or a user's groups (self is member_rid).
func membershipCols(r ref) (self, other string) {
	if r.kind == refMembers {
		return "group_rid", "member_rid"
	}
	return "member_rid", "group_rid"
}

// compareMembership translates a comparison on members or groups, whose
// elements are the resource's memberships, each with a value (the other
// resource's id) and, for members, a type.
func (tr *translator) compareMembership(r ref, c *filter.Compare) (*node, error) {
	sub := c.Path.Sub
	if sub == "" {
		switch {
		case c.Op == filter.Pr:
			return tr.membershipExists(r, trueNode), nil
		case c.Value.Kind == filter.NullValue:
			has := tr.membershipExists(r, trueNode)
			switch c.Op {
			case filter.Eq:
				return notNode(has), nil
			case filter.Ne:
				return has, nil
			}
			return falseNode, nil
		}
		// Compared as a whole, an element stands for its value.
		sub = "value"
	}
	elem := &filter.Compare{Path: filter.AttrPath{Name: sub}, Op: c.Op, Value: c.Value}
	switch {
	case c.Value.Kind == filter.NullValue && c.Op == filter.Eq:
		// No element has a value.
		elem.Op = filter.Ne
		n, err := tr.membershipElem(r, elem)
		if err != nil {
			return nil, err
		}
		return notNode(tr.membershipExists(r, n)), nil
	}
	n, err := tr.membershipElem(r, elem)
	if err != nil {
		return nil, err
	}
	some := tr.membershipExists(r, n)
	if c.Op == filter.Ne && c.Value.Kind != filter.NullValue {
		// Without elements the one value compared is absent, and
		// absent is unequal to anything.
		return orNode(notNode(tr.membershipExists(r, trueNode)), some), nil
	}
	return some, nil
}

// membershipElem translates a comparison on one membership element; its
// leaves are conditions on the other resource's row.
func (tr *translator) membershipElem(r ref, c *filter.Compare) (*node, error) {
	if c.Path.Sub != "" {
		return nilSlots(c), nil
	}
	sub := r.def.SubAttribute(c.Path.Name)
	if sub == nil {
		return nilSlots(c), nil
	}
	switch strings.ToLower(sub.Name) {
	case "value":
		return idElem(sub, c), nil
	case "type":
		if r.kind == refMembers {
			// Two possible values: let the evaluator decide each.
			var types []string
			for _, t := range []string{store.UserType, store.GroupType} {
				if filter.MatchElement(c, map[string]any{sub.Name: t}, r.def) {
					types = append(types, t)
				}
			}
			switch len(types) {
			case 0:
				return falseNode, nil
			case 2:
				return trueNode, nil
			}
			return leaf(func(b *Builder, e string) string { return e + ".type = " + b.Arg(types[0]) }), nil
		}
	}
	return nil, store.Errorf(store.ErrUnsupportedFilter, "invalid filter: %s.%s cannot be filtered on: its value is rendered by the server, not stored", r.def.Name, sub.Name)
}

// idElem compares the id of a membership's other resource.
func idElem(def *schema.Attribute, c *filter.Compare) *node {
	if n, ok := presentValue(c); ok {
		return n
	}
	if c.Value.Kind != filter.StringValue {
		return falseNode
	}
	if def.CaseExact {
		cond, ok := textTest(c.Op, c.Value.Str)
		if !ok {
			return falseNode
		}
		if cond == nil {
			return trueNode
		}
		return leaf(func(b *Builder, e string) string { return cond(b, e+".id") })
	}
	switch c.Op {
	case filter.Eq:
		k := FoldKey(c.Value.Str)
		n := leaf(func(b *Builder, e string) string { return e + ".id_key = " + b.Arg(k) })
		n.idEq = &k
		return n
	case filter.Ne:
		k := FoldKey(c.Value.Str)
		return leaf(func(b *Builder, e string) string { return e + ".id_key <> " + b.Arg(k) })
	}
	cond, ok := textTest(c.Op, Fold(c.Value.Str))
	if !ok {
		return falseNode
	}
	if cond == nil {
		return trueNode
	}
	return leaf(func(b *Builder, e string) string { return cond(b, foldedKey(e+".id_key")) })
}

// membershipExists is the resource-level condition "some membership
// element passes pred". An alternative with an id equality is looked up
// by that id through the (tenant_id, id_key) index and then the
// memberships index; the rest are checked per resource.
func (tr *translator) membershipExists(r ref, pred *node) *node {
	if pred.kind == nOr {
		alts := make([]*node, len(pred.kids))
		for i, k := range pred.kids {
			alts[i] = tr.membershipExistsAll(r, k)
		}
		return orNode(alts...)
	}
	return tr.membershipExistsAll(r, pred)
}

func (tr *translator) membershipExistsAll(r ref, pred *node) *node {
	if pred.kind == nFalse {
		return falseNode
	}
	self, other := membershipCols(r)
	conj := conjuncts(pred)
	for i, k := range conj {
		if k.idEq == nil {
			continue
		}
		rest := andNode(append(conj[:i:i], conj[i+1:]...)...)
		return &node{kind: nLeaf, inRID: true, emit: func(b *Builder, res string) string {
			m, e := tr.alias("m"), tr.alias("o")
			s := res + ".rid IN (SELECT " + m + "." + self + " FROM resources " + e + " JOIN memberships " + m +
				" ON " + m + "." + other + " = " + e + ".rid WHERE " + e + ".tenant_id = " + tr.t.TenantArg +
				" AND " + k.emit(b, e)
			if rest.kind != nTrue {
				s += " AND " + tr.render(b, rest, e)
			}
			return s + ")"
		}}
	}
	return leaf(func(b *Builder, res string) string {
		m, e := tr.alias("m"), tr.alias("o")
		s := "EXISTS (SELECT 1 FROM memberships " + m
		if pred.kind != nTrue {
			s += " JOIN resources " + e + " ON " + e + ".rid = " + m + "." + other
		}
		s += " WHERE " + m + "." + self + " = " + res + ".rid"
		if pred.kind != nTrue {
			s += " AND " + tr.render(b, pred, e)
		}
		return s + ")"
	})
}
