package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// The provisioning engine's records (store.Provisioning); see the second
// and fourth migrations for the tables. What does not depend on
// PostgreSQL (rows and arguments, checks, the flow of each write, batches
// of logs, pages) is in sqlstore; here are the statements, the
// transactions and their locks, and PostgreSQL's errors. Each write is
// one transaction (Store.write). Writes that must
// not cross a concurrent one lock the row they depend on first: UpdateApp
// and DeleteApp take the application FOR UPDATE, Assign takes the
// application and the principal FOR KEY SHARE, so that an application or
// principal deleted meanwhile is either found gone or deleted after the
// assignment, with it.

// reader adapts the pool, or a transaction, to sqlstore.Querier.
type reader struct {
	q interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (r reader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return r.q.QueryRow(ctx, query, args...)
}

func (r reader) Query(ctx context.Context, read func(sqlstore.Rows) error, query string, args ...any) error {
	// The rows of a query that failed hold its error, which read finds
	// (pgx.Conn.Query).
	rows, _ := r.q.Query(ctx, query, args...)
	defer rows.Close()
	return read(rows)
}

// fencedWrite runs, in a transaction, fn, if any, and then appends b, if
// any, once it has checked there the fence store.WithFence put in ctx, if
// any, as PutJobState checks its fence (sqlstore.Fenced); it returns the
// transaction's time.
func (s *Store) fencedWrite(ctx context.Context, b *sqlstore.LogBatch, fn func(w *wtx) error) (time.Time, error) {
	var now time.Time
	err := s.write(ctx, "", func(w *wtx) error {
		now = w.now
		return sqlstore.Fenced(ctx, "postgres", w, b, fn)
	})
	return now, err
}

// deleteRows runs query, a DELETE, in a transaction of its own, and
// returns how many rows it deleted; its failure is said as what was being
// done.
func (s *Store) deleteRows(ctx context.Context, what, query string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, "", func(w *wtx) error {
		tag, err := w.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return sqlstore.Wrap(err, "postgres: %s", what)
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// appWriteError turns a failed insert or update of an apps row into the
// client error it stands for, or returns nil for nil.
func appWriteError(err error, a *store.App) error {
	if err == nil {
		return nil
	}
	switch code, constraint := pgCode(err); {
	case code == foreignKeyViolation:
		return store.NotFound("tenant %q not found", a.TenantID)
	case code == uniqueViolation && constraint == "apps_name_key":
		return sqlstore.AppNameTaken(a.Name)
	case code == uniqueViolation:
		return sqlstore.AppIDTaken(a.ID)
	}
	return fmt.Errorf("postgres: write application %s: %w", a.ID, err)
}

// appMissing returns the sqlstore.AppNotFound of appID for err, when err
// is the violation of a foreign key, which in a write of an application's
// records is the reference to the application; and err otherwise.
func appMissing(err error, appID string) error {
	if code, _ := pgCode(err); code == foreignKeyViolation {
		return sqlstore.AppNotFound(appID)
	}
	return err
}

// --- applications ------------------------------------------------------------

// appSQL reads the application of the tenant $1 whose id is $2.
const appSQL = `SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE tenant_id = $1 AND id = $2`

// CreateApp stores a new application (sqlstore.CreateApp). A name taken
// in the tenant, ignoring case, is store.ErrNameTaken; an id taken in any
// tenant is store.ErrIDTaken.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	return sqlstore.CreateApp(a, func(c *store.App) (now time.Time, err error) {
		err = s.write(ctx, c.TenantID, func(w *wtx) error {
			now = w.now
			_, err := w.Exec(ctx, `INSERT INTO apps (id, tenant_id, name, name_key, template, config, control, secret,
				enabled, version, created_at, last_modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)`,
				sqlstore.AppArgs(c, w.now)...)
			return appWriteError(err, c)
		})
		return now, err
	})
}

// App reads an application by id, or returns store.ErrNotFound.
func (s *Store) App(ctx context.Context, tenantID, id string) (*store.App, error) {
	a, err := sqlstore.ReadApp(s.pool.QueryRow(ctx, appSQL, tenantID, id), id)
	return a, sqlstore.Wrap(err, "postgres: read application %s", id)
}

