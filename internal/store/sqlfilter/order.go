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
	s, err := SortOf(b, t, sortBy, descending)
	if err != nil {
		return "", err
	}
	return s.OrderBy(), nil
}

// Sort is the order OrderBy describes, in parts: what a keyset page needs
// to select the sort key of its last row and to start after a row.
type Sort struct {
	// Key is the SQL expression of a row's sort key, a text value (NULL
	// when the row has none), or "" when rows sort by id alone.
	Key string
	// NotNull says Key is a column that is never NULL (meta.created,
	// meta.lastModified, id).
	NotNull    bool
	ID         string // the id column of the target's row
	Descending bool
}

// SortOf returns the order of the target's rows by sortBy, as OrderBy.
func SortOf(b *Builder, t Target, sortBy string, descending bool) (Sort, error) {
	s := Sort{ID: t.Alias + ".id", Descending: descending}
	if sortBy == "" {
		return s, nil
	}
	p, err := filter.ParseAttrPath(sortBy)
	if err != nil {
		return Sort{}, err
	}
	tr := &translator{t: t, rt: t.Type}
	s.Key = tr.sortKey(b, tr.resolve(p), p.Sub)
	s.NotNull = !strings.HasPrefix(s.Key, "(")
	if s.Key == s.ID {
		s.Key = "" // sortBy=id: the id alone
	}
	return s, nil
}

// OrderBy returns the ORDER BY list of s.
func (s Sort) OrderBy() string {
	dir, nulls := " ASC", " NULLS LAST"
	if s.Descending {
		dir, nulls = " DESC", " NULLS FIRST"
	}
	if s.Key == "" {
		return s.ID + dir
	}
	return s.Key + dir + nulls + ", " + s.ID + dir
}

// After returns the condition that holds for the rows that follow, in the
// order s, the row whose sort key is key (nil for none, or when rows sort
// by id alone) and whose id is id: the keyset of the next page. With an
// index on the sort key, the rows after it are an index range, so a page
// deep into the results costs what the first one does.
func (s Sort) After(b *Builder, key *string, id string) string {
	gt := " > "
	if s.Descending {
		gt = " < "
	}
	afterID := s.ID + gt + b.Arg(id)
	if s.Key == "" {
		return afterID
	}
	// Ascending, rows without a key come last; descending, first
	// (OrderBy's NULLS LAST and NULLS FIRST).
	if key == nil {
		if s.Descending {
			return "(" + s.Key + " IS NOT NULL OR (" + s.Key + " IS NULL AND " + afterID + "))"
		}
		return "(" + s.Key + " IS NULL AND " + afterID + ")"
	}
	k := b.Arg(*key)
	cond := "(" + s.Key + gt + k + " OR (" + s.Key + " = " + k + " AND " + afterID + ")"
	if !s.NotNull {
		if !s.Descending {
			cond += " OR " + s.Key + " IS NULL"
		}
		return cond + ")"
	}
	// The bound the condition implies, written out: PostgreSQL makes no
	// index range of an OR.
	return s.Key + gt[:2] + "= " + k + " AND " + cond + ")"
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
