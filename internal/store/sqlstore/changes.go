package sqlstore

import "github.com/ferryid/ferry/internal/store"

// ChangeColumns are the changes columns ScanChange reads.
const ChangeColumns = `seq, tenant_id, type, id, op, at`

// ScanChange reads a row of ChangeColumns.
func ScanChange(row Row) (store.Change, error) {
	var c store.Change
	var op, at string
	if err := row.Scan(&c.Seq, &c.TenantID, &c.Type, &c.ID, &op, &at); err != nil {
		return store.Change{}, err
	}
	c.Op = store.ChangeOp(op)
	var err error
	if c.At, err = parseTime(at); err != nil {
		return store.Change{}, err
	}
	return c, nil
}