// AppByName reads an application by name, ignoring case, or returns
// store.ErrNotFound.
func (s *Store) AppByName(ctx context.Context, tenantID, name string) (*store.App, error) {
	a, err := sqlstore.ReadApp(s.pool.QueryRow(ctx, `SELECT `+sqlstore.AppColumns+` FROM apps WHERE tenant_id = $1 AND name_key = $2`,
		tenantID, sqlfilter.FoldKey(name)), name)
	return a, sqlstore.Wrap(err, "postgres: read application %s", name)
}

// Apps lists a tenant's applications in name order, ignoring case, or
// with tenantID "" every tenant's, by tenant id and then name.
func (s *Store) Apps(ctx context.Context, tenantID string) ([]*store.App, error) {
	query, args := sqlstore.AppsSQL(sqlfilter.Postgres{}, tenantID)
	out, err := sqlstore.List(ctx, reader{s.pool}, sqlstore.ScanApp, query, args...)
	return out, sqlstore.Wrap(err, "postgres: list applications")
}

// UpdateApp reads the application FOR UPDATE, calls change on a copy of
// it and writes the result, in one transaction (sqlstore.UpdateApp).
// change may be called again, on a fresh copy, when the transaction is
// retried.
func (s *Store) UpdateApp(ctx context.Context, tenantID, id string, ifVersion int64, change func(*store.App) error) (*store.App, error) {
	return sqlstore.UpdateApp(ifVersion, change, func(update sqlstore.AppUpdate) error {
		return s.write(ctx, tenantID, func(w *wtx) error {
			cur, err := sqlstore.ReadApp(w.QueryRow(ctx, appSQL+" FOR UPDATE", tenantID, id), id)
			if err != nil {
				return sqlstore.Wrap(err, "postgres: read application %s", id)
			}
			return update(cur, w.now, errNoChange, func(next *store.App) error {
				_, err := w.Exec(ctx, `UPDATE apps SET name = $3, name_key = $4, template = $5, config = $6,
					control = $7, secret = $8, enabled = $9, version = version + 1, last_modified = $10
					WHERE id = $1 AND tenant_id = $2`, sqlstore.AppArgs(next, w.now)...)
				return appWriteError(err, next)
			})
		})
	})
}

// DeleteApp removes an application with its assignments, links, escrows,
// job state and lease, or returns store.ErrNotFound. Its provisioning logs stay.
func (s *Store) DeleteApp(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, tenantID, func(w *wtx) error {
		if err := w.lockApp(ctx, tenantID, id, "FOR UPDATE"); err != nil {
			return err
		}
		for _, q := range sqlstore.DeleteAppSQL(sqlfilter.Postgres{}) {
			if _, err := w.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("postgres: delete application %s: %w", id, err)
			}
		}
		return nil
	})
}

