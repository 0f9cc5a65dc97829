package ldapsource

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Mapping is a source's compiled mapping: a preset with a configuration's
// changes, checked against the SCIM User and Group schemas. It turns LDAP
// entries into SCIM documents, and tells which attributes of a stored
// document are the source's (the mapped ones) and which are not.
type Mapping struct {
	preset      Preset
	disabled    Disabled
	users       []*slot
	groups      []*slot
	manager     *slot // the user slot with the DNRef transform, if mapped
	userType    *schema.ResourceType
	groupType   *schema.ResourceType
	userAttrs   []string // the LDAP attributes a user search asks for
	groupAttrs  []string
	memberAttr  string
	userFilter  string
	groupFilter string
}

// slot is one mapped SCIM attribute: a top-level or extension attribute, a
// sub-attribute of a single-valued complex one, or the elements of a
// multi-valued one that a filter of fixed sub-attribute values selects.
type slot struct {
	key    string // canonical, for matching overrides to preset rules
	ext    string // the extension's URN; "" for the core schema
	attr   *schema.Attribute
	sub    *schema.Attribute // the sub-attribute the LDAP value goes to
	filter filter.Expr       // multi-valued: which elements are the slot's
	fixed  map[string]any    // multi-valued: the sub-attribute values filter fixes
	rules  []Rule            // alternatives, in order
}

// Compile checks cfg's preset and mapping changes against the SCIM schemas
// and returns the mapping. Its errors name the field and the rule.
func Compile(cfg Config) (*Mapping, error) {
	p, err := presetNamed(cfg.preset())
	if err != nil {
		return nil, fmt.Errorf("Preset: %w", err)
	}
	catalog := schema.Builtin()
	m := &Mapping{
		preset:      p,
		disabled:    p.Disabled,
		userType:    catalog.ResourceType(store.UserType),
		groupType:   catalog.ResourceType(store.GroupType),
		memberAttr:  p.MemberAttribute,
		userFilter:  p.UserFilter,
		groupFilter: p.GroupFilter,
	}
	if cfg.MemberAttribute != "" {
		m.memberAttr = cfg.MemberAttribute
	}
	if cfg.UserFilter != "" {
		m.userFilter = cfg.UserFilter
	}
	if cfg.GroupFilter != "" {
		m.groupFilter = cfg.GroupFilter
	}
	var errs []error
	m.users, err = compileSlots(m.userType, p.Users, cfg.UserMapping, "UserMapping")
	errs = append(errs, err)
	m.groups, err = compileSlots(m.groupType, p.Groups, cfg.GroupMapping, "GroupMapping")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !m.hasPath(m.users, "username") {
		return nil, errors.New(`UserMapping: nothing maps userName, which every SCIM user needs; add a rule such as {Path: "userName", Attribute: "uid"}`)
	}
	if !m.hasPath(m.groups, "displayname") {
		return nil, errors.New(`GroupMapping: nothing maps displayName, which every SCIM group needs; add a rule such as {Path: "displayName", Attribute: "cn"}`)
	}
	for _, s := range m.users {
		if s.rules[0].Transform == DNRef {
			m.manager = s
		}
	}
	m.userAttrs = attributeList(m.users, p.IDAttribute, m.disabled.Attribute, p.ChangeAttribute)
	m.groupAttrs = attributeList(m.groups, p.IDAttribute, m.memberAttr, p.ChangeAttribute)
	return m, nil
}

func (m *Mapping) hasPath(slots []*slot, key string) bool {
	for _, s := range slots {
		if s.key == key {
			return true
		}
	}
	return false
}

func attributeList(slots []*slot, extra ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if a != "" && !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	for _, a := range extra {
		add(a)
	}
	for _, s := range slots {
		for _, r := range s.rules {
			add(r.Attribute)
		}
	}
	return out
}

// compileSlots compiles the preset's rules and the configuration's
// changes, then lets every slot a change names come from the changes alone
// (none, when its changes have no attribute).
func compileSlots(rt *schema.ResourceType, preset, changes []Rule, field string) ([]*slot, error) {
	base, err := groupSlots(rt, preset, "preset")
	if err != nil {
		return nil, err
	}
	var keep []Rule
	for _, r := range changes {
		if r.Attribute != "" {
			keep = append(keep, r)
		}
	}
	changed, err := groupSlots(rt, changes, field)
	if err != nil {
		return nil, err
	}
	replacements, err := groupSlots(rt, keep, field)
	if err != nil {
		return nil, err
	}
	removed := map[string]bool{}
	for _, s := range changed {
		removed[s.key] = true
	}
	out := slices.DeleteFunc(base, func(s *slot) bool { return removed[s.key] })
	return append(out, replacements...), nil
}

