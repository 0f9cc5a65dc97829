// Package postgres is Ferry's scale-out directory store: store.Store on
// PostgreSQL (pgx v5), shared by any number of `ferry serve` replicas.
//
// Nothing is coordinated between replicas but through the database: unique
// indexes decide concurrent creates of one userName, row locks (SELECT ...
// FOR UPDATE) make read-modify-write updates atomic and If-Match exact, and
// the change feed's per-tenant counter row orders its entries by commit
// (see changes.go). Each write is one transaction, retried as a whole when
// PostgreSQL aborts it for a deadlock or a serialization failure.
// Migrations (goose, embedded SQL) run on Open under a PostgreSQL advisory
// lock, so replicas starting together migrate once. Filters are translated
// by package sqlfilter, with the same tables as the SQLite store.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tunes a Store. The zero value is a sound default.
type Options struct {
	// MaxConns bounds the pool's connections; pgxpool's default (the
	// larger of 4 and the number of CPUs) when zero.
	MaxConns int32
	// Now returns the current time, for timestamps and job leases. When
	// nil, timestamps are time.Now and job leases are on the database
	// server's clock, which every replica shares; tests set it to control
	// both.
	Now func() time.Time
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	sqlstore.SourceStore // store.Sources (sources.go)
	// ChangeFeed is Changes and PruneChanges, on the store's reads and
	// writes.
	sqlstore.ChangeFeed

	pool    *pgxpool.Pool
	catalog *schema.Catalog
	now     func() time.Time
	// serverClock says job leases are on the database server's clock
	// (Options.Now is nil; see wtx.leaseNow).
	serverClock bool

	aids sqlstore.PathIDs // committed attr_paths rows

	// WebhookStore is the store's store.Webhooks (webhooks.go).
	sqlstore.WebhookStore
	// SchemaStore is the store's store.Schemas (schemas.go).
	sqlstore.SchemaStore
	// ConsoleStore is the store's store.Console (console.go).
	sqlstore.ConsoleStore
	// registry is the catalog extended with each tenant's schemas.
	registry *schema.Registry

	analyze analyzer
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn (a postgres:// URL or a key=value
// connection string) and migrates it to the current schema. catalog
// supplies the User and Group resource types the documents are indexed by.
// idleInTransactionTimeout is how long PostgreSQL lets a transaction of
// Ferry's wait for its client before ending it (milliseconds): well above
// any pause between the statements of a healthy transaction, and below a
// job lease's 30 seconds.
const idleInTransactionTimeout = "10000"

func Open(ctx context.Context, dsn string, catalog *schema.Catalog, opts Options) (*Store, error) {
	if err := sqlstore.CheckCatalog(catalog); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the connection string, password
		// included.
		return nil, errors.New("postgres: the connection string does not parse")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// A replica paused in the middle of a transaction (a long GC, a frozen
	// VM, SIGSTOP) keeps its row locks while it sleeps, and a job's lease
	// row among them would keep every other replica from taking the job
	// over. Ferry never leaves a transaction waiting on itself, so the
	// server may end one whose client went quiet: its locks go with it.
	// A value in the connection string wins.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = idleInTransactionTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	now, serverClock := opts.Now, opts.Now == nil
	if now == nil {
		now = time.Now
	}
	s := &Store{pool: pool, catalog: catalog, registry: schema.NewRegistry(catalog), now: now, serverClock: serverClock}
	s.SourceStore = sqlstore.SourceStore{DB: s.sourceDB()}
	// The change feed reads and writes as the webhooks' records do.
	s.WebhookStore = s.webhookStore()
	ws := s.WebhookStore
	s.ChangeFeed = sqlstore.ChangeFeed{Name: ws.Name, Dialect: ws.Dialect, Read: ws.Read, Write: ws.Write}
	s.SchemaStore = sqlstore.SchemaStore{DB: s.schemaDB()}
	s.ConsoleStore = sqlstore.ConsoleStore{DB: s.consoleDB()}
	if err := s.loadAids(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.startAnalyzer()
	return s, nil
}

// Migrate applies the migrations the database lacks. It holds a
// PostgreSQL session advisory lock while it does, so that of several
// processes migrating one database at once, one applies each migration
// and the others find nothing left to do.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// PoolStat returns the state of the store's connection pool, for metrics.
func (s *Store) PoolStat() *pgxpool.Stat { return s.pool.Stat() }

// Close closes the pool's connections, waiting for those in use.
func (s *Store) Close() error {
	s.stopAnalyzer()
	s.pool.Close()
	return nil
}

// resourceType returns the resource type called typ, User or Group.
func (s *Store) resourceType(typ string) (*schema.ResourceType, error) {
	rt, err := sqlstore.ResourceType(s.catalog, typ)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return rt, nil
}

func timeText(t time.Time) string { return sqlfilter.TimeKey(t) }

// pgCode returns the SQLSTATE of a PostgreSQL error, and the constraint it
// names.
func pgCode(err error) (code, constraint string) {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code, e.ConstraintName
	}
	return "", ""
}

const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// --- attribute path ids -------------------------------------------------------

func (s *Store) loadAids(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, "SELECT aid, tenant_id, type, path FROM attr_paths")
	if err != nil {
		return fmt.Errorf("postgres: load attribute paths: %w", err)
	}
	defer rows.Close()
	if err := s.aids.Load(rows); err != nil {
		return fmt.Errorf("postgres: load attribute paths: %w", err)
	}
	return nil
}

// --- transactions ------------------------------------------------------------

// maxAttempts bounds how often a write is retried after PostgreSQL aborted
// it for a deadlock or a serialization failure.
const maxAttempts = 8

// writeTimeout bounds a write once started. A write runs to its end even
// when its caller goes away: answering "canceled" for a create that then
// commits would make a client retry a create that succeeded.
const writeTimeout = 30 * time.Second

// errNoChange ends a write that found nothing to write; the caller is told
// of success.
var errNoChange = errors.New("no change")

// wtx is one write transaction.
type wtx struct {
	pgx.Tx
	s *Store
	// now is the write's time, to the millisecond (see store.TimeLayout).
	now time.Time
	// tenant is the tenant the write's changes and counts belong to.
	tenant string
	// changes are the change-feed entries of the write, given their
	// sequence numbers and inserted when it ends (changes.go).
	changes []pendingChange
	// counts are the moves of resource_counts, by type.
	counts map[string]int64
	// added are the attr_paths rows this write added or found; they reach
	// the Store's cache once the write commits.
	added map[sqlstore.PathKey]int64
}

// write runs fn in a transaction and commits it, retrying the whole
// transaction when PostgreSQL aborts it for a deadlock or a serialization
// failure; fn must therefore be safe to run again.
func (s *Store) write(ctx context.Context, tenant string, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		w := &wtx{s: s, now: s.now().UTC().Truncate(time.Millisecond), tenant: tenant,
			counts: map[string]int64{}, added: map[sqlstore.PathKey]int64{}}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			w.Tx = tx
			if err := fn(w); err != nil {
				return err
			}
			return w.finish(ctx)
		})
		if errors.Is(err, errNoChange) {
			return nil
		}
		if code, _ := pgCode(err); (code == deadlockDetected || code == serializationFailure) && attempt < maxAttempts {
			continue
		}
		if err == nil {
			s.noteWrites(len(w.changes))
			s.aids.Add(w.added)
		}
		return err
	}
}