// lockApp locks the tenant's application row (lock is FOR UPDATE or FOR
// KEY SHARE), or returns store.ErrNotFound.
func (w *wtx) lockApp(ctx context.Context, tenantID, id, lock string) error {
	var one int
	err := w.QueryRow(ctx, `SELECT 1 FROM apps WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id).Scan(&one)
	return sqlstore.Wrap(sqlstore.NoRowsAs(err, sqlstore.AppNotFound(id)), "postgres: read application %s", id)
}

// --- assignments ---------------------------------------------------------------

// Assign assigns a user or group of the tenant to one of its applications,
// replacing the role of an existing assignment, and appends an
// OpAssignment change for the principal. The principal is named by its
// exact id, as Get names it.
func (s *Store) Assign(ctx context.Context, tenantID string, a store.Assignment) error {
	if err := sqlstore.CheckPrincipalType(a.PrincipalType); err != nil {
		return err
	}
	return s.write(ctx, tenantID, func(w *wtx) error {
		if err := w.lockApp(ctx, tenantID, a.AppID, "FOR KEY SHARE"); err != nil {
			return err
		}
		var rid int64
		err := w.QueryRow(ctx, `SELECT rid FROM resources WHERE tenant_id = $1 AND type = $2 AND id = $3 FOR KEY SHARE`,
			tenantID, a.PrincipalType, a.PrincipalID).Scan(&rid)
		if err == nil {
			_, err = w.Exec(ctx, `INSERT INTO app_assignments (app_id, principal_type, principal_id, principal_rid, role,
				created_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (app_id, principal_type, principal_id) DO UPDATE SET role = excluded.role`,
				a.AppID, a.PrincipalType, a.PrincipalID, rid, a.Role, timeText(w.now))
		}
		if err != nil {
			return sqlstore.Wrap(sqlstore.NoRowsAs(err, sqlstore.PrincipalNotFound(a)), "postgres: assign %s %s", a.PrincipalType, a.PrincipalID)
		}
		w.change(a.PrincipalType, a.PrincipalID, store.OpAssignment, store.ChangeDetail{})
		return nil
	})
}

// Unassign removes an assignment, or returns store.ErrNotFound, and appends an
// OpAssignment change for the principal.
func (s *Store) Unassign(ctx context.Context, tenantID, appID, principalType, principalID string) error {
	return s.write(ctx, tenantID, func(w *wtx) error {
		tag, err := w.Exec(ctx, `DELETE FROM app_assignments WHERE app_id = $2 AND principal_type = $3
			AND principal_id = $4 AND EXISTS (SELECT 1 FROM apps WHERE id = $2 AND tenant_id = $1)`,
			tenantID, appID, principalType, principalID)
		if err != nil {
			return fmt.Errorf("postgres: unassign %s %s: %w", principalType, principalID, err)
		}
		if tag.RowsAffected() == 0 {
			return sqlstore.NotAssigned(appID, principalType, principalID)
		}
		w.change(principalType, principalID, store.OpAssignment, store.ChangeDetail{})
		return nil
	})
}

// Assignments lists an application's assignments, groups first, each type
// in id order; an application the tenant does not have has none.
func (s *Store) Assignments(ctx context.Context, tenantID, appID string) ([]store.Assignment, error) {
	out, err := sqlstore.List(ctx, reader{s.pool}, sqlstore.ScanAssignment, `SELECT `+sqlstore.AssignmentColumns+`
		FROM app_assignments a JOIN apps p ON p.id = a.app_id
		WHERE a.app_id = $2 AND p.tenant_id = $1 ORDER BY a.principal_type, a.principal_id`, tenantID, appID)
	return out, sqlstore.Wrap(err, "postgres: list assignments of application %s", appID)
}

// AssignmentsPage implements store.Store.
func (s *Store) AssignmentsPage(ctx context.Context, tenantID, appID string, after store.Assignment, limit int) ([]store.Assignment, error) {
	out, err := sqlstore.List(ctx, reader{s.pool}, sqlstore.ScanAssignment, `SELECT `+sqlstore.AssignmentColumns+`
		FROM app_assignments a JOIN apps p ON p.id = a.app_id
		WHERE a.app_id = $2 AND p.tenant_id = $1 AND (a.principal_type, a.principal_id) > ($3, $4)
		ORDER BY a.principal_type, a.principal_id LIMIT $5`, tenantID, appID, after.PrincipalType, after.PrincipalID, limit)
	return out, sqlstore.Wrap(err, "postgres: list assignments of application %s", appID)
}

// assignedToSQL selects true when the user $3 of the tenant $1 is assigned
// to the tenant's application $2 directly, or is a direct member of a
// group assigned to it.
const assignedToSQL = `SELECT EXISTS (SELECT 1 FROM resources u JOIN apps p ON p.id = $2 AND p.tenant_id = $1
	WHERE u.tenant_id = $1 AND u.type = 'User' AND u.id = $3 AND (
		EXISTS (SELECT 1 FROM app_assignments a WHERE a.principal_rid = u.rid AND a.app_id = $2)
		OR EXISTS (SELECT 1 FROM memberships m JOIN app_assignments a ON a.principal_rid = m.group_rid AND a.app_id = $2
			WHERE m.member_rid = u.rid)))`

// AssignedTo reports whether a user is in an application's assignment
// scope: assigned directly, or a direct member of an assigned group. An
// unknown user or application is in no scope.
func (s *Store) AssignedTo(ctx context.Context, tenantID, appID, userID string) (bool, error) {
	var in bool
	if err := s.pool.QueryRow(ctx, assignedToSQL, tenantID, appID, userID).Scan(&in); err != nil {
		return false, fmt.Errorf("postgres: assignment scope of application %s: %w", appID, err)
	}
	return in, nil
}

// --- links ------------------------------------------------------------------------

// readLink reads the link that where selects, or returns store.ErrNotFound.
func (s *Store) readLink(ctx context.Context, what, where string, args ...any) (*store.Link, error) {
	l, err := sqlstore.ReadLink(s.pool.QueryRow(ctx, `SELECT `+sqlstore.LinkColumns+` FROM app_links `+where, args...), what)
	return l, sqlstore.Wrap(err, "postgres: read link of %s", what)
}

// Link reads the link of a source object, or returns store.ErrNotFound.
func (s *Store) Link(ctx context.Context, appID, sourceType, sourceID string) (*store.Link, error) {
	return s.readLink(ctx, sourceType+" "+strconv.Quote(sourceID),
		`WHERE app_id = $1 AND source_type = $2 AND source_id = $3`, appID, sourceType, sourceID)
}

// LinkByTarget reads the link of a target object, or returns
// store.ErrNotFound. Should several sources link to one target, it reads the
// first by source id.
func (s *Store) LinkByTarget(ctx context.Context, appID, sourceType, targetID string) (*store.Link, error) {
	return s.readLink(ctx, "target "+strconv.Quote(targetID),
		`WHERE app_id = $1 AND source_type = $2 AND target_id = $3 ORDER BY source_id LIMIT 1`, appID, sourceType, targetID)
}

// PutLink creates or replaces the link of l's source object and appends
// logs as AppendLogs does, in the same transaction (sqlstore.PutLink). A
// link of an application that does not exist is store.ErrNotFound, and
// nothing is written.
func (s *Store) PutLink(ctx context.Context, l *store.Link, logs ...*store.ProvisioningLog) error {
	if _, err := s.resourceType(l.SourceType); err != nil {
		return err
	}
	return sqlstore.PutLink(l, logs, func(b *sqlstore.LogBatch, created *time.Time) (time.Time, error) {
		return s.fencedWrite(ctx, b, func(w *wtx) error {
			err := w.QueryRow(ctx, `INSERT INTO app_links (`+sqlstore.LinkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)
				ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
				target_id = excluded.target_id, exported = excluded.exported, updated_at = excluded.updated_at
				RETURNING created_at`, sqlstore.LinkArgs(l, w.now)...).Scan(sqlstore.TextTime(created))
			return sqlstore.Wrap(appMissing(err, l.AppID), "postgres: write link of %s %s", l.SourceType, l.SourceID)
		})
	})
}

