package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// maxCachedStatements bounds the statements one connection keeps prepared.
// Query SQL depends on the shape of a filter, not on its values, so real
// clients produce few shapes; past the bound, new shapes are prepared for
// each use.
const maxCachedStatements = 512

// conn is one SQLite connection, held for the life of the Store, with the
// statements prepared on it. Preparing the SQL a filter translates to costs
// more than running it, and a statement prepared on a connection can only
// be reused on that connection, so the store keeps its connections rather
// than borrowing them from database/sql for each call.
type conn struct {
	db    *sql.DB
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

func (c *conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		return nil, nil
	}
	st, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// ExecContext runs a statement on the connection.
func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.c.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a query on the connection.
func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.c.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (c *conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		// A statement that failed to prepare fails again here and
		// reports its error through the Row.
		return c.c.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *conn) close() error {
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	return c.c.Close()
}

// pool hands out a fixed set of connections, one caller at a time each.
type pool struct {
	db    *sql.DB
	conns chan *conn
	all   []*conn
	// waits counts the acquires that found no connection free, waited how
	// long they waited in all, for stats.
	waits  atomic.Int64
	waited atomic.Int64 // nanoseconds
}

func newPool(ctx context.Context, db *sql.DB, n int) (*pool, error) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	p := &pool{db: db, conns: make(chan *conn, n)}
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			p.close()
			return nil, err
		}
		cc := &conn{db: db, c: c, stmts: map[string]*sql.Stmt{}}
		p.all = append(p.all, cc)
		p.conns <- cc
	}
	return p, nil
}

func (p *pool) acquire(ctx context.Context) (*conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	default:
	}
	start := time.Now()
	defer func() {
		p.waits.Add(1)
		p.waited.Add(int64(time.Since(start)))
	}()
	select {
	case c := <-p.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stats is the pool as database/sql.DBStats tells it, with the use and the
// waits of this pool, which holds its connections out of database/sql's.
func (p *pool) stats() sql.DBStats {
	s := p.db.Stats()
	s.Idle = len(p.conns)
	s.InUse = cap(p.conns) - s.Idle
	s.WaitCount = p.waits.Load()
	s.WaitDuration = time.Duration(p.waited.Load())
	return s
}

func (p *pool) release(c *conn) { p.conns <- c }

// replace swaps a connection that failed to end a transaction for a new
// one, so that a broken connection does not stay in the pool.
func (p *pool) replace(ctx context.Context, c *conn) (*conn, error) {
	c.close()
	nc, err := p.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	n := &conn{db: p.db, c: nc, stmts: map[string]*sql.Stmt{}}
	for i, old := range p.all {
		if old == c {
			p.all[i] = n
		}
	}
	return n, nil
}

func (p *pool) close() error {
	var errs []error
	for _, c := range p.all {
		errs = append(errs, c.close())
	}
	errs = append(errs, p.db.Close())
	return errors.Join(errs...)
}

// tx runs fn in a transaction on a connection of p: begin is "BEGIN" for
// reads and "BEGIN IMMEDIATE" for writes, which take the write lock up
// front and so wait on the busy timeout instead of failing when they
// upgrade. fn's error rolls the transaction back; commit says whether to
// commit otherwise.
func (p *pool) tx(ctx context.Context, begin string, commit bool, fn func(c *conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, begin); err != nil {
		p.release(c)
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	err = fn(c)
	if err == nil && commit {
		if _, cerr := c.ExecContext(ctx, "COMMIT"); cerr != nil {
			err = fmt.Errorf("sqlite: commit: %w", cerr)
		} else {
			p.release(c)
			return nil
		}
	}
	// Roll back even when ctx is done: the connection must come back
	// without an open transaction.
	if _, rerr := c.c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && !noTransaction(rerr) {
		if nc, nerr := p.replace(context.WithoutCancel(ctx), c); nerr == nil {
			c = nc
		} else {
			err = errors.Join(err, nerr)
		}
	}
	p.release(c)
	return err
}

// noTransaction reports the error of a ROLLBACK after SQLite already
// rolled the transaction back itself.
func noTransaction(err error) bool {
	return err != nil && sqliteCode(err) == 1 // SQLITE_ERROR: "cannot rollback - no transaction is active"
}
