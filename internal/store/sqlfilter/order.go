package sqlfilter

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// OrderBy returns an ORDER BY list (without the keywords) that sorts the
// target's rows by the attribute path sortBy, then by id, as RFC 7644
// §3.4.2.3 asks: strings by their caseExact (folded otherwise), numbers and
// dateTimes by value, a multi-valued attribute by its primary value or else
// its first, and resources without a value last (first when descending).
// Descending reverses the whole order. An empty sortBy, and attributes that
// have no stored value to sort by (members, an unknown attribute), sort by
// id alone. The error is the 400 invalidPath of an unparsable sortBy.
func OrderBy(b *Builder, t Target, sortBy string, descending bool) (string, error) {
	dir, nulls := " ASC", " NULLS LAST"
	if descending {
		dir, nulls = " DESC", " NULLS FIRST"
	}
	byID := t.Alias + ".id" + dir
	if sortBy == "" {
		return byID, nil
	}
	p, err := filter.ParseAttrPath(sortBy)
	if err != nil {
		return "", err
	}
	tr := &translator{t: t, rt: t.Type}
	key := tr.sortKey(b, tr.resolve(p), p.Sub)
	if key == "" {
		return byID, nil
	}
	return key + dir + nulls + ", " + byID, nil
}

// sortKey returns an expression giving the sort key of the target's row,
// or "" when the path has none.
func (tr *translator) sortKey(b *Builder, r ref, sub string) string {
	res := tr.t.Alias
	switch r.kind {
	case refID:
		if sub == "" {
			return res + ".id"
		}
		return ""
	case refMeta:
		if s := r.def.SubAttribute(sub); s != nil {
			switch strings.ToLower(s.Name) {
			case "created":
				return res + ".created_at"
			case "lastmodified":
				return res + ".last_modified"
			}
		}
		return ""
	case refValues:
	default:
		return ""
	}
	def := r.def
	if def == nil {
		return ""
	}
	path := r.path
	elemDef := def
	if def.Type == schema.Complex {
		name := sub
		if name == "" {
			name = "value"
		}
		if elemDef = def.SubAttribute(name); elemDef == nil {
			return ""
		}
		path += "." + strings.ToLower(elemDef.Name)
	} else if sub != "" {
		return ""
	}
	col := "val"
	switch elemDef.Type {
	case schema.Integer, schema.Decimal, schema.DateTime:
		col = "num"
	case schema.Complex:
		return ""
	}
	k := tr.alias("k")
	order := k + ".elem"
	if def.MultiValued && def.Type == schema.Complex && def.SubAttribute("primary") != nil {
		pr := tr.alias("p")
		order = "EXISTS (SELECT 1 FROM attribute_values " + pr + " WHERE " + pr + ".rid = " + k + ".rid AND " +
			pr + ".elem = " + k + ".elem AND " + tr.aidCond(b, pr, pathSel{exact: []string{r.path + ".primary"}}) +
			" AND " + pr + ".val = 'true') DESC, " + k + ".elem"
	}
	return "(SELECT " + k + "." + col + " FROM attribute_values " + k + " WHERE " + k + ".rid = " + res + ".rid AND " +
		tr.aidCond(b, k, pathSel{exact: []string{path}}) + " AND " + k + "." + col + " IS NOT NULL ORDER BY " +
		order + " LIMIT 1)"
}