// groupSlots compiles rules into slots, the rules of one path becoming one
// slot's alternatives in their order.
func groupSlots(rt *schema.ResourceType, rules []Rule, field string) ([]*slot, error) {
	var slots []*slot
	byKey := map[string]*slot{}
	var errs []error
	for i, r := range rules {
		s, err := compileSlot(rt, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", field, i, err))
			continue
		}
		have := byKey[s.key]
		if have == nil {
			byKey[s.key] = s
			slots = append(slots, s)
			continue
		}
		if r.Attribute != "" && r.Transform != have.rules[0].Transform {
			errs = append(errs, fmt.Errorf("%s[%d]: the rules for %s disagree on their transform", field, i, r.Path))
			continue
		}
		have.rules = append(have.rules, r)
	}
	return slots, errors.Join(errs...)
}

// reserved are the SCIM attributes no rule may map: the server's own, the
// ownership marker (externalId), active (Disabled decides it) and members
// (the member attribute's DNs decide them).
var reserved = map[string]string{
	"id":         "it is the directory's own",
	"meta":       "it is the directory's own",
	"groups":     "it is the directory's own",
	"externalid": "it records which source owns the object (see the package documentation)",
	"active":     "the preset's Disabled rule decides it",
	"members":    "the member attribute's DNs decide them",
	"password":   "Ferry keeps no passwords",
}

func compileSlot(rt *schema.ResourceType, r Rule) (*slot, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rule %s <- %s: %s", r.Path, r.Attribute, fmt.Sprintf(format, args...))
	}
	p, err := filter.ParsePath(r.Path)
	if err != nil {
		return nil, bad("%v", err)
	}
	sch, attr := rt.Resolve(p.Attr.URN, p.Attr.Name)
	if attr == nil {
		return nil, bad("%s has no attribute %q", rt.Name, p.Attr.String())
	}
	if why, ok := reserved[strings.ToLower(attr.Name)]; ok && sch == rt.Schema {
		return nil, bad("%s cannot be mapped: %s", attr.Name, why)
	}
	if attr.Mutability == schema.ReadOnly {
		return nil, bad("%s is read-only", attr.Name)
	}
	s := &slot{attr: attr, rules: []Rule{r}}
	if sch != rt.Schema {
		s.ext = sch.ID
	}
	switch {
	case attr.MultiValued:
		if attr.Type != schema.Complex || p.Filter == nil || p.Sub == "" {
			return nil, bad(`%s is multi-valued: choose its element and sub-attribute, e.g. %s[type eq "work"].value`, attr.Name, attr.Name)
		}
		if s.sub = attr.SubAttribute(p.Sub); s.sub == nil {
			return nil, bad("%s has no sub-attribute %q", attr.Name, p.Sub)
		}
		s.filter = p.Filter
		s.fixed = map[string]any{}
		if err := fixedValues(p.Filter, attr, s.fixed); err != nil {
			return nil, bad("%v", err)
		}
		if _, ok := s.fixed[s.sub.Name]; ok {
			return nil, bad("the filter fixes %s, which the LDAP value fills", s.sub.Name)
		}
	case p.Filter != nil:
		return nil, bad("%s is single-valued; a filter selects elements of multi-valued attributes only", attr.Name)
	case attr.Type == schema.Complex:
		sub := p.Attr.Sub
		if sub == "" && r.Transform == DNRef {
			sub = "value"
		}
		if s.sub = attr.SubAttribute(sub); s.sub == nil {
			return nil, bad("%s is complex: name a sub-attribute, e.g. %s.%s", attr.Name, attr.Name, attr.SubAttributes[0].Name)
		}
	case p.Attr.Sub != "":
		return nil, bad("%s has no sub-attributes", attr.Name)
	}
	target := attr
	if s.sub != nil {
		target = s.sub
	}
	if target.Mutability == schema.ReadOnly {
		return nil, bad("%s is read-only", target.Name)
	}
	switch r.Transform {
	case AsText:
		switch target.Type {
		case schema.String, schema.Reference, schema.Boolean, schema.Integer, schema.Decimal, schema.Binary:
		default:
			return nil, bad("%s is of type %s, which LDAP values are not converted to", target.Name, target.Type)
		}
	case GUID:
		if target.Type != schema.String {
			return nil, bad("the guid transform gives a string; %s is of type %s", target.Name, target.Type)
		}
	case DNRef:
		if s.ext == "" || attr.Name != "manager" || s.sub.Name != "value" {
			return nil, bad("the dn transform applies to the enterprise manager only")
		}
	default:
		return nil, bad("unknown transform %q; use %q, %q or %q", r.Transform, AsText, GUID, DNRef)
	}
	if r.Attribute != "" {
		if _, err := ldap.CompileFilter("(" + r.Attribute + "=*)"); err != nil || strings.ContainsAny(r.Attribute, "()=*") {
			return nil, bad("%q is not an LDAP attribute name", r.Attribute)
		}
	}
	s.key = strings.ToLower(s.ext + ":" + attr.Name)
	if s.sub != nil {
		s.key += "." + strings.ToLower(s.sub.Name)
	}
	if s.filter != nil {
		s.key += "[" + strings.ToLower(s.filter.String()) + "]"
	}
	s.key = strings.TrimPrefix(s.key, ":")
	return s, nil
}

