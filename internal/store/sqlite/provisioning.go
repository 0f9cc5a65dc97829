package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// The provisioning engine's records (store.Provisioning); see the second
// and third migrations for the tables. What does not depend on SQLite
// (rows and arguments, checks, the flow of each write, batches of logs,
// pages) is in sqlstore; here are the statements, the writes and
// SQLite's errors. Writes go through the writer like the directory's,
// and follow its rule (writer.go): whatever can fail for the caller is
// checked before the first statement that writes.

// readConn runs fn, a read of one statement, on a read connection: one
// statement reads one snapshot by itself, so it needs no transaction.
func (s *Store) readConn(ctx context.Context, fn func(c *conn) error) error {
	c, err := s.r.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.r.release(c)
	return fn(c)
}

// reader adapts a read connection, or a write, to sqlstore.Querier.
type reader struct{ q querier }

func (r reader) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return r.q.QueryRowContext(ctx, query, args...)
}

func (r reader) Query(ctx context.Context, read func(sqlstore.Rows) error, query string, args ...any) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return read(rows)
}

// list runs a query on a read connection and reads every row of its
// result with scan.
func list[T any](ctx context.Context, s *Store, scan func(sqlstore.Row) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := s.readConn(ctx, func(c *conn) (err error) {
		out, err = sqlstore.List(ctx, reader{c}, scan, query, args...)
		return err
	})
	return out, err
}

// fencedWrite runs, as one write, fn, if any, and then appends b, if any,
// once it has checked there the fence store.WithFence put in ctx, if any
// (sqlstore.Fenced); it returns the write's time. No claim can come
// between the check and fn's statements, since the writer runs one
// transaction at a time and other processes wait for its lock (BEGIN
// IMMEDIATE).
func (s *Store) fencedWrite(ctx context.Context, b *sqlstore.LogBatch, fn func(w *wtx) error) (time.Time, error) {
	var now time.Time
	err := s.write(ctx, func(w *wtx) error {
		now = w.now
		return sqlstore.Fenced(ctx, "sqlite", w, b, fn)
	})
	return now, err
}

// deleteRows runs query, a DELETE, as one write, and returns how many
// rows it deleted; its failure is said as what was being done.
func (s *Store) deleteRows(ctx context.Context, what, query string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return sqlstore.Wrap(err, "sqlite: %s", what)
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// appWriteError turns a failed insert or update of an apps row into the
// client error it stands for, or returns nil for nil.
func appWriteError(err error, a *store.App) error {
	switch {
	case err == nil:
		return nil
	case isForeignKey(err):
		return store.NotFound("tenant %q not found", a.TenantID)
	case isUnique(err) && strings.Contains(err.Error(), "apps.name_key"):
		return sqlstore.AppNameTaken(a.Name)
	case isUnique(err):
		return sqlstore.AppIDTaken(a.ID)
	}
	return fmt.Errorf("sqlite: write application %s: %w", a.ID, err)
}

// appMissing returns the sqlstore.AppNotFound of appID for err, when err
// is the violation of a foreign key, which in a write of an application's
// records is the reference to the application; and err otherwise.
func appMissing(err error, appID string) error {
	if isForeignKey(err) {
		return sqlstore.AppNotFound(appID)
	}
	return err
}

// --- applications ------------------------------------------------------------

// appSQL reads the application of the tenant ?1 whose id is ?2.
const appSQL = `SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE tenant_id = ?1 AND id = ?2`

// CreateApp stores a new application (sqlstore.CreateApp). A name taken
// in the tenant, ignoring case, is store.ErrNameTaken; an id taken in any
// tenant is store.ErrIDTaken.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	return sqlstore.CreateApp(a, func(c *store.App) (now time.Time, err error) {
		err = s.write(ctx, func(w *wtx) error {
			now = w.now
			_, err := w.ExecContext(ctx, `INSERT INTO apps (id, tenant_id, name, name_key, template, config, control, secret,
				enabled, version, created_at, last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)`,
				sqlstore.AppArgs(c, w.now)...)
			return appWriteError(err, c)
		})
		return now, err
	})
}