// DeleteLink removes a link, if there is one, and appends logs as
// AppendLogs does, in the same transaction.
func (s *Store) DeleteLink(ctx context.Context, appID, sourceType, sourceID string, logs ...*store.ProvisioningLog) error {
	return sqlstore.WriteLogs(logs, func(b *sqlstore.LogBatch) (time.Time, error) {
		return s.fencedWrite(ctx, b, func(w *wtx) error {
			_, err := w.Exec(ctx, `DELETE FROM app_links WHERE app_id = $1 AND source_type = $2 AND source_id = $3`,
				appID, sourceType, sourceID)
			return sqlstore.Wrap(err, "postgres: delete link of %s %s", sourceType, sourceID)
		})
	})
}

// DeleteLinks removes every link of an application and returns how many;
// an application that does not exist has none. It is one statement, so
// that a restart finds either every link or none.
func (s *Store) DeleteLinks(ctx context.Context, appID string) (int, error) {
	return s.deleteRows(ctx, "delete links of application "+appID, `DELETE FROM app_links WHERE app_id = $1`, appID)
}

// Links lists an application's links of one source type in source id
// order, after the source id after, at most limit (none for limit < 1).
func (s *Store) Links(ctx context.Context, appID, sourceType, after string, limit int) ([]*store.Link, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := sqlstore.List(ctx, reader{s.pool}, sqlstore.ScanLink, `SELECT `+sqlstore.LinkColumns+` FROM app_links
		WHERE app_id = $1 AND source_type = $2 AND source_id > $3 ORDER BY source_id LIMIT $4`,
		appID, sourceType, after, limit)
	return out, sqlstore.Wrap(err, "postgres: list links of application %s", appID)
}

