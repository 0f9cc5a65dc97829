package sqlfilter

import (
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// Target is where a translated condition applies: the resources row of the
// enclosing query and the tenant and resource type it is restricted to.
type Target struct {
	Type *schema.ResourceType
	// Alias is the alias of the resources table in the enclosing query.
	Alias string
	// TenantArg and TypeArg are placeholders already bound to the tenant
	// id and the resource type name; the translation reuses them.
	TenantArg, TypeArg string
}

// Condition is a translated filter.
type Condition struct {
	// SQL is a condition on the Target's row; it is never NULL.
	SQL string
	// Indexed reports that SQL holds only for rows whose rid comes out of
	// an index-driven subquery (r.rid IN (SELECT ...)), so that the
	// enclosing query should look rows up by rid rather than scan the
	// tenant's resources. False for conditions such as NOT (...), which
	// have to look at every resource.
	Indexed bool
}

// Where translates e, a filter on resources of t.Type, into a condition on
// t's row. Bound values go into b as arguments. A nil e gives a condition
// that is always true. The error is a *store.Error of kind
// store.ErrUnsupportedFilter for the few paths the store cannot answer (see
// the package documentation).
func Where(b *Builder, t Target, e filter.Expr) (Condition, error) {
	if e == nil {
		return Condition{SQL: b.d.Bool(true)}, nil
	}
	tr := &translator{t: t, rt: t.Type}
	n, err := tr.expr(e)
	if err != nil {
		return Condition{}, err
	}
	return Condition{SQL: tr.render(b, n, t.Alias), Indexed: n.indexed()}, nil
}

type translator struct {
	t       Target
	rt      *schema.ResourceType
	aliases int
}

// alias returns a fresh table alias, so nested subqueries never shadow the
// names their correlations refer to.
func (tr *translator) alias(prefix string) string {
	tr.aliases++
	return prefix + strconv.Itoa(tr.aliases)
}

// --- condition trees -------------------------------------------------------
//
// Conditions are built as trees first and rendered afterwards, so that
// constant parts fold away before any of their arguments are bound: an
// argument without a placeholder would make the statement fail.

type nodeKind uint8

const (
	nTrue nodeKind = iota
	nFalse
	nAnd
	nOr
	nNot
	nLeaf
)

type node struct {
	kind nodeKind
	kids []*node
	// emit writes a leaf condition; e is the alias of the row it is about
	// (the resource, or the element inside a value filter).
	emit func(b *Builder, e string) string
	// inRID marks a resource-level leaf of the form r.rid IN (SELECT ...);
	// rids writes its subquery.
	inRID bool
	rids  func(b *Builder) string
	// drive, for leaves inside a value filter, lists the rows that pass
	// the leaf, so that it can drive the element search; score says how
	// selective it is likely to be (lower is better).
	drive *avSet
	score int
	// idEq, for leaves inside a members or groups filter, is the id that
	// the element must have (an eq on value).
	idEq *string
}

var (
	trueNode  = &node{kind: nTrue}
	falseNode = &node{kind: nFalse}
)

func constNode(v bool) *node {
	if v {
		return trueNode
	}
	return falseNode
}

func andNode(kids ...*node) *node { return logical(nAnd, kids) }
func orNode(kids ...*node) *node  { return logical(nOr, kids) }

func logical(kind nodeKind, kids []*node) *node {
	absorb, unit := nFalse, nTrue
	if kind == nOr {
		absorb, unit = nTrue, nFalse
	}
	var out []*node
	for _, k := range kids {
		switch {
		case k.kind == absorb:
			return k
		case k.kind == unit:
		case k.kind == kind:
			out = append(out, k.kids...)
		default:
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return constNode(kind == nAnd)
	case 1:
		return out[0]
	}
	return &node{kind: kind, kids: out}
}

func notNode(n *node) *node {
	switch n.kind {
	case nTrue:
		return falseNode
	case nFalse:
		return trueNode
	case nNot:
		return n.kids[0]
	}
	return &node{kind: nNot, kids: []*node{n}}
}

func leaf(emit func(b *Builder, e string) string) *node {
	return &node{kind: nLeaf, emit: emit}
}

// indexed reports whether every row satisfying n comes out of an index-driven
// r.rid IN (...) leaf.
func (n *node) indexed() bool {
	switch n.kind {
	case nFalse:
		return true
	case nLeaf:
		return n.inRID
	case nAnd:
		for _, k := range n.kids {
			if k.indexed() {
				return true
			}
		}
		return false
	case nOr:
		for _, k := range n.kids {
			if !k.indexed() {
				return false
			}
		}
		return true
	}
	return false
}

// render writes n as SQL about the row aliased e. Long chains of and/or are
// written as balanced trees: SQLite limits expression depth to 1000.
func (tr *translator) render(b *Builder, n *node, e string) string {
	switch n.kind {
	case nTrue:
		return b.d.Bool(true)
	case nFalse:
		return b.d.Bool(false)
	case nLeaf:
		return n.emit(b, e)
	case nNot:
		return "NOT (" + tr.render(b, n.kids[0], e) + ")"
	}
	if n.kind == nOr {
		return tr.renderOr(b, n.kids, e)
	}
	return tr.renderList(b, n.kids, " AND ", e)
}

// maxUnion bounds the subqueries one UNION joins: SQLite allows 500.
const maxUnion = 64

// renderOr writes an or. Its rid-lookup leaves become one lookup of the
// union of their rids: a database answers "r.rid IN (A UNION B)" by index
// lookups of the rids A and B give, where "r.rid IN (A) OR r.rid IN (B)"
// makes PostgreSQL test every resource against both.
func (tr *translator) renderOr(b *Builder, kids []*node, e string) string {
	var lookups, rest []*node
	for _, k := range kids {
		if k.kind == nLeaf && k.rids != nil {
			lookups = append(lookups, k)
		} else {
			rest = append(rest, k)
		}
	}
	if len(lookups) < 2 {
		return tr.renderList(b, kids, " OR ", e)
	}
	for len(lookups) > 0 {
		chunk := lookups[:min(len(lookups), maxUnion)]
		lookups = lookups[len(chunk):]
		parts := make([]string, len(chunk))
		for i, k := range chunk {
			parts[i] = k.rids(b)
		}
		union := leaf(func(*Builder, string) string {
			return e + ".rid IN (" + strings.Join(parts, " UNION ALL ") + ")"
		})
		rest = append(rest, union)
	}
	return tr.renderList(b, rest, " OR ", e)
}

func (tr *translator) renderList(b *Builder, kids []*node, op, e string) string {
	if len(kids) == 1 {
		return tr.render(b, kids[0], e)
	}
	if len(kids) <= 4 {
		parts := make([]string, len(kids))
		for i, k := range kids {
			parts[i] = tr.render(b, k, e)
		}
		return "(" + strings.Join(parts, op) + ")"
	}
	mid := len(kids) / 2
	return "(" + tr.renderList(b, kids[:mid], op, e) + op + tr.renderList(b, kids[mid:], op, e) + ")"
}

// --- resource-level filters ------------------------------------------------

func (tr *translator) expr(e filter.Expr) (*node, error) {
	switch x := e.(type) {
	case *filter.Logical:
		if x == nil {
			return falseNode, nil
		}
		// Chains parse into left-leaning trees as long as the filter;
		// walk the spine in a loop.
		var kids []*node
		cur := filter.Expr(x)
		for {
			l, ok := cur.(*filter.Logical)
			if !ok || l == nil || l.Op != x.Op {
				n, err := tr.expr(cur)
				if err != nil {
					return nil, err
				}
				kids = append(kids, n)
				break
			}
			n, err := tr.expr(l.Right)
			if err != nil {
				return nil, err
			}
			kids = append(kids, n)
			cur = l.Left
		}
		switch x.Op {
		case filter.And:
			return andNode(kids...), nil
		case filter.Or:
			return orNode(kids...), nil
		}
		return falseNode, nil
	case *filter.Not:
		if x == nil {
			return falseNode, nil
		}
		n, err := tr.expr(x.X)
		if err != nil {
			return nil, err
		}
		return notNode(n), nil
	case *filter.Compare:
		if x == nil {
			return falseNode, nil
		}
		return tr.compare(x)
	case *filter.ValuePath:
		if x == nil || x.Filter == nil {
			return falseNode, nil
		}
		return tr.valuePath(x)
	}
	return falseNode, nil
}

// ref is what an attribute path names at the top level of a resource.
type ref struct {
	kind refKind
	path string            // attribute_values path of the attribute
	def  *schema.Attribute // nil when unknown
	ext  *schema.Schema    // for refExtension
}

type refKind uint8

const (
	refValues    refKind = iota // values in attribute_values
	refID                       // resources.id
	refMeta                     // meta, from resources columns
	refMembers                  // a Group's members, from memberships
	refGroups                   // a User's groups, from memberships
	refExtension                // a whole extension object
)

// resolve names the attribute p refers to the way filter.Match resolves it.
func (tr *translator) resolve(p filter.AttrPath) ref {
	rt := tr.rt
	s, a := rt.Resolve(p.URN, p.Name)
	if a != nil {
		if rt.IsExtension(s) {
			return ref{kind: refValues, path: strings.ToLower(s.ID) + ":" + strings.ToLower(a.Name), def: a}
		}
		if Builtin(rt, a.Name) {
			switch strings.ToLower(a.Name) {
			case "id":
				return ref{kind: refID, def: a}
			case "meta":
				return ref{kind: refMeta, def: a}
			case "members":
				return ref{kind: refMembers, def: a}
			case "groups":
				return ref{kind: refGroups, def: a}
			}
		}
		return ref{kind: refValues, path: strings.ToLower(a.Name), def: a}
	}
	if p.URN != "" {
		if p.Sub == "" {
			if s := rt.SchemaByURN(p.URN + ":" + p.Name); s != nil && rt.IsExtension(s) {
				return ref{kind: refExtension, ext: s, path: strings.ToLower(s.ID) + ":"}
			}
		}
		if !strings.EqualFold(p.URN, rt.Schema.ID) {
			return ref{kind: refValues, path: strings.ToLower(p.URN) + ":" + strings.ToLower(p.Name)}
		}
	}
	return ref{kind: refValues, path: strings.ToLower(p.Name)}
}

func (tr *translator) compare(c *filter.Compare) (*node, error) {
	r := tr.resolve(c.Path)
	switch r.kind {
	case refID:
		return tr.compareID(r, c), nil
	case refMeta:
		return tr.compareMeta(r, c)
	case refMembers, refGroups:
		return tr.compareMembership(r, c)
	case refExtension:
		return tr.compareExtension(r, c)
	}
	return tr.compareValues(r, c), nil
}

// nilSlots is the answer of c when every value it looks at is absent:
// filter.Match compares an absent value as unequal to anything.
func nilSlots(c *filter.Compare) *node {
	switch {
	case c.Op == filter.Pr:
		return falseNode
	case c.Value.Kind == filter.NullValue:
		return constNode(c.Op == filter.Eq)
	}
	return constNode(c.Op == filter.Ne)
}

// slots says where the values c compares are in attribute_values.
type slots struct {
	none  bool     // every value compared is absent
	paths []string // the paths holding the compared values
	def   *schema.Attribute
	// shape tells how a compared value can be absent while the attribute
	// is present, which ne must count as a match.
	shape slotShape
}

type slotShape uint8

const (
	shapeSimple  slotShape = iota // the values are the attribute's own: absent only when the attribute is
	shapeSingle                   // a sub-attribute of a single complex value: absent when it has no row
	shapeElement                  // a sub-attribute of each element: absent in an element without it
)

// slotsOf finds the values c compares for the attribute r (not for pr or
// null comparisons on the whole attribute, which look at the elements).
func slotsOf(r ref, sub string) slots {
	def := r.def
	if def == nil {
		if sub != "" {
			return slots{paths: []string{r.path + "." + strings.ToLower(sub)}, shape: shapeElement}
		}
		// An unknown attribute's value is compared itself, or, when it
		// is an object, by its "value" member.
		return slots{paths: []string{r.path, r.path + ".value"}, shape: shapeElement}
	}
	if def.Type != schema.Complex {
		if sub != "" {
			return slots{none: true}
		}
		return slots{paths: []string{r.path}, def: def, shape: shapeSimple}
	}
	name := sub
	if name == "" {
		name = "value"
	}
	sd := def.SubAttribute(name)
	if sd == nil {
		return slots{none: true}
	}
	shape := shapeElement
	if !def.MultiValued {
		shape = shapeSingle
	}
	return slots{paths: []string{r.path + "." + strings.ToLower(sd.Name)}, def: sd, shape: shape}
}

// compareValues translates a comparison on an attribute stored in
// attribute_values.
func (tr *translator) compareValues(r ref, c *filter.Compare) *node {
	sub := c.Path.Sub
	whole := pathSel{prefix: r.path}
	switch {
	case c.Op == filter.Pr:
		if sub == "" {
			return tr.inRows(&avSet{paths: whole, test: presentTest})
		}
		s := slotsOf(r, sub)
		if s.none {
			return falseNode
		}
		return tr.inRows(&avSet{paths: pathSel{exact: s.paths}, test: presentTest})
	case c.Value.Kind == filter.NullValue:
		var has *node
		if sub == "" {
			has = tr.inRows(&avSet{paths: whole})
		} else {
			s := slotsOf(r, sub)
			if s.none {
				return nilSlots(c)
			}
			has = tr.inRows(&avSet{paths: pathSel{exact: s.paths}})
		}
		switch c.Op {
		case filter.Eq:
			return notNode(has)
		case filter.Ne:
			return has
		}
		return falseNode
	}
	s := slotsOf(r, sub)
	if s.none {
		return nilSlots(c)
	}
	vt := valueTestOf(s.def, c.Op, c.Value)
	match := falseNode
	if !vt.never {
		match = tr.inRows(&avSet{paths: pathSel{exact: s.paths}, test: vt})
	}
	if c.Op != filter.Ne {
		return match
	}
	return orNode(tr.absentSlot(r, s), match)
}

// absentSlot is true for resources where some value s compares is absent.
func (tr *translator) absentSlot(r ref, s slots) *node {
	switch s.shape {
	case shapeSimple, shapeSingle:
		return notNode(tr.inRows(&avSet{paths: pathSel{exact: s.paths}}))
	}
	absent := notNode(tr.inRows(&avSet{paths: pathSel{prefix: r.path}}))
	lacking := &node{kind: nLeaf, emit: func(b *Builder, res string) string {
		e, x := tr.alias("e"), tr.alias("x")
		return res + ".rid IN (SELECT " + e + ".rid FROM attribute_values " + e +
			" WHERE " + tr.aidCond(b, e, pathSel{prefix: r.path}) +
			" AND NOT EXISTS (SELECT 1 FROM attribute_values " + x + " WHERE " + x + ".rid = " + e + ".rid AND " +
			x + ".elem = " + e + ".elem AND " + tr.aidCond(b, x, pathSel{exact: s.paths}) + "))"
	}}
	return orNode(absent, lacking)
}

// inRows is the resource-level condition "some row of set belongs to the
// resource".
func (tr *translator) inRows(set *avSet) *node {
	return ridLookup(func(b *Builder) string {
		a := tr.alias("a")
		from, where := tr.source(b, set, a)
		return "SELECT " + a + ".rid FROM " + from + " WHERE " + where
	})
}

// ridLookup is the resource-level leaf "the resource's rid is one of those
// the subquery rids writes".
func ridLookup(rids func(b *Builder) string) *node {
	return &node{kind: nLeaf, inRID: true, rids: rids, emit: func(b *Builder, res string) string {
		return res + ".rid IN (" + rids(b) + ")"
	}}
}

// --- attribute_values row sets ----------------------------------------------

// pathSel selects attribute paths: the exact ones, or a path and all its
// sub-attributes (prefix), or everything under an extension (under).
type pathSel struct {
	exact  []string
	prefix string
	under  string
}

// avSet is a set of attribute_values rows: those with a selected path that
// pass a value test.
type avSet struct {
	paths pathSel
	test  valueTest
}

// aidCond restricts the alias a's rows to the selected paths of the
// target's tenant and resource type.
func (tr *translator) aidCond(b *Builder, a string, ps pathSel) string {
	head := "(SELECT aid FROM attr_paths WHERE tenant_id = " + tr.t.TenantArg + " AND type = " + tr.t.TypeArg + " AND "
	switch {
	case len(ps.exact) == 1:
		return a + ".aid = " + head + "path = " + b.Arg(ps.exact[0]) + ")"
	case len(ps.exact) > 1:
		ph := make([]string, len(ps.exact))
		for i, p := range ps.exact {
			ph[i] = b.Arg(p)
		}
		return a + ".aid IN " + head + "path IN (" + strings.Join(ph, ", ") + "))"
	case ps.under != "":
		end, _ := prefixEnd(ps.under)
		return a + ".aid IN " + head + "path >= " + b.Arg(ps.under) + " AND path < " + b.Arg(end) + ")"
	}
	end, _ := prefixEnd(ps.prefix + ".")
	return a + ".aid IN " + head + "(path = " + b.Arg(ps.prefix) + " OR (path >= " + b.Arg(ps.prefix+".") +
		" AND path < " + b.Arg(end) + ")))"
}

// source writes set as a FROM clause and condition over rows aliased a,
// driven by the substring index when the test allows it.
func (tr *translator) source(b *Builder, set *avSet, a string) (from, where string) {
	from = "attribute_values " + a
	var conds []string
	if p := set.test.indexed; p != "" {
		if f, w, ok := b.d.SubstringSource(b, a, p); ok {
			from = f
			conds = append(conds, w)
		}
	}
	conds = append(conds, tr.aidCond(b, a, set.paths))
	if set.test.cond != nil {
		conds = append(conds, set.test.cond(b, a))
	}
	return from, strings.Join(conds, " AND ")
}

// exists is the element-level condition "the element aliased e has a row of
// set".
func (tr *translator) exists(set *avSet) *node {
	n := leaf(func(b *Builder, e string) string {
		x := tr.alias("x")
		s := "EXISTS (SELECT 1 FROM attribute_values " + x + " WHERE " + x + ".rid = " + e + ".rid AND " +
			x + ".elem = " + e + ".elem AND " + tr.aidCond(b, x, set.paths)
		if set.test.cond != nil {
			s += " AND " + set.test.cond(b, x)
		}
		return s + ")"
	})
	n.drive = set
	n.score = set.test.score
	return n
}

// --- value tests -------------------------------------------------------------

// valueTest is a condition on one attribute_values row's value columns.
type valueTest struct {
	never   bool                              // no row passes
	cond    func(b *Builder, a string) string // nil: every row passes
	indexed string                            // pattern the substring index can look up, "" if none
	score   int                               // expected selectivity as a driver, lower is better
}

// Driver scores: an equality on a value from an open set finds few rows; a
// test on a boolean or on a value from a short list of canonical values
// (emails.type eq "work") finds a large share of them.
const (
	scoreEq = iota
	scorePrefix
	scoreSubstring
	scoreRange
	scorePresent
	scoreScan
	scoreCommon = 10
)

var presentTest = valueTest{
	cond: func(b *Builder, a string) string {
		return "(" + a + ".val IS NULL OR " + a + ".val <> '')"
	},
	score: scorePresent + scoreCommon,
}

// valueTestOf translates "op v" on values of def, or, with def nil, on
// values of an unknown attribute, compared by the JSON type of the value.
func valueTestOf(def *schema.Attribute, op filter.Op, v filter.Value) valueTest {
	if def == nil {
		return unknownTest(op, v)
	}
	common := 0
	if def.Type == schema.Boolean || len(def.CanonicalValues) > 0 {
		common = scoreCommon
	}
	var vt valueTest
	switch def.Type {
	case schema.Boolean:
		vt = boolTest(op, v)
	case schema.Integer, schema.Decimal:
		vt = numberTest(op, v)
	case schema.String, schema.Reference, schema.Binary, schema.DateTime:
		vt = stringTest(def, op, v)
	default:
		vt = valueTest{never: true}
	}
	vt.score += common
	return vt
}

// unknownTest compares by the JSON type in the document: only rows of the
// value's own kind can pass.
func unknownTest(op filter.Op, v filter.Value) valueTest {
	var vt valueTest
	var kind Kind
	switch v.Kind {
	case filter.StringValue:
		vt, kind = stringOps(false, false, op, v.Str), KindString
	case filter.NumberValue:
		vt, kind = numberTest(op, v), KindNumber
	case filter.BoolValue:
		vt, kind = boolTest(op, v), KindBoolean
	default:
		return valueTest{never: true}
	}
	if vt.never {
		return vt
	}
	inner := vt.cond
	vt.cond = func(b *Builder, a string) string {
		s := a + ".kind = " + strconv.Itoa(int(kind))
		if inner != nil {
			s += " AND " + inner(b, a)
		}
		return s
	}
	vt.indexed = ""
	return vt
}

func boolTest(op filter.Op, v filter.Value) valueTest {
	if v.Kind != filter.BoolValue {
		return valueTest{never: true}
	}
	want := v.Bool
	switch op {
	case filter.Eq:
	case filter.Ne:
		want = !want
	default:
		return valueTest{never: true}
	}
	lit := strconv.FormatBool(want)
	return valueTest{cond: func(b *Builder, a string) string { return b.d.CompareText(b, a+".val", "=", lit) }}
}

func numberTest(op filter.Op, v filter.Value) valueTest {
	if v.Kind != filter.NumberValue {
		return valueTest{never: true}
	}
	k, ok := NumberKey(v.Str)
	if !ok {
		return valueTest{never: true}
	}
	return orderedTest(op, "num", k)
}

// orderedTest compares column col (val or num, holding keys that order as
// the values) with key.
func orderedTest(op filter.Op, col, key string) valueTest {
	var sqlOp string
	score := scoreRange
	switch op {
	case filter.Eq:
		sqlOp, score = "=", scoreEq
	case filter.Ne:
		sqlOp, score = "<>", scoreScan
	case filter.Gt:
		sqlOp = ">"
	case filter.Ge:
		sqlOp = ">="
	case filter.Lt:
		sqlOp = "<"
	case filter.Le:
		sqlOp = "<="
	default:
		return valueTest{never: true}
	}
	return valueTest{score: score, cond: func(b *Builder, a string) string {
		if col == "val" {
			return b.d.CompareText(b, a+".val", sqlOp, key)
		}
		return a + "." + col + " " + sqlOp + " " + b.Arg(key)
	}}
}

func stringTest(def *schema.Attribute, op filter.Op, v filter.Value) valueTest {
	if v.Kind != filter.StringValue {
		return valueTest{never: true}
	}
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		return stringOps(def.CaseExact, substringIndexed(def), op, v.Str)
	}
	switch def.Type {
	case schema.DateTime:
		t, err := resource.ParseDateTime(v.Str)
		if err != nil {
			return valueTest{never: true}
		}
		return orderedTest(op, "num", TimeKey(t))
	case schema.Binary:
		if op != filter.Eq && op != filter.Ne {
			return valueTest{never: true}
		}
	}
	return stringOps(def.CaseExact, false, op, v.Str)
}

// stringOps compares string rows (val) with s, ignoring case unless
// caseExact. indexed says the rows are in the substring index.
func stringOps(caseExact, indexed bool, op filter.Op, s string) valueTest {
	p := s
	if !caseExact {
		p = Fold(s)
	}
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		if p == "" {
			return valueTest{score: scoreScan, cond: func(b *Builder, a string) string { return a + ".val IS NOT NULL" }}
		}
	}
	switch op {
	case filter.Co:
		vt := valueTest{score: scoreSubstring + 2, cond: func(b *Builder, a string) string {
			return b.d.Contains(b, a+".val", p)
		}}
		if indexed {
			vt.indexed, vt.score = p, scoreSubstring
		}
		return vt
	case filter.Sw:
		return valueTest{score: scorePrefix, cond: func(b *Builder, a string) string {
			return b.d.HasPrefix(b, a+".val", p)
		}}
	case filter.Ew:
		vt := valueTest{score: scoreSubstring + 2, cond: func(b *Builder, a string) string {
			return b.d.HasSuffix(b, a+".val", p)
		}}
		if indexed {
			vt.indexed, vt.score = p, scoreSubstring
		}
		return vt
	case filter.Eq, filter.Ne:
		k, special := eqvOf(s)
		eq := func(b *Builder, a string) string {
			c := b.d.CompareText(b, a+".val", "=", p)
			switch {
			case caseExact:
				return c
			case special:
				return c + " AND " + a + ".eqv = " + b.Arg(k)
			}
			return c + " AND " + a + ".eqv IS NULL"
		}
		if op == filter.Eq {
			return valueTest{score: scoreEq, cond: eq}
		}
		return valueTest{score: scoreScan, cond: func(b *Builder, a string) string {
			return a + ".val IS NOT NULL AND NOT (" + eq(b, a) + ")"
		}}
	}
	return orderedTest(op, "val", p)
}
