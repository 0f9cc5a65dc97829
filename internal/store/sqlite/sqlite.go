// Package sqlite is Ferry's embedded directory store: store.Store on a
// single SQLite file (modernc.org/sqlite, pure Go).
//
// The database runs in WAL mode with one writer connection and a separate
// set of read-only connections, which read concurrently with the writer.
// Writes go through one goroutine that commits whatever writes are waiting
// in one IMMEDIATE transaction (group commit, see writer.go); a write is
// acknowledged once committed. Migrations (goose, embedded SQL) run on
// Open. Every filter runs in the database, through the attribute index that
// package sqlfilter defines and translates filters to; see the migration
// for the tables.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	mmapSize       = 1 << 30 // bytes of the file read through a memory map
	writerCacheKiB = 64 << 10
	// checkpointEvery is how often the checkpointer copies what the WAL
	// holds into the database file, when something was written.
	checkpointEvery = time.Second
	// writerAutocheckpoint is the WAL size, in pages, at which a commit
	// checkpoints by itself (SQLite's default is 1000): a fallback for
	// when the checkpointer cannot keep up or cannot run.
	writerAutocheckpoint = 10000
)

// Options tunes a Store. The zero value is a sound default.
type Options struct {
	// Synchronous is SQLite's synchronous setting, "NORMAL" (the default)
	// or "FULL". In WAL mode, NORMAL survives a crash of the process
	// (kill -9): every committed transaction is in the WAL file, which the
	// operating system writes out. It does not survive a power loss or an
	// operating system crash, which can lose the last transactions before
	// a checkpoint (the database itself stays consistent). FULL syncs the
	// WAL on every commit and survives both, at the cost of an fsync per
	// commit (a commit holds the writes that were waiting for it).
	Synchronous string
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process; 10 seconds when zero.
	BusyTimeout time.Duration
	// ReadConns is the number of read connections, which is how many
	// reads run at once; 8 when zero.
	ReadConns int
	// Now returns the current time, for timestamps and job leases;
	// time.Now when nil. The processes that share a database file share
	// a host, and so a clock.
	Now func() time.Time
	// Owner makes this process the one that writes the directory (ferry
	// serve): Open takes the database's owner lock (PATH-serve.lock), or
	// fails with ErrNotOwner while another process holds it, and the
	// store then offers WatchCommits. Other processes may still open the
	// database without it, for tokens and migrations.
	Owner bool
}

