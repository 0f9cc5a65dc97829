package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// ChangeColumns are the changes columns ScanChange reads.
const ChangeColumns = `seq, tenant_id, type, id, op, at, detail`

// ScanChange reads a row of ChangeColumns.
func ScanChange(row Row) (store.Change, error) {
	var c store.Change
	var op, at string
	var detail sql.NullString
	if err := row.Scan(&c.Seq, &c.TenantID, &c.Type, &c.ID, &op, &at, &detail); err != nil {
		return store.Change{}, err
	}
	c.Op = store.ChangeOp(op)
	var err error
	if c.At, err = parseTime(at); err != nil {
		return store.Change{}, err
	}
	if detail.Valid && detail.String != "" {
		if err := json.Unmarshal([]byte(detail.String), &c.Detail); err != nil {
			return store.Change{}, fmt.Errorf("change %d: detail: %w", c.Seq, err)
		}
	}
	return c, nil
}

// DetailText is what the detail column of a change is bound to: the
// detail's JSON, or NULL when it records nothing.
func DetailText(d store.ChangeDetail) (any, error) {
	if d.Empty() {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode change detail: %w", err)
	}
	return string(b), nil
}

// CreateDetail is the detail of a create: the state written, and a
// group's first members.
func CreateDetail(doc resource.Document, members []Member) store.ChangeDetail {
	d := store.ChangeDetail{State: doc}
	for _, m := range members {
		d.Added = append(d.Added, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	return d
}

// UpdateDetail is the detail of an update from before to rev.
func UpdateDetail(before resource.Document, rev *Revision) store.ChangeDetail {
	d := store.ChangeDetail{State: rev.Doc, Changed: resource.ChangedAttributes(before, rev.Doc)}
	for _, m := range rev.Added {
		d.Added = append(d.Added, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	for _, m := range rev.Removed {
		d.Removed = append(d.Removed, store.ChangeMember{ID: m.ID, Type: m.Type})
	}
	return d
}

// LeftDetail is the detail of a group's update when a member was deleted:
// the member left it.
func LeftDetail(typ, memberID string) store.ChangeDetail {
	return store.ChangeDetail{Removed: []store.ChangeMember{{ID: memberID, Type: typ}}}
}
