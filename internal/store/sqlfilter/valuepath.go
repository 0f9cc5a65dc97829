package sqlfilter

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// valuePath translates attr[filter]: some element of attr passes filter.
func (tr *translator) valuePath(vp *filter.ValuePath) (*node, error) {
	r := tr.resolve(vp.Attr)
	switch r.kind {
	case refMembers, refGroups:
		pred, err := tr.elemTree(vp.Filter, func(c *filter.Compare) (*node, error) { return tr.membershipElem(r, c) })
		if err != nil {
			return nil, err
		}
		return tr.membershipExists(r, pred), nil
	case refMeta:
		// meta is one object every resource has, so "some element
		// passes" is "meta passes": the filter's paths become meta.sub.
		return tr.expr(metaPaths(vp.Filter))
	case refID:
		return falseNode, nil
	case refExtension:
		return nil, store.Errorf(store.ErrUnsupportedFilter, "invalid filter: a value filter on the whole extension %q is not supported; filter its attributes instead", r.ext.ID)
	}
	if r.def != nil && r.def.Type != schema.Complex {
		// filter.Match looks for objects among the values, and a
		// simple attribute has none.
		return falseNode, nil
	}
	pred, err := tr.elemTree(vp.Filter, func(c *filter.Compare) (*node, error) { return tr.elemCompare(r, c), nil })
	if err != nil {
		return nil, err
	}
	return tr.elements(r, pred), nil
}

// elemTree translates a value filter into a tree of element-level leaves
// made by leafOf.
func (tr *translator) elemTree(e filter.Expr, leafOf func(*filter.Compare) (*node, error)) (*node, error) {
	switch x := e.(type) {
	case *filter.Logical:
		if x == nil {
			return falseNode, nil
		}
		l, err := tr.elemTree(x.Left, leafOf)
		if err != nil {
			return nil, err
		}
		r, err := tr.elemTree(x.Right, leafOf)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case filter.And:
			return andNode(l, r), nil
		case filter.Or:
			return orNode(l, r), nil
		}
		return falseNode, nil
	case *filter.Not:
		if x == nil {
			return falseNode, nil
		}
		n, err := tr.elemTree(x.X, leafOf)
		if err != nil {
			return nil, err
		}
		return notNode(n), nil
	case *filter.Compare:
		if x == nil {
			return falseNode, nil
		}
		return leafOf(x)
	}
	// Value filters do not nest; the parser refuses them.
	return falseNode, nil
}

// elemCompare translates a comparison inside a value filter on the
// attribute r, about the element aliased by the leaf's row.
func (tr *translator) elemCompare(r ref, c *filter.Compare) *node {
	if c.Path.Sub != "" {
		// A sub-attribute of a sub-attribute: nothing is there.
		return nilSlots(c)
	}
	path := r.path + "." + strings.ToLower(c.Path.Name)
	var def *schema.Attribute
	if r.def != nil {
		if def = r.def.SubAttribute(c.Path.Name); def == nil {
			return nilSlots(c)
		}
		path = r.path + "." + strings.ToLower(def.Name)
	}
	paths := pathSel{exact: []string{path}}
	has := func() *node { return tr.exists(&avSet{paths: paths, test: anyTest}) }
	switch {
	case c.Op == filter.Pr:
		return tr.exists(&avSet{paths: paths, test: presentTest})
	case c.Value.Kind == filter.NullValue:
		switch c.Op {
		case filter.Eq:
			return notNode(has())
		case filter.Ne:
			return has()
		}
		return falseNode
	}
	vt := valueTestOf(def, c.Op, c.Value)
	match := falseNode
	if !vt.never {
		match = tr.exists(&avSet{paths: paths, test: vt})
	}
	if c.Op != filter.Ne {
		return match
	}
	return orNode(notNode(has()), match)
}

var anyTest = valueTest{score: scorePresent + scoreCommon}

// elements is the resource-level condition "some element of r passes pred".
// Each alternative of an or is searched on its own; within one, the most
// selective comparison drives the search and the others are checked on the
// element it finds, so emails[type eq "work" and value eq "x"] looks up
// "x" and then checks that element's type, never the reverse.
func (tr *translator) elements(r ref, pred *node) *node {
	if pred.kind == nOr {
		alts := make([]*node, len(pred.kids))
		for i, k := range pred.kids {
			alts[i] = tr.elementsAll(r, k)
		}
		return orNode(alts...)
	}
	return tr.elementsAll(r, pred)
}

func (tr *translator) elementsAll(r ref, pred *node) *node {
	if pred.kind == nFalse {
		return falseNode
	}
	conj := conjuncts(pred)
	best := -1
	for i, k := range conj {
		if k.drive != nil && (best < 0 || k.score < conj[best].score) {
			best = i
		}
	}
	// Without a driver, every element is a candidate: the rows of the
	// attribute's sub-attributes (filter.Match only looks at objects).
	driver := &avSet{paths: pathSel{under: r.path + "."}}
	if best >= 0 {
		driver = conj[best].drive
		conj = append(conj[:best:best], conj[best+1:]...)
	}
	rest := andNode(conj...)
	return &node{kind: nLeaf, inRID: true, emit: func(b *Builder, res string) string {
		d := tr.alias("d")
		from, where := tr.source(b, driver, d)
		if rest.kind != nTrue {
			where += " AND " + tr.render(b, rest, d)
		}
		return res + ".rid IN (SELECT " + d + ".rid FROM " + from + " WHERE " + where + ")"
	}}
}

// conjuncts returns the operands of an and, or n itself.
func conjuncts(n *node) []*node {
	switch n.kind {
	case nAnd:
		return append([]*node(nil), n.kids...)
	case nTrue:
		return nil
	}
	return []*node{n}
}

// metaPaths rewrites a value filter on meta into a filter on meta's
// sub-attributes.
func metaPaths(e filter.Expr) filter.Expr {
	switch x := e.(type) {
	case *filter.Logical:
		if x == nil {
			return x
		}
		return &filter.Logical{Op: x.Op, Left: metaPaths(x.Left), Right: metaPaths(x.Right)}
	case *filter.Not:
		if x == nil {
			return x
		}
		return &filter.Not{X: metaPaths(x.X)}
	case *filter.Compare:
		if x == nil {
			return x
		}
		if x.Path.Sub != "" {
			// Nothing is below a sub-attribute; name a path that holds
			// no value, so the comparison sees an absent one.
			return &filter.Compare{Path: filter.AttrPath{Name: "meta", Sub: "\x00"}, Op: x.Op, Value: x.Value}
		}
		return &filter.Compare{Path: filter.AttrPath{Name: "meta", Sub: x.Path.Name}, Op: x.Op, Value: x.Value}
	}
	return nil // a nested value filter, which matches nothing
}