// App reads an application by id, or returns store.ErrNotFound.
func (s *Store) App(ctx context.Context, tenantID, id string) (*store.App, error) {
	var a *store.App
	err := s.readConn(ctx, func(c *conn) (err error) {
		a, err = sqlstore.ReadApp(c.QueryRowContext(ctx, appSQL, tenantID, id), id)
		return sqlstore.Wrap(err, "sqlite: read application %s", id)
	})
	return a, err
}

// AppByName reads an application by name, ignoring case, or returns
// store.ErrNotFound.
func (s *Store) AppByName(ctx context.Context, tenantID, name string) (*store.App, error) {
	var a *store.App
	err := s.readConn(ctx, func(c *conn) (err error) {
		a, err = sqlstore.ReadApp(c.QueryRowContext(ctx, `SELECT `+sqlstore.AppColumns+` FROM apps WHERE tenant_id = ?1 AND name_key = ?2`,
			tenantID, sqlfilter.FoldKey(name)), name)
		return sqlstore.Wrap(err, "sqlite: read application %s", name)
	})
	return a, err
}

// Apps lists a tenant's applications in name order, ignoring case, or
// with tenantID "" every tenant's, by tenant id and then name.
func (s *Store) Apps(ctx context.Context, tenantID string) ([]*store.App, error) {
	query, args := sqlstore.AppsSQL(sqlfilter.SQLite{}, tenantID)
	out, err := list(ctx, s, sqlstore.ScanApp, query, args...)
	return out, sqlstore.Wrap(err, "sqlite: list applications")
}

// UpdateApp reads the application, calls change on a copy of it and writes
// the result, in one write (sqlstore.UpdateApp). change may be called
// again, on a fresh copy, when a batch of writes is redone (writer.go).
func (s *Store) UpdateApp(ctx context.Context, tenantID, id string, ifVersion int64, change func(*store.App) error) (*store.App, error) {
	return sqlstore.UpdateApp(ifVersion, change, func(update sqlstore.AppUpdate) error {
		return s.write(ctx, func(w *wtx) error {
			cur, err := sqlstore.ReadApp(w.QueryRowContext(ctx, appSQL, tenantID, id), id)
			if err != nil {
				return sqlstore.Wrap(err, "sqlite: read application %s", id)
			}
			return update(cur, w.now, errNoChange, func(next *store.App) error {
				_, err := w.ExecContext(ctx, `UPDATE apps SET name = ?3, name_key = ?4, template = ?5, config = ?6,
					control = ?7, secret = ?8, enabled = ?9, version = version + 1, last_modified = ?10
					WHERE id = ?1 AND tenant_id = ?2`, sqlstore.AppArgs(next, w.now)...)
				return appWriteError(err, next)
			})
		})
	})
}

// DeleteApp removes an application with its assignments, links, escrows,
// job state and lease, or returns store.ErrNotFound. Its provisioning logs stay.
func (s *Store) DeleteApp(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, func(w *wtx) error {
		if err := w.appExists(ctx, tenantID, id); err != nil {
			return err
		}
		for _, q := range sqlstore.DeleteAppSQL(sqlfilter.SQLite{}) {
			if _, err := w.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("sqlite: delete application %s: %w", id, err)
			}
		}
		return nil
	})
}