// fixedValues collects the sub-attribute values a value filter made of eq
// comparisons joined by and fixes.
func fixedValues(e filter.Expr, attr *schema.Attribute, into map[string]any) error {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op != filter.And {
			return errors.New(`the filter may only join comparisons with "and"`)
		}
		if err := fixedValues(e.Left, attr, into); err != nil {
			return err
		}
		return fixedValues(e.Right, attr, into)
	case *filter.Compare:
		sub := attr.SubAttribute(e.Path.Name)
		if e.Op != filter.Eq || sub == nil || e.Path.Sub != "" {
			return fmt.Errorf("the filter may only fix sub-attributes of %s with eq, as in type eq \"work\"", attr.Name)
		}
		// A compValue is a JSON literal (RFC 7644 §3.4.2.2), and the
		// value's String writes it back as one.
		dec := json.NewDecoder(strings.NewReader(e.Value.String()))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || v == nil {
			return fmt.Errorf("%s cannot be fixed to %s", sub.Name, e.Value)
		}
		if _, dup := into[sub.Name]; dup {
			return fmt.Errorf("the filter fixes %s twice", sub.Name)
		}
		into[sub.Name] = v
		return nil
	}
	return fmt.Errorf("the filter may only fix sub-attributes of %s with eq, joined by and", attr.Name)
}

// container returns the map s's attribute lives in: doc, or the extension's
// object (created when create is set).
func (s *slot) container(doc resource.Document, create bool) map[string]any {
	if s.ext == "" {
		return doc
	}
	if m, ok := doc[s.ext].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	doc[s.ext] = m
	return m
}