// Store is a store.Store on a SQLite database file.
type Store struct {
	sqlstore.SourceStore // store.Sources (sources.go)
	// ChangeFeed is Changes and PruneChanges, on the store's reads and
	// writes.
	sqlstore.ChangeFeed

	w       *pool // the one writer connection
	r       *pool // read-only connections
	catalog *schema.Catalog
	now     func() time.Time

	aids sqlstore.PathIDs // committed attr_paths rows

	// WebhookStore is the store's store.Webhooks (webhooks.go).
	sqlstore.WebhookStore
	// SchemaStore is the store's store.Schemas (schemas.go).
	sqlstore.SchemaStore
	// ConsoleStore is the store's store.Console (console.go).
	sqlstore.ConsoleStore
	// registry is the catalog extended with each tenant's schemas.
	registry *schema.Registry

	writes     chan *writeReq // to the writer goroutine
	closed     chan struct{}  // closed by Close
	closeOnce  sync.Once
	writerDone chan struct{}

	// wrote is set by the writer after a commit that wrote, and cleared
	// by the checkpointer, which runs on checkpointDB.
	wrote          atomic.Bool
	checkpointDB   *sql.DB
	checkpointDone chan struct{}

	// owner says this process holds the owner lock (Options.Owner), which
	// release gives back; watchers are WatchCommits' functions.
	owner    bool
	release  func()
	catalogs *schema.CatalogCache // tenants' catalogs, when owner
	watchMu  sync.Mutex
	watchers []func(store.Commit)
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it if needed, and migrates it
// to the current schema. catalog supplies the User and Group resource
// types the documents are indexed by.
func Open(ctx context.Context, path string, catalog *schema.Catalog, opts Options) (*Store, error) {
	if err := sqlstore.CheckCatalog(catalog); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		// The writer and the readers are separate connections: an
		// in-memory database would be a different one for each.
		return nil, fmt.Errorf("sqlite: %q is not a database file path", path)
	}
	syncMode := strings.ToUpper(opts.Synchronous)
	switch syncMode {
	case "":
		syncMode = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = 8
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	release := func() {}
	if opts.Owner {
		var err error
		if release, err = takeOwnership(path); err != nil {
			return nil, err
		}
	}
	opened := false
	defer func() {
		if !opened {
			release()
		}
	}()

	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	// Statement journals (kept to undo one failed statement of a
	// transaction) go to memory rather than to a temporary file. Pages
	// are read through a memory map, shared by all connections, rather
	// than copied into each connection's cache.
	common := "_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")&_pragma=foreign_keys(1)" +
		"&_pragma=temp_store(MEMORY)&_pragma=mmap_size(" + strconv.FormatInt(mmapSize, 10) + ")"
	// The writer's cache holds the index pages that writes touch all
	// over the attribute index; SQLite's default of 2 MiB thrashes once
	// the directory has a few thousand users. Checkpoints run in their own
	// goroutine (checkpointer), so that the writer does not spend a tenth
	// of its time copying pages into the database file; its own automatic
	// checkpoint is the fallback.
	wdb, err := sql.Open("sqlite", file+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous("+syncMode+")&_pragma=cache_size(-"+
		strconv.Itoa(writerCacheKiB)+")&_pragma=wal_autocheckpoint("+strconv.Itoa(writerAutocheckpoint)+")&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	if err := migrate(ctx, wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	var mode string
	if err := wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: %s is not in WAL mode (%q, %v)", path, mode, err)
	}
	s := &Store{catalog: catalog, registry: schema.NewRegistry(catalog), now: now, owner: opts.Owner, release: release,
		writes: make(chan *writeReq), closed: make(chan struct{}), writerDone: make(chan struct{})}
	if s.w, err = newPool(ctx, wdb, 1); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite", file+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.w.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if s.r, err = newPool(ctx, rdb, readConns); err != nil {
		s.w.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if s.checkpointDB, err = sql.Open("sqlite", file+"?"+common); err != nil {
		s.r.close()
		s.w.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.checkpointDB.SetMaxOpenConns(1)
	s.checkpointDone = make(chan struct{})
	s.SourceStore = sqlstore.SourceStore{DB: s.sourceDB()}
	// The change feed reads and writes as the webhooks' records do.
	s.WebhookStore = s.webhookStore()
	ws := s.WebhookStore
	s.ChangeFeed = sqlstore.ChangeFeed{Name: ws.Name, Dialect: ws.Dialect, Read: ws.Read, Write: ws.Write}
	s.SchemaStore = sqlstore.SchemaStore{DB: s.schemaDB()}
	s.ConsoleStore = sqlstore.ConsoleStore{DB: s.consoleDB()}
	if opts.Owner {
		s.catalogs = schema.NewCatalogCache()
	}
	go s.writer()
	go s.checkpointer(time.NewTicker(checkpointEvery))
	if err := s.loadAids(ctx); err != nil {
		s.Close()
		return nil, err
	}
	opened = true
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Ping reports whether the database answers a query on a read connection.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, func(c *conn) error {
		var one int
		if err := c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
		return nil
	})
}

// DBStats returns the state of the store's two connection pools, "write"
// (its one writer) and "read", for metrics.
func (s *Store) DBStats() map[string]sql.DBStats {
	return map[string]sql.DBStats{"write": s.w.stats(), "read": s.r.stats()}
}

// Close waits for the write in progress, refuses further calls and closes
// the database.
func (s *Store) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closed)
	})
	if !first {
		return nil
	}
	<-s.writerDone
	<-s.checkpointDone
	defer s.release()
	return errors.Join(s.r.close(), s.w.close(), s.checkpointDB.Close())
}