// countLinksSQL counts the links of the tenant $1's application $2 with
// the source type $3, and those whose source is not in the tenant's
// directory: for each link, an index-only probe of resources_id_rid
// (tenant_id, type, id). PostgreSQL may instead hash the ids of the
// tenant's resources of the type, once, when it finds that cheaper; it
// never reads them per link. The application must be the tenant's, or the
// tenant's directory says nothing about its links.
const countLinksSQL = `SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM resources r
		WHERE r.tenant_id = $1 AND r.type = $3 AND r.id = l.source_id))
	FROM app_links l WHERE l.app_id = $2 AND l.source_type = $3
	AND EXISTS (SELECT 1 FROM apps p WHERE p.id = $2 AND p.tenant_id = $1)`

// CountLinks counts the tenant's application's links of one source type,
// and those whose source object is no longer in the tenant's directory;
// an application the tenant does not have has none.
func (s *Store) CountLinks(ctx context.Context, tenantID, appID, sourceType string) (store.LinkCounts, error) {
	var n store.LinkCounts
	if err := s.pool.QueryRow(ctx, countLinksSQL, tenantID, appID, sourceType).Scan(&n.Total, &n.Orphaned); err != nil {
		return store.LinkCounts{}, fmt.Errorf("postgres: count links of application %s: %w", appID, err)
	}
	return n, nil
}

// --- escrows ------------------------------------------------------------------------