// get returns the slot's value in doc: a scalar, or for a multi-valued
// attribute the selected elements; nil when absent.
func (s *slot) get(doc resource.Document) any {
	c := s.container(doc, false)
	if c == nil {
		return nil
	}
	v := c[s.attr.Name]
	switch {
	case s.filter != nil:
		elems, _ := v.([]any)
		var out []any
		for _, e := range elems {
			if m, ok := e.(map[string]any); ok && filter.MatchElement(s.filter, m, s.attr) {
				out = append(out, m)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case s.sub != nil:
		m, _ := v.(map[string]any)
		if sv, ok := m[s.sub.Name]; ok {
			return sv
		}
		return nil
	}
	return v
}

// set makes v (as get returns it; nil for none) the slot's value in doc,
// leaving everything else in doc as it was.
func (s *slot) set(doc resource.Document, v any) {
	c := s.container(doc, v != nil)
	if c == nil {
		return
	}
	switch {
	case s.filter != nil:
		old, _ := c[s.attr.Name].([]any)
		kept := make([]any, 0, len(old))
		for _, e := range old {
			if m, ok := e.(map[string]any); ok && filter.MatchElement(s.filter, m, s.attr) {
				continue
			}
			kept = append(kept, e)
		}
		if add, ok := v.([]any); ok {
			kept = append(kept, add...)
		}
		if len(kept) == 0 {
			delete(c, s.attr.Name)
		} else {
			c[s.attr.Name] = kept
		}
	case s.sub != nil:
		m, _ := c[s.attr.Name].(map[string]any)
		if v == nil {
			delete(m, s.sub.Name)
			if len(m) == 0 {
				delete(c, s.attr.Name)
			}
			break
		}
		if m == nil {
			m = map[string]any{}
			c[s.attr.Name] = m
		}
		m[s.sub.Name] = v
	default:
		if v == nil {
			delete(c, s.attr.Name)
		} else {
			c[s.attr.Name] = v
		}
	}
	if s.ext != "" && len(c) == 0 {
		delete(doc, s.ext)
	}
}

// value wraps one converted LDAP value in the shape get returns.
func (s *slot) value(v any) any {
	if s.filter == nil {
		return v
	}
	elem := make(map[string]any, len(s.fixed)+1)
	for k, fv := range s.fixed {
		elem[k] = fv
	}
	elem[s.sub.Name] = v
	return []any{elem}
}

// target is the attribute definition the LDAP value is converted to.
func (s *slot) target() *schema.Attribute {
	if s.sub != nil {
		return s.sub
	}
	return s.attr
}

// Object is one directory entry as the source maps it.
type Object struct {
	// ID is the entry's stable id: entryUUID, or objectGUID as a GUID
	// string. It is what the source's objects in Ferry's directory are
	// matched by.
	ID string
	DN string
	// Doc is the SCIM document of the mapped attributes, normalized
	// (resource.Normalize), without externalId and without the manager,
	// which refers to another object by its id in Ferry's directory.
	Doc resource.Document
	// Manager is the ID of the user's manager, when mapped and found among
	// the source's users.
	Manager string
	// Members are the IDs of a group's members found among the source's
	// users and groups, sorted.
	Members []string

	managerDN string
	memberDNs []string
}

// name is how reports name the object: its userName or displayName.
func (o *Object) name() string {
	for _, k := range []string{"userName", "displayName"} {
		if s, ok := o.Doc[k].(string); ok {
			return s
		}
	}
	return o.ID
}

// entryID reads an entry's stable id.
func (m *Mapping) entryID(e *ldap.Entry) (string, error) {
	raw := e.GetEqualFoldRawAttributeValue(m.preset.IDAttribute)
	if len(raw) == 0 {
		return "", fmt.Errorf("%s: no %s (the bind DN may lack the right to read it)", e.DN, m.preset.IDAttribute)
	}
	if m.preset.IDTransform == GUID {
		return FormatGUID(raw)
	}
	return strings.ToLower(string(raw)), nil
}

// User maps a user entry. Its error says why the entry cannot be a SCIM
// user (no userName, a value of the wrong type).
func (m *Mapping) User(e *ldap.Entry) (*Object, error) {
	o, err := m.object(e, m.users, m.userType)
	if err != nil {
		return o, err
	}
	active := !m.isDisabled(e)
	o.Doc["active"] = active
	if m.manager != nil {
		o.managerDN = firstValue(e, m.manager.rules)
	}
	o.Doc, err = resource.Normalize(o.Doc, m.userType)
	if err != nil {
		return o, fmt.Errorf("%s: %v", e.DN, err)
	}
	return o, nil
}

// Group maps a group entry; its member DNs are kept for resolving.
func (m *Mapping) Group(e *ldap.Entry) (*Object, error) {
	o, err := m.object(e, m.groups, m.groupType)
	if err != nil {
		return o, err
	}
	o.memberDNs = e.GetEqualFoldAttributeValues(m.memberAttr)
	o.Doc, err = resource.Normalize(o.Doc, m.groupType)
	if err != nil {
		return o, fmt.Errorf("%s: %v", e.DN, err)
	}
	return o, nil
}

// object maps an entry's id and slots; the manager is resolved later.
func (m *Mapping) object(e *ldap.Entry, slots []*slot, rt *schema.ResourceType) (*Object, error) {
	id, err := m.entryID(e)
	if err != nil {
		return nil, err
	}
	o := &Object{ID: id, DN: e.DN, Doc: resource.Document{}}
	for _, s := range slots {
		if s == m.manager {
			continue
		}
		raw, r, ok := firstRaw(e, s.rules)
		if !ok {
			continue
		}
		v, err := convert(raw, r.Transform, s.target())
		if err != nil {
			return o, fmt.Errorf("%s: %s (%s): %v", e.DN, r.Attribute, s.rules[0].Path, err)
		}
		s.set(o.Doc, s.value(v))
	}
	return o, nil
}

// isDisabled applies the Disabled rule.
func (m *Mapping) isDisabled(e *ldap.Entry) bool {
	d := m.disabled
	if d.Attribute == "" {
		return false
	}
	vals := e.GetEqualFoldAttributeValues(d.Attribute)
	if d.Bit != 0 {
		for _, v := range vals {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && uint64(n)&d.Bit != 0 {
				return true
			}
		}
		return false
	}
	if len(d.Values) == 0 {
		return len(vals) > 0
	}
	for _, v := range vals {
		for _, want := range d.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	}
	return false
}

// firstRaw returns the first value of the first rule's attribute that has
// one.
func firstRaw(e *ldap.Entry, rules []Rule) ([]byte, Rule, bool) {
	for _, r := range rules {
		if vals := e.GetEqualFoldRawAttributeValues(r.Attribute); len(vals) > 0 {
			return vals[0], r, true
		}
	}
	return nil, Rule{}, false
}

func firstValue(e *ldap.Entry, rules []Rule) string {
	raw, _, _ := firstRaw(e, rules)
	return string(raw)
}

// convert turns one LDAP value into a value of the SCIM attribute a.
func convert(raw []byte, t Transform, a *schema.Attribute) (any, error) {
	if t == GUID {
		return FormatGUID(raw)
	}
	s := string(raw)
	switch a.Type {
	case schema.Boolean:
		// RFC 4517 §3.3.3: TRUE or FALSE.
		switch strings.ToUpper(s) {
		case "TRUE":
			return true, nil
		case "FALSE":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not an LDAP boolean (TRUE or FALSE)", s)
	case schema.Integer:
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return json.Number(s), nil
	case schema.Decimal:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return json.Number(s), nil
	case schema.Binary:
		return base64.StdEncoding.EncodeToString(raw), nil
	}
	return s, nil
}

// FormatGUID formats Active Directory's objectGUID, 16 octets in the
// Windows GUID layout (the first three fields little-endian), as the
// canonical lower-case string AD tools show: objectGUID bytes 0x33 0x22 0x11
// 0x00 0x55 0x44 0x77 0x66 0x88 ... give "00112233-4455-6677-8899-...".
// See https://learn.microsoft.com/en-us/windows/win32/adschema/a-objectguid
// and the GUID structure at
// https://learn.microsoft.com/en-us/windows/win32/api/guiddef/ns-guiddef-guid.
func FormatGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(b))
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]), nil
}