// appExists returns store.ErrNotFound unless the tenant has the application.
func (w *wtx) appExists(ctx context.Context, tenantID, id string) error {
	var one int
	err := w.QueryRowContext(ctx, `SELECT 1 FROM apps WHERE tenant_id = ?1 AND id = ?2`, tenantID, id).Scan(&one)
	return sqlstore.Wrap(sqlstore.NoRowsAs(err, sqlstore.AppNotFound(id)), "sqlite: read application %s", id)
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
	return s.write(ctx, func(w *wtx) error {
		if err := w.appExists(ctx, tenantID, a.AppID); err != nil {
			return err
		}
		var rid int64
		err := w.QueryRowContext(ctx, `SELECT rid FROM resources WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`,
			tenantID, a.PrincipalType, a.PrincipalID).Scan(&rid)
		if err == nil {
			_, err = w.ExecContext(ctx, `INSERT INTO app_assignments (app_id, principal_type, principal_id, principal_rid, role,
				created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
				ON CONFLICT (app_id, principal_type, principal_id) DO UPDATE SET role = excluded.role`,
				a.AppID, a.PrincipalType, a.PrincipalID, rid, a.Role, timeText(w.now))
		}
		if err != nil {
			return sqlstore.Wrap(sqlstore.NoRowsAs(err, sqlstore.PrincipalNotFound(a)), "sqlite: assign %s %s", a.PrincipalType, a.PrincipalID)
		}
		return w.change(ctx, tenantID, a.PrincipalType, a.PrincipalID, store.OpAssignment, store.ChangeDetail{})
	})
}

