// Package csvimport turns a CSV export of people (an HR system's, a
// spreadsheet's) into directory users: it reads the file against the SCIM
// User schema, row by row, and plans an idempotent upsert by a key
// attribute (userName or externalId).
//
// Each mapped column becomes a SCIM PATCH "replace" of one attribute path
// (RFC 7644 §3.5.2.3) applied to the user as the directory holds it, so a
// column can name any path a PATCH can: "title", "name.givenName",
// `emails[type eq "work"].value`, or an enterprise extension attribute by
// its URN. An empty cell removes the attribute. Attributes no column maps
// are left as they are, and a row whose patch changes nothing is
// "unchanged": a second import of the same file writes nothing.
//
// Three columns are not attributes of the user: "groups" (the names of the
// groups the user belongs to, separated by ";" or "|"), "manager" (the
// manager's key, resolved to the manager's id once every row is known) and
// the key itself when it is externalId.
package csvimport

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// The keys an import may match users by.
const (
	KeyUserName   = "userName"
	KeyExternalID = "externalId"
)

// The special columns' targets: not attribute paths.
const (
	targetGroups  = "groups"
	targetManager = "manager"
)

// enterpriseAttr is the path of an enterprise extension attribute
// (RFC 7643 §4.3).
func enterpriseAttr(name string) string { return scim.EnterpriseUserURN + ":" + name }

// defaultColumns maps the usual headers of HR exports, folded by
// foldHeader, to their SCIM paths.
var defaultColumns = map[string]string{
	"username":          "userName",
	"login":             "userName",
	"upn":               "userName",
	"userprincipal":     "userName",
	"externalid":        "externalId",
	"email":             `emails[type eq "work"].value`,
	"mail":              `emails[type eq "work"].value`,
	"emailaddress":      `emails[type eq "work"].value`,
	"workemail":         `emails[type eq "work"].value`,
	"givenname":         "name.givenName",
	"firstname":         "name.givenName",
	"familyname":        "name.familyName",
	"lastname":          "name.familyName",
	"surname":           "name.familyName",
	"displayname":       "displayName",
	"title":             "title",
	"jobtitle":          "title",
	"department":        enterpriseAttr("department"),
	"employeenumber":    enterpriseAttr("employeeNumber"),
	"employeeid":        enterpriseAttr("employeeNumber"),
	"costcenter":        enterpriseAttr("costCenter"),
	"organization":      enterpriseAttr("organization"),
	"division":          enterpriseAttr("division"),
	"phone":             `phoneNumbers[type eq "work"].value`,
	"workphone":         `phoneNumbers[type eq "work"].value`,
	"mobile":            `phoneNumbers[type eq "mobile"].value`,
	"active":            "active",
	"enabled":           "active",
	"locale":            "locale",
	"timezone":          "timezone",
	"preferredlanguage": "preferredLanguage",
	"manager":           targetManager,
	"groups":            targetGroups,
}

// foldHeader folds a header for matching: lower case, without spaces,
// underscores, hyphens and dots, so "First Name", "first_name" and
// "firstName" are one.
func foldHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch r {
		case ' ', '_', '-', '.', '\ufeff':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Options says how to read a file.
type Options struct {
	// Key is the attribute users are matched by: KeyUserName (the
	// default) or KeyExternalID.
	Key string
	// Columns maps headers (as written in the file, matched ignoring
	// case) to SCIM paths, over the default mappings; the target "-"
	// ignores a column.
	Columns map[string]string
}

// column is one column of the file and what it sets.
type column struct {
	header string
	target string // a SCIM path, targetGroups or targetManager; "" ignores the column
	path   filter.Path
	attr   *schema.Attribute // the attribute (or sub-attribute) a cell's value is typed by
}

// Row is one data row of the file: the PATCH of its user and the special
// columns.
type Row struct {
	Line int // the line in the file; the header is line 1
	Key  string
	Ops  []patch.Operation
	// Groups are the names of the user's groups; nil when the file has no
	// groups column.
	Groups []string
	// Manager is the manager's key, "" for none.
	Manager string
}

// RowError is a row that cannot be imported.
type RowError struct {
	// Line is the row's line in the file (the header is line 1); 0 for a
	// failure that is no row's, such as a group's.
	Line int `json:"line"`
	// Key is the row's key when it could be read, so that the plan never
	// disables a user whose row failed.
	Key    string `json:"key,omitempty"`
	Column string `json:"column,omitempty"` // the header of the column at fault, "" for the row
	Reason string `json:"reason"`
}

func (e RowError) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %q: %s", e.Line, e.Column, e.Reason)
}

// File is a read file: its rows in order and the rows that failed.
type File struct {
	Key     string
	Headers []string
	// Ignored are the headers no mapping knows, which were left out.
	Ignored []string
	// HasGroups says whether the file has a groups column.
	HasGroups bool
	Rows      []Row
	Errors    []RowError
}