// finish writes what the transaction gathered: the resource counts, then
// the change-feed entries, whose sequence numbers it takes last (see
// changes.go).
func (w *wtx) finish(ctx context.Context) error {
	// In a fixed order, so that two writers never wait on each other's
	// count rows.
	for _, typ := range []string{store.UserType, store.GroupType} {
		n := w.counts[typ]
		if n == 0 {
			continue
		}
		if _, err := w.Exec(ctx, `INSERT INTO resource_counts (tenant_id, type, n) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, type) DO UPDATE SET n = resource_counts.n + excluded.n`, w.tenant, typ, n); err != nil {
			return fmt.Errorf("postgres: count %s: %w", typ, err)
		}
	}
	return w.flushChanges(ctx)
}

// aids returns the ids of attribute paths of a tenant's resource type,
// adding the new ones. They are added in path order: transactions adding
// overlapping sets of paths then wait for each other in one order, where
// any other order could deadlock. A concurrent transaction adding the same
// path makes the insert wait for its outcome; then either this one inserts
// it or the select finds the committed row.
func (w *wtx) aids(ctx context.Context, tenant, typ string, paths []string) (map[string]int64, error) {
	out := make(map[string]int64, len(paths))
	var missing []string
	for _, p := range paths {
		k := sqlstore.PathKey{Tenant: tenant, Type: typ, Path: p}
		if id, ok := w.s.aids.Get(k); ok {
			out[p] = id
		} else if id, ok := w.added[k]; ok {
			out[p] = id
		} else if _, dup := out[p]; !dup {
			out[p] = 0
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	if _, err := w.Exec(ctx, `INSERT INTO attr_paths (tenant_id, type, path)
		SELECT $1, $2, p FROM unnest($3::text[]) WITH ORDINALITY AS u (p, n) ORDER BY n
		ON CONFLICT DO NOTHING`, tenant, typ, missing); err != nil {
		return nil, fmt.Errorf("postgres: add attribute paths: %w", err)
	}
	rows, err := w.Query(ctx, `SELECT path, aid FROM attr_paths WHERE tenant_id = $1 AND type = $2 AND path = ANY($3)`,
		tenant, typ, missing)
	if err != nil {
		return nil, fmt.Errorf("postgres: read attribute paths: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var id int64
		if err := rows.Scan(&p, &id); err != nil {
			return nil, fmt.Errorf("postgres: read attribute paths: %w", err)
		}
		out[p] = id
		w.added[sqlstore.PathKey{Tenant: tenant, Type: typ, Path: p}] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read attribute paths: %w", err)
	}
	for _, p := range missing {
		if out[p] == 0 {
			return nil, fmt.Errorf("postgres: attribute path %q was neither added nor found", p)
		}
	}
	return out, nil
}

// nullString turns a sql.NullString into what pgx binds as text or NULL.
func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
