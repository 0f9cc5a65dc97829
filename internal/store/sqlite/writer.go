package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// maxBatch bounds the writes committed together. A commit has costs of its
// own that the batch shares (the WAL frames of pages several writes
// touched, a segment of the trigram index and its merging, the page
// cache's bookkeeping): an import of 100,000 users ran at 1,596 rows/s
// with batches of 64 and 1,868 with 256. A write waits for at most a
// batch's time, about a tenth of a second at this size.
const maxBatch = 256

// Writes go through one goroutine that commits them in batches (group
// commit): every write waiting when a transaction starts joins it. A
// commit costs about as much as a write's own work (the tables' last
// pages, the change feed, a new segment of the trigram index), so under
// concurrent writers a batch cuts the cost of each. A caller is answered
// only after its batch has committed: what is acknowledged is on disk.
//
// A write that fails must leave no trace while the others commit. Every
// write therefore makes all the checks that can fail (a missing member, a
// stale version) before its first statement that changes anything, and a
// uniqueness violation can only come from that first statement, which
// SQLite undoes by itself. Savepoints would do the same more simply, but
// FTS5 flushes its pending index at every savepoint, which costs more than
// the batching saves. Should a write fail after it has written (an I/O
// error, say), the batch is rolled back and its writes are redone one
// transaction each.

// writeReq is one write waiting for the writer.
type writeReq struct {
	ctx  context.Context
	fn   func(w *wtx) error
	done chan error
}

// errClosed is returned by writes on a closed Store.
var errClosed = errors.New("sqlite: store is closed")

// wtx is one write within a batch's transaction.
type wtx struct {
	*conn
	s *Store
	// now is the write's time, to the millisecond: the precision SCIM
	// responses render meta.lastModified in, so that a client comparing
	// with a value it was given compares what is stored.
	now time.Time
	// aids are the attr_paths rows this write added or found; batch are
	// those of the batch's earlier, successful writes. Both reach the
	// Store's cache only once the batch commits.
	aids, batch map[sqlstore.PathKey]int64
	// wrote says a statement of this write changed the database.
	wrote bool
	// commit collects what the batch changed, for the store's watchers.
	commit *store.Commit
}

// The statements of a write ignore the caller's cancellation: SQLite rolls
// back the whole transaction when a write statement is interrupted, which
// would undo the batch's other writes too. A write that has started is
// short; a caller that gives up before it starts is left out of the batch.

// ExecContext runs a statement of the write. Every statement that changes
// the database goes through it.
func (w *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := w.conn.ExecContext(context.WithoutCancel(ctx), query, args...)
	if err == nil {
		if n, nerr := res.RowsAffected(); nerr != nil || n > 0 {
			w.wrote = true
		}
	}
	return res, err
}

// QueryContext runs a query of the write; it must not change the
// database.
func (w *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return w.conn.QueryContext(context.WithoutCancel(ctx), query, args...)
}

// QueryRowContext runs a one-row query of the write; it must not change
// the database.
func (w *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return w.conn.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// errNoChange ends a write that found nothing to write, before writing;
// the caller is told of success.
var errNoChange = errors.New("no change")

// write runs fn as one write and returns once it has committed or failed.
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
	// Once the writer has the request, wait for the outcome whatever
	// happens to ctx: answering "canceled" for a write that then commits
	// would make a client retry a create that succeeded.
	return <-req.done
}

// writer runs batches until the Store closes.
func (s *Store) writer() {
	defer close(s.writerDone)
	for {
		var batch []*writeReq
		select {
		case req := <-s.writes:
			batch = append(batch, req)
		case <-s.closed:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break more
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch and answers its requests.
func (s *Store) commit(batch []*writeReq) {
	if len(batch) > 1 {
		if results, ok := s.commitBatch(batch); ok {
			for i, req := range batch {
				req.done <- results[i]
			}
			return
		}
	}
	for _, req := range batch {
		results, _ := s.commitBatch([]*writeReq{req})
		req.done <- results[0]
	}
}

// errRedo aborts a batch in which a write failed after writing.
var errRedo = errors.New("redo the batch one write at a time")

// commitBatch runs the batch in one transaction. It reports false, having
// committed nothing, when a write of a batch of several failed after it
// had written.
func (s *Store) commitBatch(batch []*writeReq) ([]error, bool) {
	results := make([]error, len(batch))
	added := map[sqlstore.PathKey]int64{}
	var changed store.Commit
	ctx := context.Background()
	err := s.w.tx(ctx, "BEGIN IMMEDIATE", true, func(c *conn) error {
		wrote := false
		for i, req := range batch {
			if err := req.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			w := &wtx{conn: c, s: s, now: s.now().UTC().Truncate(time.Millisecond), aids: map[sqlstore.PathKey]int64{}, batch: added, commit: &changed}
			err := req.fn(w)
			wrote = wrote || w.wrote
			switch {
			case err == nil:
				for k, v := range w.aids {
					added[k] = v
				}
			case w.wrote && len(batch) > 1:
				return errRedo
			case w.wrote:
				// Alone in its transaction: roll it back.
				return err
			case !errors.Is(err, errNoChange):
				results[i] = err
			}
		}
		if !wrote {
			return nil
		}
		return indexPendingTrigrams(ctx, c)
	})
	if errors.Is(err, errRedo) {
		return nil, false
	}
	if err != nil {
		// Nothing of the batch was committed.
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		return results, true
	}
	s.wrote.Store(true)
	// Only committed ids enter the cache: a rolled-back id could be
	// handed out again for another path.
	s.aids.Add(added)
	// The watchers learn of the commit before any of its writes returns.
	s.notify(changed)
	return results, true
}

// pendingTrigramsSQL reads the values waiting for the trigram index. CROSS
// JOIN makes SQLite read the short pending list and look each value up by
// rowid; left to itself, the planner may scan all of attribute_values.
const pendingTrigramsSQL = `SELECT p.rid, v.val FROM attribute_values_fts_pending p CROSS JOIN attribute_values v ON v.rowid = p.rid`

// indexPendingTrigrams moves the attribute values the batch inserted into
// the trigram index, by one statement: FTS5 writes a new index segment at
// the end of every statement that changes it, so one statement per batch
// keeps segments few and large (migration 00009). It runs inside the
// batch's transaction, so what commits is always indexed.
func indexPendingTrigrams(ctx context.Context, c *conn) error {
	if _, err := c.ExecContext(ctx, `INSERT INTO attribute_values_fts (rowid, val) `+pendingTrigramsSQL); err != nil {
		return fmt.Errorf("sqlite: index trigrams: %w", err)
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM attribute_values_fts_pending`); err != nil {
		return fmt.Errorf("sqlite: index trigrams: %w", err)
	}
	return nil
}