// Read reads a CSV file (RFC 4180; a UTF-8 byte order mark is allowed)
// whose first line names the columns. A file whose header cannot be used
// (no key column, a mapping to a path the User schema does not have, two
// columns for one path) is an error; a bad row is a RowError of its own and
// the others are read.
func Read(r io.Reader, rt *schema.ResourceType, opts Options) (*File, error) {
	key := opts.Key
	if key == "" {
		key = KeyUserName
	}
	if key != KeyUserName && key != KeyExternalID {
		return nil, fmt.Errorf("the key must be %s or %s, not %q", KeyUserName, KeyExternalID, key)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short or long row is the row's error, not the file's
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: its first line must name the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	f := &File{Key: key, Headers: header}
	cols, err := f.columns(header, rt, opts.Columns)
	if err != nil {
		return nil, err
	}
	keyCol := slices.IndexFunc(cols, func(c column) bool { return c.target == key })
	if keyCol < 0 {
		return nil, fmt.Errorf("no column holds the key %s: name one %q, or map one with --map COLUMN=%s", key, key, key)
	}
	seen := map[string]int{} // key → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				// The reader cannot find the next row's start after a
				// broken quote: the rest of the file is unreadable.
				return nil, fmt.Errorf("line %d: %v", pe.Line, pe.Err)
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		row, rowErr := readRow(line, rec, cols, keyCol)
		if rowErr == nil {
			if first, dup := seen[strings.ToLower(row.Key)]; dup {
				rowErr = &RowError{Line: line, Column: cols[keyCol].header, Reason: fmt.Sprintf("the key %q is on line %d already", row.Key, first)}
			} else {
				seen[strings.ToLower(row.Key)] = line
			}
		}
		if rowErr != nil {
			if keyCol < len(rec) {
				rowErr.Key = strings.TrimSpace(rec[keyCol])
			}
			f.Errors = append(f.Errors, *rowErr)
			continue
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// columns resolves the header against the mappings and the schema.
func (f *File) columns(header []string, rt *schema.ResourceType, overrides map[string]string) ([]column, error) {
	byHeader := map[string]string{}
	for h, target := range overrides {
		byHeader[strings.ToLower(strings.TrimSpace(h))] = target
	}
	used := map[string]string{} // target → header
	cols := make([]column, len(header))
	for i, h := range header {
		c := column{header: h}
		target, mapped := byHeader[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))]
		if !mapped {
			target = defaultColumns[foldHeader(h)]
		}
		if target == "" || target == "-" {
			if !mapped {
				f.Ignored = append(f.Ignored, h)
			}
			cols[i] = c
			continue
		}
		c.target = target
		if target != targetGroups && target != targetManager {
			p, err := filter.ParsePath(target)
			if err != nil {
				return nil, fmt.Errorf("column %q: %q is not a SCIM attribute path: %v", h, target, err)
			}
			t, ok, err := resource.ResolvePath(rt, p)
			if err != nil || !ok || t.Whole() {
				return nil, fmt.Errorf("column %q: the User schema has no attribute %q", h, target)
			}
			if t.Attr.Mutability == schema.ReadOnly {
				return nil, fmt.Errorf("column %q: %q is read-only", h, target)
			}
			c.path, c.attr = p, t.Attr
			if t.Sub != nil {
				c.attr = t.Sub
			}
			if c.attr.Type == schema.Complex {
				return nil, fmt.Errorf("column %q: %q is complex; name one of its sub-attributes, such as %s.value", h, target, target)
			}
			target = t.String()
		}
		if other, dup := used[strings.ToLower(target)]; dup {
			return nil, fmt.Errorf("columns %q and %q both map to %s: map one of them elsewhere or to - (ignore)", other, h, target)
		}
		used[strings.ToLower(target)] = h
		if c.target == targetGroups {
			f.HasGroups = true
		}
		cols[i] = c
	}
	return cols, nil
}

// readRow turns one record into a Row.
func readRow(line int, rec []string, cols []column, keyCol int) (Row, *RowError) {
	if len(rec) != len(cols) {
		return Row{}, &RowError{Line: line, Reason: fmt.Sprintf("%d fields, but the header names %d columns", len(rec), len(cols))}
	}
	row := Row{Line: line, Key: strings.TrimSpace(rec[keyCol])}
	if row.Key == "" {
		return Row{}, &RowError{Line: line, Column: cols[keyCol].header, Reason: "the key is empty"}
	}
	for i, c := range cols {
		cell := strings.TrimSpace(rec[i])
		switch c.target {
		case "":
			continue
		case targetGroups:
			row.Groups = splitList(cell)
			continue
		case targetManager:
			row.Manager = cell
			continue
		}
		path := c.path
		if cell == "" {
			row.Ops = append(row.Ops, patch.Operation{Op: patch.Remove, Path: &path})
			continue
		}
		v, err := cellValue(c.attr, cell)
		if err != nil {
			return Row{}, &RowError{Line: line, Column: c.header, Reason: err.Error()}
		}
		row.Ops = append(row.Ops, patch.Operation{Op: patch.Replace, Path: &path, Value: v})
	}
	return row, nil
}

// splitList splits a cell of names separated by ";" or "|".
func splitList(cell string) []string {
	names := []string{}
	for _, n := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == '|' }) {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// cellValue types a cell by its attribute: booleans from the words HR
// exports use, numbers as JSON numbers, the rest as strings (which the
// schema checks when the patch is applied).
func cellValue(a *schema.Attribute, cell string) (any, error) {
	switch a.Type {
	case schema.Boolean:
		switch strings.ToLower(cell) {
		case "true", "yes", "y", "1", "active", "enabled":
			return true, nil
		case "false", "no", "n", "0", "inactive", "disabled", "terminated":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a yes or no (true, false, yes, no, 1, 0, active, inactive)", cell)
	case schema.Integer, schema.Decimal:
		n := json.Number(cell)
		if _, err := n.Float64(); err != nil {
			return nil, fmt.Errorf("%q is not a number", cell)
		}
		return n, nil
	}
	return cell, nil
}
