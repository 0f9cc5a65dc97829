package sqlstore

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
)

// VersionMismatch is the ErrVersionMismatch of a write whose If-Match
// version is not the record's.
func VersionMismatch(typ, id string, have, want int64) *store.Error {
	return store.Errorf(store.ErrVersionMismatch, "%s %q is at version %d, not %d", typ, id, have, want)
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