// Unassign removes an assignment, or returns store.ErrNotFound, and appends an
// OpAssignment change for the principal.
func (s *Store) Unassign(ctx context.Context, tenantID, appID, principalType, principalID string) error {
	return s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM app_assignments WHERE app_id = ?2 AND principal_type = ?3
			AND principal_id = ?4 AND EXISTS (SELECT 1 FROM apps WHERE id = ?2 AND tenant_id = ?1)`,
			tenantID, appID, principalType, principalID)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: unassign %s %s: %w", principalType, principalID, err)
		}
		if n == 0 {
			return sqlstore.NotAssigned(appID, principalType, principalID)
		}
		return w.change(ctx, tenantID, principalType, principalID, store.OpAssignment, store.ChangeDetail{})
	})
}

// Assignments lists an application's assignments, groups first, each type
// in id order; an application the tenant does not have has none.
func (s *Store) Assignments(ctx context.Context, tenantID, appID string) ([]store.Assignment, error) {
	out, err := list(ctx, s, sqlstore.ScanAssignment, `SELECT `+sqlstore.AssignmentColumns+`
		FROM app_assignments a JOIN apps p ON p.id = a.app_id
		WHERE a.app_id = ?2 AND p.tenant_id = ?1 ORDER BY a.principal_type, a.principal_id`, tenantID, appID)
	return out, sqlstore.Wrap(err, "sqlite: list assignments of application %s", appID)
}

// AssignmentsPage implements store.Store.
func (s *Store) AssignmentsPage(ctx context.Context, tenantID, appID string, after store.Assignment, limit int) ([]store.Assignment, error) {
	out, err := list(ctx, s, sqlstore.ScanAssignment, `SELECT `+sqlstore.AssignmentColumns+`
		FROM app_assignments a JOIN apps p ON p.id = a.app_id
		WHERE a.app_id = ?2 AND p.tenant_id = ?1 AND (a.principal_type, a.principal_id) > (?3, ?4)
		ORDER BY a.principal_type, a.principal_id LIMIT ?5`, tenantID, appID, after.PrincipalType, after.PrincipalID, limit)
	return out, sqlstore.Wrap(err, "sqlite: list assignments of application %s", appID)
}

// assignedToSQL selects 1 when the user ?3 of the tenant ?1 is assigned
// to the tenant's application ?2 directly, or is a direct member of a group
// assigned to it. The CROSS JOIN keeps SQLite to reading the user's few
// groups and looking each up among the assignments, rather than reading
// every assignment of the application, which may be thousands of users.
const assignedToSQL = `SELECT EXISTS (SELECT 1 FROM resources u JOIN apps p ON p.id = ?2 AND p.tenant_id = ?1
	WHERE u.tenant_id = ?1 AND u.type = 'User' AND u.id = ?3 AND (
		EXISTS (SELECT 1 FROM app_assignments a WHERE a.principal_rid = u.rid AND a.app_id = ?2)
		OR EXISTS (SELECT 1 FROM memberships m CROSS JOIN app_assignments a ON a.principal_rid = m.group_rid AND a.app_id = ?2
			WHERE m.member_rid = u.rid)))`

// AssignedTo reports whether a user is in an application's assignment
// scope: assigned directly, or a direct member of an assigned group. An
// unknown user or application is in no scope.
func (s *Store) AssignedTo(ctx context.Context, tenantID, appID, userID string) (bool, error) {
	var in bool
	err := s.readConn(ctx, func(c *conn) error {
		return c.QueryRowContext(ctx, assignedToSQL, tenantID, appID, userID).Scan(&in)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: assignment scope of application %s: %w", appID, err)
	}
	return in, nil
}

// --- links ------------------------------------------------------------------------

// readLink reads the link that where selects, or returns store.ErrNotFound.
func (s *Store) readLink(ctx context.Context, what, where string, args ...any) (*store.Link, error) {
	var l *store.Link
	err := s.readConn(ctx, func(c *conn) (err error) {
		l, err = sqlstore.ReadLink(c.QueryRowContext(ctx, `SELECT `+sqlstore.LinkColumns+` FROM app_links `+where, args...), what)
		return err
	})
	return l, sqlstore.Wrap(err, "sqlite: read link of %s", what)
}

// Link reads the link of a source object, or returns store.ErrNotFound.
func (s *Store) Link(ctx context.Context, appID, sourceType, sourceID string) (*store.Link, error) {
	return s.readLink(ctx, sourceType+" "+strconv.Quote(sourceID),
		`WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`, appID, sourceType, sourceID)
}

// linkByTargetSQL selects the link of a target. SQLite, which has no
// statistics to go by, would rather read all the application's links in
// primary key order than look the target up and then each link's row.
const linkByTargetSQL = `INDEXED BY app_links_target
	WHERE app_id = ?1 AND source_type = ?2 AND target_id = ?3 ORDER BY source_id LIMIT 1`

// LinkByTarget reads the link of a target object, or returns
// store.ErrNotFound. Should several sources link to one target, it reads the
// first by source id.
func (s *Store) LinkByTarget(ctx context.Context, appID, sourceType, targetID string) (*store.Link, error) {
	return s.readLink(ctx, "target "+strconv.Quote(targetID), linkByTargetSQL, appID, sourceType, targetID)
}

// PutLink creates or replaces the link of l's source object and appends
// logs as AppendLogs does, in the same write (sqlstore.PutLink). A link
// of an application that does not exist is store.ErrNotFound, and nothing
// is written.
func (s *Store) PutLink(ctx context.Context, l *store.Link, logs ...*store.ProvisioningLog) error {
	if _, err := s.resourceType(l.SourceType); err != nil {
		return err
	}
	return sqlstore.PutLink(l, logs, func(b *sqlstore.LogBatch, created *time.Time) (time.Time, error) {
		return s.fencedWrite(ctx, b, func(w *wtx) error {
			// The link goes first: its insert is the one statement that can
			// fail for the caller (writer.go), before anything is written.
			_, err := w.ExecContext(ctx, `INSERT INTO app_links (`+sqlstore.LinkColumns+`) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
				ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
				target_id = excluded.target_id, exported = excluded.exported, updated_at = excluded.updated_at`,
				sqlstore.LinkArgs(l, w.now)...)
			if err == nil {
				err = w.QueryRowContext(ctx, `SELECT created_at FROM app_links WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
					l.AppID, l.SourceType, l.SourceID).Scan(sqlstore.TextTime(created))
			}
			return sqlstore.Wrap(appMissing(err, l.AppID), "sqlite: write link of %s %s", l.SourceType, l.SourceID)
		})
	})
}

