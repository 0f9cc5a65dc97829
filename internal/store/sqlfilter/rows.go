package sqlfilter

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// The helpers below are the parts of the resources and memberships tables
// that both backends fill and read the same way.

// StoredDoc returns doc without the keys the store manages itself (those
// Builtin reports): what the resources.doc column holds.
func StoredDoc(doc resource.Document, rt *schema.ResourceType) resource.Document {
	out := make(resource.Document, len(doc))
	for k, v := range doc {
		if !Builtin(rt, k) {
			out[k] = v
		}
	}
	return out
}

// Names returns the unique name key of a stored document (the folded
// userName of a User, the folded displayName of a Group), which
// resources.name_key holds, and the name its memberships show
// (resources.display).
func Names(typ string, doc resource.Document) (key, display sql.NullString) {
	switch typ {
	case store.UserType:
		if u, ok := doc.String("userName"); ok {
			key = sql.NullString{String: FoldKey(u), Valid: true}
			display = sql.NullString{String: u, Valid: true}
		}
		if d, ok := doc.String("displayName"); ok && d != "" {
			display = sql.NullString{String: d, Valid: true}
		}
	case store.GroupType:
		if d, ok := doc.String("displayName"); ok {
			key = sql.NullString{String: FoldKey(d), Valid: true}
			display = sql.NullString{String: d, Valid: true}
		}
	}
	return key, display
}

// NameTaken is the ErrNameTaken of a write whose name key is already taken.
func NameTaken(typ string, doc resource.Document) *store.Error {
	if typ == store.UserType {
		u, _ := doc.String("userName")
		return store.Errorf(store.ErrNameTaken, "userName %q is already taken", u)
	}
	d, _ := doc.String("displayName")
	return store.Errorf(store.ErrNameTaken, "a group with displayName %q already exists", d)
}

// VersionMismatch is the ErrVersionMismatch of a write whose If-Match
// version is not the resource's.
func VersionMismatch(typ, id string, have, want int64) *store.Error {
	return store.Errorf(store.ErrVersionMismatch, "%s %q is at version %d, not %d", typ, id, have, want)
}

// DecodeEdges decodes a JSON array of [id, type, display] triples, the form
// in which both backends read a resource's memberships in the statement
// that reads the resource.
func DecodeEdges(list string) ([]store.Member, error) {
	var rows [][3]*string
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		return nil, err
	}
	ms := make([]store.Member, 0, len(rows))
	for _, r := range rows {
		if r[0] == nil || r[1] == nil {
			return nil, errors.New("membership row without id or type")
		}
		m := store.Member{ID: *r[0], Type: *r[1]}
		if r[2] != nil {
			m.Display = *r[2]
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// CheckJSON rejects a document that is not JSON before it is stored: the
// PostgreSQL store's json columns would refuse it, and both stores must
// behave alike.
func CheckJSON(what string, b []byte) error {
	if len(b) > 0 && (!json.Valid(b) || !utf8.Valid(b)) {
		return fmt.Errorf("%s is not JSON", what)
	}
	return nil
}
