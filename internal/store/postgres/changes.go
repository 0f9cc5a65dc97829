package postgres

import (
	"context"
	"fmt"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// The change feed must never show a reader an entry with a sequence number
// below one it has already seen: the provisioning engine keeps a
// watermark and would miss the late entry for good. A PostgreSQL sequence
// does not give that: two transactions take 5 and 6, the one holding 6
// commits first, a reader sees 6, and 5 appears after it.
//
// So sequence numbers come from a counter row per tenant (change_seqs),
// which a writing transaction updates as its last statement before it
// commits. The row lock it takes is held until the commit, so the next
// writer of the tenant gets its numbers only after this transaction is
// visible: numbers become visible in the order they were given, whichever
// process or replica wrote them. A rolled-back transaction leaves a gap,
// which readers skip. The price is that a tenant's writes commit one at a
// time, for the moment between taking the numbers and committing; writes
// of different tenants do not wait for each other. Because the counter is
// the last lock a transaction takes, and nothing waits while holding it,
// it adds no deadlock.

// pendingChange is a change-feed entry waiting for its sequence number.
type pendingChange struct {
	typ, id string
	op      store.ChangeOp
	detail  store.ChangeDetail
}

// change records a change-feed entry of the write.
func (w *wtx) change(typ, id string, op store.ChangeOp, detail store.ChangeDetail) {
	w.changes = append(w.changes, pendingChange{typ, id, op, detail})
}

// flushChanges numbers the write's change-feed entries and inserts them.
func (w *wtx) flushChanges(ctx context.Context) error {
	n := int64(len(w.changes))
	if n == 0 {
		return nil
	}
	var last int64
	if err := w.QueryRow(ctx, `INSERT INTO change_seqs (tenant_id, seq) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET seq = change_seqs.seq + excluded.seq RETURNING seq`,
		w.tenant, n).Scan(&last); err != nil {
		return fmt.Errorf("postgres: number changes: %w", err)
	}
	seqs := make([]int64, n)
	types := make([]string, n)
	ids := make([]string, n)
	ops := make([]string, n)
	details := make([]*string, n)
	for i, c := range w.changes {
		seqs[i] = last - n + 1 + int64(i)
		types[i], ids[i], ops[i] = c.typ, c.id, string(c.op)
		d, err := sqlstore.DetailText(c.detail)
		if err != nil {
			return fmt.Errorf("postgres: record changes: %w", err)
		}
		if d != nil {
			text := d.(string)
			details[i] = &text
		}
	}
	if _, err := w.Exec(ctx, `INSERT INTO changes (tenant_id, seq, type, id, op, at, detail)
		SELECT $1, s, t, i, o, $6, d FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $7::text[]) AS c (s, t, i, o, d)`,
		w.tenant, seqs, types, ids, ops, timeText(w.now), details); err != nil {
		return fmt.Errorf("postgres: record changes: %w", err)
	}
	return nil
}