// DeleteLink removes a link, if there is one, and appends logs as
// AppendLogs does, in the same write.
func (s *Store) DeleteLink(ctx context.Context, appID, sourceType, sourceID string, logs ...*store.ProvisioningLog) error {
	return sqlstore.WriteLogs(logs, func(b *sqlstore.LogBatch) (time.Time, error) {
		return s.fencedWrite(ctx, b, func(w *wtx) error {
			_, err := w.ExecContext(ctx, `DELETE FROM app_links WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
				appID, sourceType, sourceID)
			return sqlstore.Wrap(err, "sqlite: delete link of %s %s", sourceType, sourceID)
		})
	})
}

// DeleteLinks removes every link of an application and returns how many;
// an application that does not exist has none. It is one statement, so
// that a restart finds either every link or none, at the cost of holding
// the writer while an application's links are deleted, as DeleteApp does.
func (s *Store) DeleteLinks(ctx context.Context, appID string) (int, error) {
	return s.deleteRows(ctx, "delete links of application "+appID, `DELETE FROM app_links WHERE app_id = ?1`, appID)
}

// Links lists an application's links of one source type in source id
// order, after the source id after, at most limit (none for limit < 1).
func (s *Store) Links(ctx context.Context, appID, sourceType, after string, limit int) ([]*store.Link, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := list(ctx, s, sqlstore.ScanLink, `SELECT `+sqlstore.LinkColumns+` FROM app_links
		WHERE app_id = ?1 AND source_type = ?2 AND source_id > ?3 ORDER BY source_id LIMIT ?4`,
		appID, sourceType, after, limit)
	return out, sqlstore.Wrap(err, "sqlite: list links of application %s", appID)
}

// countLinksSQL counts the links of the tenant ?1's application ?2 with
// the source type ?3, and those whose source is not in the tenant's
// directory: one lookup per link in resources_id (tenant_id, type, id),
// which holds every column the lookup needs. The application must be the
// tenant's, or the tenant's directory says nothing about its links.
const countLinksSQL = `SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM resources r
		WHERE r.tenant_id = ?1 AND r.type = ?3 AND r.id = l.source_id))
	FROM app_links l WHERE l.app_id = ?2 AND l.source_type = ?3
	AND EXISTS (SELECT 1 FROM apps p WHERE p.id = ?2 AND p.tenant_id = ?1)`

// CountLinks counts the tenant's application's links of one source type,
// and those whose source object is no longer in the tenant's directory;
// an application the tenant does not have has none.
func (s *Store) CountLinks(ctx context.Context, tenantID, appID, sourceType string) (store.LinkCounts, error) {
	var n store.LinkCounts
	err := s.readConn(ctx, func(c *conn) error {
		return c.QueryRowContext(ctx, countLinksSQL, tenantID, appID, sourceType).Scan(&n.Total, &n.Orphaned)
	})
	if err != nil {
		return store.LinkCounts{}, fmt.Errorf("sqlite: count links of application %s: %w", appID, err)
	}
	return n, nil
}

// --- escrows ------------------------------------------------------------------------

// putEscrowSQL creates or replaces an escrow. A NULL first failure (?8)
// keeps the replaced escrow's, or is the last failure (?9) for a new one.
const putEscrowSQL = `INSERT INTO app_escrows (` + sqlstore.EscrowColumns + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, ?9), ?9, ?10)
	ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
	source_name = excluded.source_name, attempts = excluded.attempts, retryable = excluded.retryable,
	next_try = excluded.next_try, first_failed = coalesce(?8, app_escrows.first_failed),
	last_failed = excluded.last_failed, record = excluded.record`

// PutEscrow creates or replaces the escrow of e's object
// (sqlstore.PutEscrow). An escrow of an application that does not exist
// is store.ErrNotFound.
func (s *Store) PutEscrow(ctx context.Context, e *store.Escrow) error {
	if _, err := s.resourceType(e.SourceType); err != nil {
		return err
	}
	return sqlstore.PutEscrow(e, func(args func(time.Time) []any, first *time.Time) error {
		_, err := s.fencedWrite(ctx, nil, func(w *wtx) error {
			_, err := w.ExecContext(ctx, putEscrowSQL, args(w.now)...)
			if err == nil {
				err = w.QueryRowContext(ctx, `SELECT first_failed FROM app_escrows WHERE app_id = ?1 AND source_type = ?2
					AND source_id = ?3`, e.AppID, e.SourceType, e.SourceID).Scan(sqlstore.TextTime(first))
			}
			return sqlstore.Wrap(appMissing(err, e.AppID), "sqlite: write escrow of %s %s", e.SourceType, e.SourceID)
		})
		return err
	})
}

// DeleteEscrow removes an escrow, if there is one.
func (s *Store) DeleteEscrow(ctx context.Context, appID, sourceType, sourceID string) error {
	_, err := s.fencedWrite(ctx, nil, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `DELETE FROM app_escrows WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
			appID, sourceType, sourceID)
		return sqlstore.Wrap(err, "sqlite: delete escrow of %s %s", sourceType, sourceID)
	})
	return err
}

// Escrows lists the escrows of an application that q selects, in (source
// type, source id) order. Limit is 100 when zero, and at most 1000.
func (s *Store) Escrows(ctx context.Context, appID string, q store.EscrowQuery) ([]*store.Escrow, error) {
	query, args := escrowsSQL(appID, q)
	out, err := list(ctx, s, sqlstore.ScanEscrow, query, args...)
	return out, sqlstore.Wrap(err, "sqlite: list escrows of application %s", appID)
}

// escrowsSQL returns the query of a page of an application's escrows. The
// due escrows are read off app_escrows_due, which SQLite, without
// statistics to go by, would pass over for the primary key to save the
// sort; but the due escrows are usually few among many waiting.
func escrowsSQL(appID string, q store.EscrowQuery) (string, []any) {
	return sqlstore.EscrowsSQL(sqlfilter.SQLite{}, appID, q, "app_escrows INDEXED BY app_escrows_due", "retryable = 1")
}

// countEscrowsSQL counts an application's escrows, and the retryable ones,
// off app_escrows_due alone.
const countEscrowsSQL = `SELECT count(*), count(*) FILTER (WHERE retryable = 1) FROM app_escrows WHERE app_id = ?1`

// CountEscrows counts an application's escrows, and the retryable ones
// among them.
func (s *Store) CountEscrows(ctx context.Context, appID string) (total, retryable int, err error) {
	err = s.readConn(ctx, func(c *conn) error {
		return c.QueryRowContext(ctx, countEscrowsSQL, appID).Scan(&total, &retryable)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: count escrows of application %s: %w", appID, err)
	}
	return total, retryable, nil
}

// DeleteEscrows removes every escrow of an application and returns how
// many.
func (s *Store) DeleteEscrows(ctx context.Context, appID string) (int, error) {
	return s.deleteRows(ctx, "delete escrows of application "+appID, `DELETE FROM app_escrows WHERE app_id = ?1`, appID)
}

// --- job state and lease -------------------------------------------------------------

// JobState reads an application's job state; one never written is the
// zero JobState with AppID set.
func (s *Store) JobState(ctx context.Context, appID string) (*store.JobState, error) {
	var js *store.JobState
	err := s.readConn(ctx, func(c *conn) (err error) {
		js, err = sqlstore.ReadJobState(c.QueryRowContext(ctx, `SELECT `+sqlstore.JobStateColumns+` FROM job_states WHERE app_id = ?1`,
			appID), appID)
		return err
	})
	return js, sqlstore.Wrap(err, "sqlite: read job state of application %s", appID)
}

// PutJobState writes an application's job state (sqlstore.PutJobState).
// The state of an application that does not exist is store.ErrNotFound.
// With a fence, the lease is read and checked in the write's
// transaction: no claim can come between the check and the write, since
// the writer runs one transaction at a time and other processes wait for
// its lock (BEGIN IMMEDIATE).
func (s *Store) PutJobState(ctx context.Context, js *store.JobState, fence ...store.Lease) error {
	return sqlstore.PutJobState("sqlite", js, fence, func(fence *store.Lease) (now time.Time, err error) {
		err = s.write(ctx, func(w *wtx) error {
			now = w.now
			// Checked before the first statement that writes (writer.go).
			err := sqlstore.CheckFence(ctx, w, js.AppID, fence)
			if err == nil {
				_, err = w.ExecContext(ctx, `INSERT INTO job_states (app_id, `+sqlstore.JobStateColumns+`) VALUES (?1, ?2, ?3, ?4)
					ON CONFLICT (app_id) DO UPDATE SET watermark = excluded.watermark, state = excluded.state,
					updated_at = excluded.updated_at`, sqlstore.JobStateArgs(js, w.now)...)
			}
			return sqlstore.Wrap(appMissing(err, js.AppID), "sqlite: write job state of application %s", js.AppID)
		})
		return now, err
	})
}

// claimSQL takes the lease on a job (?1) for an owner (?2) until ?3 when
// nobody holds it (no row, no owner, or expired by ?4) or the owner does:
// one statement, so that of several claimers exactly one takes a free
// lease. It changes a row exactly when the owner holds the lease after
// it. The generation is kept by a renewal of the unexpired holder's lease
// and incremented by any other claim that takes it; SET reads the row as
// it was.
const claimSQL = `INSERT INTO job_leases (app_id, owner, expires_at, generation) VALUES (?1, ?2, ?3, 1)
	ON CONFLICT (app_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
		generation = CASE WHEN job_leases.owner = excluded.owner AND job_leases.expires_at > ?4
			THEN job_leases.generation ELSE job_leases.generation + 1 END
	WHERE job_leases.owner IN (excluded.owner, '') OR job_leases.expires_at <= ?4`

// ClaimJob takes or renews owner's lease on an application's job until
// the store's clock plus ttl, and returns the lease as it stands after the
// call and whether owner holds it. A lease expires at its end: from then
// on another owner can take it. Claiming the job of an application that
// does not exist is store.ErrNotFound.
func (s *Store) ClaimJob(ctx context.Context, appID, owner string, ttl time.Duration) (store.Lease, bool, error) {
	if owner == "" || ttl <= 0 {
		return store.Lease{}, false, fmt.Errorf("sqlite: claim job of application %s: an owner and a positive ttl are needed", appID)
	}
	var lease store.Lease
	var held bool
	err := s.write(ctx, func(w *wtx) error {
		// Lease times are not truncated as w.now is: Expires is never
		// earlier than ttl after the call.
		now := s.now()
		res, err := w.ExecContext(ctx, claimSQL, appID, owner, timeText(now.Add(ttl)), timeText(now))
		if err == nil {
			var n int64
			n, err = res.RowsAffected()
			held = n == 1
		}
		if err == nil {
			lease, err = readLease(ctx, w, appID)
		}
		return sqlstore.Wrap(appMissing(err, appID), "sqlite: claim job of application %s", appID)
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
	return s.write(ctx, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `UPDATE job_leases SET owner = '', expires_at = CASE WHEN expires_at > ?3 THEN ?3
			ELSE expires_at END WHERE app_id = ?1 AND owner = ?2 AND owner <> ''`, appID, owner, timeText(s.now()))
		return sqlstore.Wrap(err, "sqlite: release job of application %s", appID)
	})
}

// JobLease reads the lease on an application's job; one never claimed is
// the zero Lease with AppID set.
func (s *Store) JobLease(ctx context.Context, appID string) (store.Lease, error) {
	var lease store.Lease
	err := s.readConn(ctx, func(c *conn) (err error) {
		lease, err = readLease(ctx, c, appID)
		return err
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: read job lease of application %s: %w", appID, err)
	}
	return lease, nil
}

// readLease reads the lease on a job, or the zero Lease with AppID set.
func readLease(ctx context.Context, q querier, appID string) (store.Lease, error) {
	return sqlstore.ReadLease(q.QueryRowContext(ctx, `SELECT `+sqlstore.LeaseColumns+` FROM job_leases WHERE app_id = ?1`, appID), appID)
}

// LeaseAt reads a lease in w, and the store's clock to hold it against
// (sqlstore.Tx): w alone holds the database's write lock, so the lease
// stays as read until w ends.
func (w *wtx) LeaseAt(ctx context.Context, appID string) (store.Lease, time.Time, error) {
	cur, err := readLease(ctx, w, appID)
	return cur, w.s.now(), err
}

// --- provisioning logs ---------------------------------------------------------------

func insertLogsSQL(rows int) string {
	return "INSERT INTO provisioning_logs (" + sqlstore.LogColumns + ") VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?),", rows), ",") +
		" ON CONFLICT (id) DO NOTHING"
}

// AppendLogs inserts the batch's records in their order, a record without
// At at the write's time (sqlstore.Tx). A record whose ID is already
// stored is skipped.
func (w *wtx) AppendLogs(ctx context.Context, b *sqlstore.LogBatch) error {
	// Rows go in by statements of 64, 8 and 1 rows: few executions, and
	// only three statements to keep prepared.
	for i := 0; i < b.Len(); {
		n := 1
		for _, size := range []int{64, 8} {
			if b.Len()-i >= size {
				n = size
				break
			}
		}
		args := make([]any, 0, 13*n)
		for j := i; j < i+n; j++ {
			args = append(args, b.Values(j, w.now)...)
		}
		if _, err := w.ExecContext(ctx, insertLogsSQL(n), args...); err != nil {
			return fmt.Errorf("sqlite: append provisioning logs: %w", err)
		}
		i += n
	}
	return nil
}

// AppendLogs stores provisioning-log records in one write, in their
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
	var out []*store.ProvisioningLog
	err := s.readConn(ctx, func(c *conn) (err error) {
		out, err = sqlstore.Logs(ctx, reader{c}, sqlfilter.SQLite{}, q, logsSQL)
		return err
	})
	return out, sqlstore.Wrap(err, "sqlite: read provisioning logs")
}

// logsSQL returns the query of a page of logs, which continues after cur
// when not nil. SQLite, which has no statistics to go by, takes the
// tenant's index over a narrower one for a range on at with both ends
// (Since and a cursor), and then reads all the tenant's records in the
// range. The store knows which index serves a query, the narrowest it has.
func logsSQL(q store.LogQuery, cur *sqlstore.Cursor) (string, []any) {
	index := "provisioning_logs_tenant"
	switch {
	case q.SourceID != "":
		index = "provisioning_logs_source"
	case q.SourceName != "":
		index = "provisioning_logs_name"
	case q.AppID != "":
		index = "provisioning_logs_app"
	}
	return sqlstore.LogsSQL(sqlfilter.SQLite{}, q, cur, "provisioning_logs INDEXED BY "+index,
		func(k string) string { return "source_name_key = " + k })
}

// PruneLogs deletes the records, of every tenant, older than before and
// returns how many it deleted. It deletes them a few thousand per write,
// so that other writes go on meanwhile.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int, error) {
	return sqlstore.Prune(func() (int, error) {
		return s.deleteRows(ctx, "prune provisioning logs",
			`DELETE FROM provisioning_logs WHERE seq IN (SELECT seq FROM provisioning_logs WHERE at < ?1 LIMIT ?2)`,
			timeText(before), sqlstore.PruneBatch)
	})
}

// --- audit log ---------------------------------------------------------------------

// AppendAudit stores an audit entry (sqlstore.AppendAudit). An entry
// whose ID is already stored is skipped.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	return sqlstore.AppendAudit(e, func(args func(time.Time) []any) error {
		return s.write(ctx, func(w *wtx) error {
			_, err := w.ExecContext(ctx, sqlstore.AuditInsertSQL(sqlfilter.SQLite{}), args(w.now)...)
			return sqlstore.Wrap(err, "sqlite: append an audit entry")
		})
	})
}

// Audit returns the entries q selects, newest first. Limit is 100 when
// zero, and at most 1000. A Before naming no entry of the tenant selects
// nothing.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEntry, error) {
	var out []*store.AuditEntry
	err := s.readConn(ctx, func(c *conn) (err error) {
		out, err = sqlstore.Audit(ctx, reader{c}, sqlfilter.SQLite{}, q)
		return err
	})
	return out, sqlstore.Wrap(err, "sqlite: read the audit log")
}