// checkpointer copies the WAL's pages into the database file at every
// tick after a commit that wrote, until the Store closes. A PASSIVE
// checkpoint waits for no one: it copies what no reader still needs and
// lets the writer go on appending meanwhile. Its failure (SQLITE_BUSY
// while another process checkpoints, say) leaves the WAL to the next tick
// or to the writer's own automatic checkpoint, so it is not reported.
func (s *Store) checkpointer(tick *time.Ticker) {
	defer close(s.checkpointDone)
	defer tick.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-tick.C:
			if s.wrote.Swap(false) {
				_, _ = s.checkpointDB.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}
}

// resourceType returns the resource type called typ, User or Group.
func (s *Store) resourceType(typ string) (*schema.ResourceType, error) {
	rt, err := sqlstore.ResourceType(s.catalog, typ)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return rt, nil
}

func timeText(t time.Time) string { return sqlfilter.TimeKey(t) }

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// --- attribute path ids ------------------------------------------------------

func (s *Store) loadAids(ctx context.Context) error {
	return s.read(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, "SELECT aid, tenant_id, type, path FROM attr_paths")
		if err != nil {
			return fmt.Errorf("sqlite: load attribute paths: %w", err)
		}
		defer rows.Close()
		return s.aids.Load(rows)
	})
}

// --- transactions ----------------------------------------------------------

// read runs fn in a read transaction, so that its statements see one
// snapshot of the database.
func (s *Store) read(ctx context.Context, fn func(c *conn) error) error {
	return s.r.tx(ctx, "BEGIN", false, fn)
}

// aid returns the id of an attribute path, adding it when new.
func (w *wtx) aid(ctx context.Context, k sqlstore.PathKey) (int64, error) {
	if id, ok := w.s.aids.Get(k); ok {
		return id, nil
	}
	if id, ok := w.aids[k]; ok {
		return id, nil
	}
	if id, ok := w.batch[k]; ok {
		return id, nil
	}
	var id int64
	res, err := w.ExecContext(ctx, `INSERT INTO attr_paths (tenant_id, type, path) VALUES (?1, ?2, ?3)
		ON CONFLICT DO NOTHING`, k.Tenant, k.Type, k.Path)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil {
			if n == 1 {
				id, err = res.LastInsertId()
			} else {
				err = w.QueryRowContext(ctx, `SELECT aid FROM attr_paths WHERE tenant_id = ?1 AND type = ?2 AND path = ?3`,
					k.Tenant, k.Type, k.Path).Scan(&id)
			}
		}
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: attribute path %q: %w", k.Path, err)
	}
	w.aids[k] = id
	return id, nil
}

// change appends a change-feed entry.
func (w *wtx) change(ctx context.Context, tenant, typ, id string, op store.ChangeOp, detail store.ChangeDetail) error {
	d, err := sqlstore.DetailText(detail)
	if err != nil {
		return fmt.Errorf("sqlite: record change: %w", err)
	}
	return w.changeText(ctx, tenant, typ, id, op, d)
}

// changeText appends a change-feed entry whose detail is already encoded
// (sqlstore.DetailText).
func (w *wtx) changeText(ctx context.Context, tenant, typ, id string, op store.ChangeOp, detail any) error {
	_, err := w.ExecContext(ctx, `INSERT INTO changes (tenant_id, type, id, op, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
		tenant, typ, id, string(op), timeText(w.now), detail)
	if err != nil {
		return fmt.Errorf("sqlite: record change: %w", err)
	}
	w.changed(tenant, typ, id, op)
	return nil
}