// putEscrowSQL creates or replaces an escrow. A NULL first failure ($8)
// keeps the replaced escrow's, or is the last failure ($9) for a new one.
const putEscrowSQL = `INSERT INTO app_escrows (` + sqlstore.EscrowColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::text, $9::text), $9, $10)
	ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
	source_name = excluded.source_name, attempts = excluded.attempts, retryable = excluded.retryable,
	next_try = excluded.next_try, first_failed = coalesce($8::text, app_escrows.first_failed),
	last_failed = excluded.last_failed, record = excluded.record
	RETURNING first_failed`

// PutEscrow creates or replaces the escrow of e's object
// (sqlstore.PutEscrow). An escrow of an application that does not exist
// is store.ErrNotFound.
func (s *Store) PutEscrow(ctx context.Context, e *store.Escrow) error {
	if _, err := s.resourceType(e.SourceType); err != nil {
		return err
	}
	return sqlstore.PutEscrow(e, func(args func(time.Time) []any, first *time.Time) error {
		_, err := s.fencedWrite(ctx, nil, func(w *wtx) error {
			err := w.QueryRow(ctx, putEscrowSQL, args(w.now)...).Scan(sqlstore.TextTime(first))
			return sqlstore.Wrap(appMissing(err, e.AppID), "postgres: write escrow of %s %s", e.SourceType, e.SourceID)
		})
		return err
	})
}

// DeleteEscrow removes an escrow, if there is one.
func (s *Store) DeleteEscrow(ctx context.Context, appID, sourceType, sourceID string) error {
	_, err := s.fencedWrite(ctx, nil, func(w *wtx) error {
		_, err := w.Exec(ctx, `DELETE FROM app_escrows WHERE app_id = $1 AND source_type = $2 AND source_id = $3`,
			appID, sourceType, sourceID)
		return sqlstore.Wrap(err, "postgres: delete escrow of %s %s", sourceType, sourceID)
	})
	return err
}

// Escrows lists the escrows of an application that q selects, in (source
// type, source id) order. Limit is 100 when zero, and at most 1000.
func (s *Store) Escrows(ctx context.Context, appID string, q store.EscrowQuery) ([]*store.Escrow, error) {
	query, args := escrowsSQL(appID, q)
	out, err := sqlstore.List(ctx, reader{s.pool}, sqlstore.ScanEscrow, query, args...)
	return out, sqlstore.Wrap(err, "postgres: list escrows of application %s", appID)
}

// escrowsSQL returns the query of a page of an application's escrows; the
// due escrows can be found off app_escrows_due.
func escrowsSQL(appID string, q store.EscrowQuery) (string, []any) {
	return sqlstore.EscrowsSQL(sqlfilter.Postgres{}, appID, q, "app_escrows", "retryable")
}

// countEscrowsSQL counts an application's escrows, and the retryable ones.
const countEscrowsSQL = `SELECT count(*), count(*) FILTER (WHERE retryable) FROM app_escrows WHERE app_id = $1`

// CountEscrows counts an application's escrows, and the retryable ones
// among them.
func (s *Store) CountEscrows(ctx context.Context, appID string) (total, retryable int, err error) {
	if err := s.pool.QueryRow(ctx, countEscrowsSQL, appID).Scan(&total, &retryable); err != nil {
		return 0, 0, fmt.Errorf("postgres: count escrows of application %s: %w", appID, err)
	}
	return total, retryable, nil
}

// DeleteEscrows removes every escrow of an application and returns how
// many.
func (s *Store) DeleteEscrows(ctx context.Context, appID string) (int, error) {
	return s.deleteRows(ctx, "delete escrows of application "+appID, `DELETE FROM app_escrows WHERE app_id = $1`, appID)
}

// --- job state and lease -------------------------------------------------------------

// JobState reads an application's job state; one never written is the
// zero JobState with AppID set.
func (s *Store) JobState(ctx context.Context, appID string) (*store.JobState, error) {
	js, err := sqlstore.ReadJobState(s.pool.QueryRow(ctx, `SELECT `+sqlstore.JobStateColumns+` FROM job_states WHERE app_id = $1`,
		appID), appID)
	return js, sqlstore.Wrap(err, "postgres: read job state of application %s", appID)
}

// PutJobState writes an application's job state (sqlstore.PutJobState).
// The state of an application that does not exist is store.ErrNotFound.
// With a fence, the lease is read FOR SHARE in the write's transaction
// and checked: a claim that would take it over waits until the write has
// committed, and one that committed first is seen, so that no write lands
// after a takeover.
func (s *Store) PutJobState(ctx context.Context, js *store.JobState, fence ...store.Lease) error {
	return sqlstore.PutJobState("postgres", js, fence, func(fence *store.Lease) (now time.Time, err error) {
		err = s.write(ctx, "", func(w *wtx) error {
			now = w.now
			err := sqlstore.CheckFence(ctx, w, js.AppID, fence)
			if err == nil {
				_, err = w.Exec(ctx, `INSERT INTO job_states (app_id, `+sqlstore.JobStateColumns+`) VALUES ($1, $2, $3, $4)
					ON CONFLICT (app_id) DO UPDATE SET watermark = excluded.watermark, state = excluded.state,
					updated_at = excluded.updated_at`, sqlstore.JobStateArgs(js, w.now)...)
			}
			return sqlstore.Wrap(appMissing(err, js.AppID), "postgres: write job state of application %s", js.AppID)
		})
		return now, err
	})
}

// claimSQL takes the lease on a job ($1) for an owner ($2) until $3 when
// nobody holds it (no row, no owner, or expired by $4) or the owner does.
// It is one statement: of several transactions inserting the row at once,
// one inserts and the others wait for it to commit, then take the
// conflict path and see its row, so that exactly one of several claimers
// takes a free lease, whichever process each runs in. It changes a row
// exactly when the owner holds the lease after it, and locks the row
// either way. The generation is kept by a renewal of the unexpired
// holder's lease and incremented by any other claim that takes it; SET
// reads the row as it was.
const claimSQL = `INSERT INTO job_leases (app_id, owner, expires_at, generation) VALUES ($1, $2, $3, 1)
	ON CONFLICT (app_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
		generation = CASE WHEN job_leases.owner = excluded.owner AND job_leases.expires_at > $4
			THEN job_leases.generation ELSE job_leases.generation + 1 END
	WHERE job_leases.owner IN (excluded.owner, '') OR job_leases.expires_at <= $4`

// ClaimJob takes or renews owner's lease on an application's job until
// the database's clock plus ttl (see leaseNow), and returns the lease as
// it stands after the call and whether owner holds it. A lease expires at
// its end: from then on another owner can take it. Claiming the job of an
// application that does not exist is store.ErrNotFound.
func (s *Store) ClaimJob(ctx context.Context, appID, owner string, ttl time.Duration) (store.Lease, bool, error) {
	if owner == "" || ttl <= 0 {
		return store.Lease{}, false, fmt.Errorf("postgres: claim job of application %s: an owner and a positive ttl are needed", appID)
	}
	var lease store.Lease
	var held bool
	err := s.write(ctx, "", func(w *wtx) error {
		now, err := w.leaseNow(ctx)
		if err != nil {
			return fmt.Errorf("postgres: claim job of application %s: %w", appID, err)
		}
		tag, err := w.Exec(ctx, claimSQL, appID, owner, timeText(now.Add(ttl)), timeText(now))
		if err == nil {
			held = tag.RowsAffected() == 1
			// The row is locked by the claim, changed or not: this reads
			// the lease as the claim left it.
			lease, err = readLease(ctx, w, appID, "")
		}
		return sqlstore.Wrap(appMissing(err, appID), "postgres: claim job of application %s", appID)
	})
	if err != nil {
		return store.Lease{}, false, err
	}
	return lease, held, nil
}

// ReleaseJob gives up owner's lease, if owner holds it: the lease is left
// without an owner, ending now if it had not ended yet, with its
// generation.
func (s *Store) ReleaseJob(ctx context.Context, appID, owner string) error {
	return s.write(ctx, "", func(w *wtx) error {
		now, err := w.leaseNow(ctx)
		if err == nil {
			_, err = w.Exec(ctx, `UPDATE job_leases SET owner = '', expires_at = CASE WHEN expires_at > $3 THEN $3
				ELSE expires_at END WHERE app_id = $1 AND owner = $2 AND owner <> ''`, appID, owner, timeText(now))
		}
		return sqlstore.Wrap(err, "postgres: release job of application %s", appID)
	})
}

// JobLease reads the lease on an application's job; one never claimed is
// the zero Lease with AppID set.
func (s *Store) JobLease(ctx context.Context, appID string) (store.Lease, error) {
	lease, err := readLease(ctx, s.pool, appID, "")
	if err != nil {
		return store.Lease{}, fmt.Errorf("postgres: read job lease of application %s: %w", appID, err)
	}
	return lease, nil
}

// readLease reads the lease on a job, or the zero Lease with AppID set;
// lock is "" or a locking clause (" FOR SHARE").
func readLease(ctx context.Context, q querier, appID, lock string) (store.Lease, error) {
	return sqlstore.ReadLease(q.QueryRow(ctx, `SELECT `+sqlstore.LeaseColumns+` FROM job_leases WHERE app_id = $1`+lock, appID), appID)
}

// LeaseAt reads a lease FOR SHARE in w, and the time to hold it against,
// leaseNow (sqlstore.Tx): a claim that would take the lease over waits
// until w has committed, and one that committed first is seen.
func (w *wtx) LeaseAt(ctx context.Context, appID string) (store.Lease, time.Time, error) {
	cur, err := readLease(ctx, w, appID, " FOR SHARE")
	if err != nil {
		return store.Lease{}, time.Time{}, err
	}
	// After the lock: the lease cannot change from here on.
	now, err := w.leaseNow(ctx)
	return cur, now, err
}

// leaseNow is the time a lease is claimed, released or checked at: the
// database server's clock, which every replica shares, so that replicas
// whose clocks disagree still agree on when a lease ends; or the Store's
// clock when it was given one (Options.Now, for tests). It is read in the
// transaction, after the request was sent: a lease claimed at leaseNow
// ends at least ttl after the caller called ClaimJob.
func (w *wtx) leaseNow(ctx context.Context) (time.Time, error) {
	if !w.s.serverClock {
		return w.s.now(), nil
	}
	var now time.Time
	if err := w.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return now.UTC(), nil
}

// --- provisioning logs ---------------------------------------------------------------

// AppendLogs inserts the batch's records in one statement, in their
// order, a record without At at the transaction's time (sqlstore.Tx). A
// record whose ID is already stored is skipped.
func (w *wtx) AppendLogs(ctx context.Context, b *sqlstore.LogBatch) error {
	if b.Len() == 0 {
		return nil
	}
	// unnest takes the records a column at a time: a text[] per column of
	// sqlstore.LogColumns, NULL where a value is nil. Laid out here rather
	// than before the transaction: a retried transaction has its own time.
	rows := make([][]any, b.Len())
	for i := range rows {
		rows[i] = b.Values(i, w.now)
	}
	cols := make([]any, len(rows[0]))
	for c := range cols {
		col := make([]*string, len(rows))
		for i, r := range rows {
			if v, ok := r[c].(string); ok {
				col[i] = &v
			}
		}
		cols[c] = col
	}
	// ORDER BY n: the identity column numbers the rows in the order the
	// select gives them, which is the batch's.
	if _, err := w.Exec(ctx, `INSERT INTO provisioning_logs (`+sqlstore.LogColumns+`)
		SELECT i, t, a, c, at, ac, st, ty, si, nk, nm, tg, r::json
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
			WITH ORDINALITY AS u (i, t, a, c, at, ac, st, ty, si, nk, nm, tg, r, n)
		ORDER BY n
		ON CONFLICT (id) DO NOTHING`, cols...); err != nil {
		return fmt.Errorf("postgres: append provisioning logs: %w", err)
	}
	return nil
}

// AppendLogs stores provisioning-log records in one statement, in their
// order, setting ID (a new UUID) when empty and At (the write's time) when
// zero. A record whose ID is already stored is skipped, so that a batch
// whose outcome the caller did not learn can be appended again.
func (s *Store) AppendLogs(ctx context.Context, logs []*store.ProvisioningLog) error {
	return sqlstore.AppendLogs(logs, func(b *sqlstore.LogBatch) (time.Time, error) { return s.fencedWrite(ctx, b, nil) })
}

// Logs returns the records q selects, newest first: by At, and records of
// one instant in the reverse of the order they were appended. Limit is 100
// when zero, and at most 1000. A Before naming no record of the tenant
// selects nothing (sqlstore.Page).
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]*store.ProvisioningLog, error) {
	out, err := sqlstore.Logs(ctx, reader{s.pool}, sqlfilter.Postgres{}, q, logsSQL)
	return out, sqlstore.Wrap(err, "postgres: read provisioning logs")
}

// logsSQL returns the query of a page of logs, which continues after cur
// when not nil. The index on source names is on the md5 of the key (see
// the migration).
func logsSQL(q store.LogQuery, cur *sqlstore.Cursor) (string, []any) {
	return sqlstore.LogsSQL(sqlfilter.Postgres{}, q, cur, "provisioning_logs",
		func(k string) string { return "md5(source_name_key) = md5(" + k + ") AND source_name_key = " + k })
}

// PruneLogs deletes the records, of every tenant, older than before and
// returns how many it deleted, a few thousand per transaction.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int, error) {
	return sqlstore.Prune(func() (int, error) {
		return s.deleteRows(ctx, "prune provisioning logs",
			`DELETE FROM provisioning_logs WHERE seq IN (SELECT seq FROM provisioning_logs WHERE at < $1 LIMIT $2)`,
			timeText(before), sqlstore.PruneBatch)
	})
}

// --- audit log ---------------------------------------------------------------------

// AppendAudit stores an audit entry (sqlstore.AppendAudit). An entry
// whose ID is already stored is skipped.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	return sqlstore.AppendAudit(e, func(args func(time.Time) []any) error {
		return s.write(ctx, "", func(w *wtx) error {
			_, err := w.Exec(ctx, sqlstore.AuditInsertSQL(sqlfilter.Postgres{}), args(w.now)...)
			return sqlstore.Wrap(err, "postgres: append an audit entry")
		})
	})
}

// Audit returns the entries q selects, newest first. Limit is 100 when
// zero, and at most 1000. A Before naming no entry of the tenant selects
// nothing.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEntry, error) {
	out, err := sqlstore.Audit(ctx, reader{s.pool}, sqlfilter.Postgres{}, q)
	return out, sqlstore.Wrap(err, "postgres: read the audit log")
}