// differs reports whether the mapped attributes of cur (a stored document)
// differ from those of want (an Object's Doc). Attributes not mapped are
// not looked at.
func (m *Mapping) differs(typ string, cur, want resource.Document) bool {
	slots := m.groups
	if typ == store.UserType {
		slots = m.users
		if !reflect.DeepEqual(cur["active"], want["active"]) {
			return true
		}
	}
	for _, s := range slots {
		if s == m.manager {
			continue
		}
		if !reflect.DeepEqual(s.get(cur), s.get(want)) {
			return true
		}
	}
	return false
}

// merge returns cur with the mapped attributes replaced by want's, and the
// manager set to managerID ("" removes it) when the manager is mapped.
// Everything else in cur stays.
func (m *Mapping) merge(typ string, cur, want resource.Document, managerID string) (resource.Document, error) {
	out := cur.Clone()
	if out == nil {
		out = resource.Document{}
	}
	slots, rt := m.groups, m.groupType
	if typ == store.UserType {
		slots, rt = m.users, m.userType
		out["active"] = want["active"]
	}
	for _, s := range slots {
		if s == m.manager {
			var v any
			if managerID != "" {
				v = managerID
			}
			s.set(out, v)
			continue
		}
		s.set(out, resource.CloneValue(s.get(want)))
	}
	// The extensions a tenant declared (ferry schemas) are not in the
	// built-in resource type, and never the mapping's: they stay as
	// they are rather than fail the normalization.
	declared := map[string]any{}
	for k, v := range out {
		if urn, _ := resource.SplitURN(k); urn != "" && rt.SchemaByURN(k) == nil {
			declared[k] = v
			delete(out, k)
		}
	}
	doc, err := resource.Normalize(out, rt)
	if err != nil || len(declared) == 0 {
		return doc, err
	}
	urns, _ := doc["schemas"].([]any)
	for _, k := range slices.Sorted(maps.Keys(declared)) {
		doc[k] = declared[k]
		urns = append(urns, k)
	}
	doc["schemas"] = urns
	return doc, nil
}

// managerValue is the manager id in a stored user document, or "".
func (m *Mapping) managerValue(doc resource.Document) string {
	if m.manager == nil {
		return ""
	}
	s, _ := m.manager.get(doc).(string)
	return s
}
