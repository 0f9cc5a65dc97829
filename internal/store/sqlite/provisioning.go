package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The provisioning engine's records (store.Provisioning); see the second
// and third migrations for the tables. Writes go through the writer like
// the directory's, and follow its rule (writer.go): whatever can fail for
// the caller is checked before the first statement that writes.

const (
	// defaultLogLimit and maxLogLimit bound a page of provisioning logs.
	defaultLogLimit = 100
	maxLogLimit     = 1000
	// pruneBatch is how many log records one write of PruneLogs deletes,
	// so that other writes are not held up behind a large prune.
	pruneBatch = 5000
)

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

// jsonText returns what a JSON document column is bound to: its text, or
// NULL for none. Text rather than []byte, which SQLite would store as a
// BLOB.
func jsonText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// blob returns what a BLOB column is bound to: b, or NULL for none.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// appWriteError turns a failed insert or update of an apps row into the
// client error it stands for.
func appWriteError(err error, a *store.App) error {
	switch {
	case isForeignKey(err):
		return store.NotFound("tenant %q not found", a.TenantID)
	case isUnique(err) && strings.Contains(err.Error(), "apps.name_key"):
		return sqlfilter.AppNameTaken(a.Name)
	case isUnique(err):
		return store.Errorf(store.ErrIDTaken, "application id %q is already taken", a.ID)
	}
	return fmt.Errorf("sqlite: write application %s: %w", a.ID, err)
}

// --- applications ------------------------------------------------------------

// readApp reads the application a query of sqlfilter.AppColumns selects, or returns
// a store.ErrNotFound naming what.
func readApp(ctx context.Context, q querier, what, query string, args ...any) (*store.App, error) {
	a, err := sqlfilter.ScanApp(q.QueryRowContext(ctx, `SELECT `+sqlfilter.AppColumns+` FROM apps `+query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("application %q not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read application %s: %w", what, err)
	}
	return a, nil
}

// CreateApp stores a new application, setting ID (when empty), Version,
// Created and LastModified. A name taken in the tenant, ignoring case, is
// store.ErrNameTaken; an id taken in any tenant is store.ErrIDTaken, since
// links, job state and leases name an application by its id alone.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	if err := sqlfilter.CheckApp(a); err != nil {
		return err
	}
	c := *a
	if c.ID == "" {
		c.ID = store.NewID()
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `INSERT INTO apps
			(id, tenant_id, name, name_key, template, config, control, secret, enabled, version, created_at, last_modified)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)`,
			c.ID, c.TenantID, c.Name, sqlfilter.FoldKey(c.Name), c.Template, jsonText(c.Config), jsonText(c.Control),
			blob(c.Secret), c.Enabled, timeText(w.now))
		if err != nil {
			return appWriteError(err, &c)
		}
		c.Version, c.Created, c.LastModified = 1, w.now, w.now
		return nil
	})
	if err != nil {
		return err
	}
	*a = c
	return nil
}

// App reads an application by id, or returns store.ErrNotFound.
func (s *Store) App(ctx context.Context, tenantID, id string) (*store.App, error) {
	var a *store.App
	err := s.readConn(ctx, func(c *conn) (err error) {
		a, err = readApp(ctx, c, id, `WHERE tenant_id = ?1 AND id = ?2`, tenantID, id)
		return err
	})
	return a, err
}

// AppByName reads an application by name, ignoring case, or returns
// store.ErrNotFound.
func (s *Store) AppByName(ctx context.Context, tenantID, name string) (*store.App, error) {
	var a *store.App
	err := s.readConn(ctx, func(c *conn) (err error) {
		a, err = readApp(ctx, c, name, `WHERE tenant_id = ?1 AND name_key = ?2`, tenantID, sqlfilter.FoldKey(name))
		return err
	})
	return a, err
}

// Apps lists a tenant's applications in name order, ignoring case, or
// with tenantID "" every tenant's, by tenant id and then name.
func (s *Store) Apps(ctx context.Context, tenantID string) ([]*store.App, error) {
	query := `SELECT ` + sqlfilter.AppColumns + ` FROM apps WHERE tenant_id = ?1 ORDER BY name_key`
	var args []any
	if tenantID == "" {
		query = `SELECT ` + sqlfilter.AppColumns + ` FROM apps ORDER BY tenant_id, name_key`
	} else {
		args = append(args, tenantID)
	}
	var out []*store.App
	err := s.readConn(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := sqlfilter.ScanApp(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list applications: %w", err)
	}
	return out, nil
}

func cloneApp(a *store.App) *store.App {
	c := *a
	c.Config = bytes.Clone(a.Config)
	c.Control = bytes.Clone(a.Control)
	c.Secret = bytes.Clone(a.Secret)
	return &c
}

// sameApp reports whether b stores as a does.
func sameApp(a, b *store.App) bool {
	return a.Name == b.Name && a.Template == b.Template && bytes.Equal(a.Config, b.Config) &&
		bytes.Equal(a.Control, b.Control) && bytes.Equal(a.Secret, b.Secret) && a.Enabled == b.Enabled
}

// UpdateApp reads the application, calls change on a copy of it and writes
// the result, in one transaction. change cannot move the application
// (ID, TenantID) nor set the fields the store keeps (Version, Created,
// LastModified): those are restored. When change leaves the application as
// it was, nothing is written and the version stays. change may be called
// again, on a fresh copy, when a batch of writes is redone (writer.go).
func (s *Store) UpdateApp(ctx context.Context, tenantID, id string, ifVersion int64, change func(*store.App) error) (*store.App, error) {
	var out *store.App
	err := s.write(ctx, func(w *wtx) error {
		cur, err := readApp(ctx, w, id, `WHERE tenant_id = ?1 AND id = ?2`, tenantID, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return sqlfilter.VersionMismatch("application", id, cur.Version, ifVersion)
		}
		next := cloneApp(cur)
		if err := change(next); err != nil {
			return err
		}
		next.ID, next.TenantID, next.Version, next.Created, next.LastModified =
			cur.ID, cur.TenantID, cur.Version, cur.Created, cur.LastModified
		if err := sqlfilter.CheckApp(next); err != nil {
			return err
		}
		if sameApp(cur, next) {
			out = cur
			return errNoChange
		}
		// The update is the write's first and only statement: a name
		// taken is its only failure, and undoes nothing else.
		_, err = w.ExecContext(ctx, `UPDATE apps SET name = ?2, name_key = ?3, template = ?4, config = ?5,
			control = ?6, secret = ?7, enabled = ?8, version = version + 1, last_modified = ?9 WHERE id = ?1`,
			id, next.Name, sqlfilter.FoldKey(next.Name), next.Template, jsonText(next.Config), jsonText(next.Control),
			blob(next.Secret), next.Enabled, timeText(w.now))
		if err != nil {
			return appWriteError(err, next)
		}
		next.Version++
		next.LastModified = w.now
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteApp removes an application with its assignments, links, escrows,
// job state and lease, or returns store.ErrNotFound. Its provisioning logs stay.
func (s *Store) DeleteApp(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, func(w *wtx) error {
		if err := w.appExists(ctx, tenantID, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM app_assignments WHERE app_id = ?1`,
			`DELETE FROM app_links WHERE app_id = ?1`,
			`DELETE FROM app_escrows WHERE app_id = ?1`,
			`DELETE FROM job_states WHERE app_id = ?1`,
			`DELETE FROM job_leases WHERE app_id = ?1`,
			`DELETE FROM apps WHERE id = ?1`,
		} {
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
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFound("application %q not found", id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: read application %s: %w", id, err)
	}
	return nil
}

// --- assignments ---------------------------------------------------------------

// checkPrincipalType rejects a principal type that is not a resource
// type.
func checkPrincipalType(typ string) error {
	if typ != store.UserType && typ != store.GroupType {
		return store.Invalid("a principal is a %s or a %s, not %q", store.UserType, store.GroupType, typ)
	}
	return nil
}

// Assign assigns a user or group of the tenant to one of its applications,
// replacing the role of an existing assignment, and appends an
// OpAssignment change for the principal. The principal is named by its
// exact id, as Get names it.
func (s *Store) Assign(ctx context.Context, tenantID string, a store.Assignment) error {
	if err := checkPrincipalType(a.PrincipalType); err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		if err := w.appExists(ctx, tenantID, a.AppID); err != nil {
			return err
		}
		var rid int64
		err := w.QueryRowContext(ctx, `SELECT rid FROM resources WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`,
			tenantID, a.PrincipalType, a.PrincipalID).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Invalid("%s %q does not exist", strings.ToLower(a.PrincipalType), a.PrincipalID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: assign %s %s: %w", a.PrincipalType, a.PrincipalID, err)
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO app_assignments
			(app_id, principal_type, principal_id, principal_rid, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
			ON CONFLICT (app_id, principal_type, principal_id) DO UPDATE SET role = excluded.role`,
			a.AppID, a.PrincipalType, a.PrincipalID, rid, a.Role, timeText(w.now)); err != nil {
			return fmt.Errorf("sqlite: assign %s %s: %w", a.PrincipalType, a.PrincipalID, err)
		}
		return w.change(ctx, tenantID, a.PrincipalType, a.PrincipalID, store.OpAssignment)
	})
}

// Unassign removes an assignment, or returns store.ErrNotFound, and appends an
// OpAssignment change for the principal.
func (s *Store) Unassign(ctx context.Context, tenantID, appID, principalType, principalID string) error {
	return s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM app_assignments
			WHERE app_id = ?2 AND principal_type = ?3 AND principal_id = ?4
			AND EXISTS (SELECT 1 FROM apps WHERE id = ?2 AND tenant_id = ?1)`,
			tenantID, appID, principalType, principalID)
		if err != nil {
			return fmt.Errorf("sqlite: unassign %s %s: %w", principalType, principalID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: unassign %s %s: %w", principalType, principalID, err)
		} else if n == 0 {
			return store.NotFound("%s %q is not assigned to application %q", principalType, principalID, appID)
		}
		return w.change(ctx, tenantID, principalType, principalID, store.OpAssignment)
	})
}

// Assignments lists an application's assignments, groups first, each type
// in id order; an application the tenant does not have has none.
func (s *Store) Assignments(ctx context.Context, tenantID, appID string) ([]store.Assignment, error) {
	var out []store.Assignment
	err := s.readConn(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, `SELECT a.app_id, a.principal_type, a.principal_id, a.role, a.created_at
			FROM app_assignments a JOIN apps p ON p.id = a.app_id
			WHERE a.app_id = ?2 AND p.tenant_id = ?1 ORDER BY a.principal_type, a.principal_id`, tenantID, appID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a store.Assignment
			var created string
			if err := rows.Scan(&a.AppID, &a.PrincipalType, &a.PrincipalID, &a.Role, &created); err != nil {
				return err
			}
			if a.Created, err = parseTime(created); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list assignments of application %s: %w", appID, err)
	}
	return out, nil
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

const linkColumns = `app_id, source_type, source_id, target_id, exported, created_at, updated_at`

func scanLink(row interface{ Scan(...any) error }) (*store.Link, error) {
	var l store.Link
	var created, updated string
	if err := row.Scan(&l.AppID, &l.SourceType, &l.SourceID, &l.TargetID, &l.Exported, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if l.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	if l.Updated, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &l, nil
}

// readLink reads the link a query selects, or returns store.ErrNotFound.
func (s *Store) readLink(ctx context.Context, what, query string, args ...any) (*store.Link, error) {
	var l *store.Link
	err := s.readConn(ctx, func(c *conn) (err error) {
		l, err = scanLink(c.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM app_links `+query, args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("no link of %s", what)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read link of %s: %w", what, err)
	}
	return l, nil
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

// PutLink creates or replaces the link of l's source object, setting
// Created (on creation; a replaced link keeps its own) and Updated, and
// appends logs as AppendLogs does, in the same write. A link of an
// application that does not exist is store.ErrNotFound, and nothing is written.
func (s *Store) PutLink(ctx context.Context, l *store.Link, logs ...*store.ProvisioningLog) error {
	if _, err := s.resourceType(l.SourceType); err != nil {
		return err
	}
	if err := sqlfilter.CheckJSON("exported record", l.Exported); err != nil {
		return err
	}
	batch, err := newLogBatch(logs)
	if err != nil {
		return err
	}
	var created, updated time.Time
	err = s.write(ctx, func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		// The link goes first: its insert is the one statement that can
		// fail for the caller (writer.go), before anything is written.
		_, err := w.ExecContext(ctx, `INSERT INTO app_links (`+linkColumns+`) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
			ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
			target_id = excluded.target_id, exported = excluded.exported, updated_at = excluded.updated_at`,
			l.AppID, l.SourceType, l.SourceID, l.TargetID, jsonText(l.Exported), timeText(w.now))
		if isForeignKey(err) {
			return store.NotFound("application %q not found", l.AppID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: write link of %s %s: %w", l.SourceType, l.SourceID, err)
		}
		var c string
		if err := w.QueryRowContext(ctx, `SELECT created_at FROM app_links WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
			l.AppID, l.SourceType, l.SourceID).Scan(&c); err != nil {
			return fmt.Errorf("sqlite: write link of %s %s: %w", l.SourceType, l.SourceID, err)
		}
		if created, err = parseTime(c); err != nil {
			return fmt.Errorf("sqlite: write link of %s %s: %w", l.SourceType, l.SourceID, err)
		}
		updated = w.now
		return w.appendLogs(ctx, batch)
	})
	if err != nil {
		return err
	}
	l.Created, l.Updated = created, updated
	batch.done(updated)
	return nil
}

// DeleteLink removes a link, if there is one, and appends logs as
// AppendLogs does, in the same write.
func (s *Store) DeleteLink(ctx context.Context, appID, sourceType, sourceID string, logs ...*store.ProvisioningLog) error {
	batch, err := newLogBatch(logs)
	if err != nil {
		return err
	}
	var now time.Time
	err = s.write(ctx, func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		now = w.now
		if _, err := w.ExecContext(ctx, `DELETE FROM app_links WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
			appID, sourceType, sourceID); err != nil {
			return fmt.Errorf("sqlite: delete link of %s %s: %w", sourceType, sourceID, err)
		}
		return w.appendLogs(ctx, batch)
	})
	if err != nil {
		return err
	}
	batch.done(now)
	return nil
}

// DeleteLinks removes every link of an application and returns how many;
// an application that does not exist has none. It is one statement, so
// that a restart finds either every link or none, at the cost of holding
// the writer while an application's links are deleted, as DeleteApp does.
func (s *Store) DeleteLinks(ctx context.Context, appID string) (int, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM app_links WHERE app_id = ?1`, appID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete links of application %s: %w", appID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// Links lists an application's links of one source type in source id
// order, after the source id after, at most limit (none for limit < 1).
func (s *Store) Links(ctx context.Context, appID, sourceType, after string, limit int) ([]*store.Link, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []*store.Link
	err := s.readConn(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, `SELECT `+linkColumns+` FROM app_links
			WHERE app_id = ?1 AND source_type = ?2 AND source_id > ?3 ORDER BY source_id LIMIT ?4`,
			appID, sourceType, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLink(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list links of application %s: %w", appID, err)
	}
	return out, nil
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
const putEscrowSQL = `INSERT INTO app_escrows (` + sqlfilter.EscrowColumns + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, coalesce(?8, ?9), ?9, ?10)
	ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
	source_name = excluded.source_name, attempts = excluded.attempts, retryable = excluded.retryable,
	next_try = excluded.next_try, first_failed = coalesce(?8, app_escrows.first_failed),
	last_failed = excluded.last_failed, record = excluded.record`

// PutEscrow creates or replaces the escrow of e's object. A zero
// LastFailed is the write's time; a zero FirstFailed keeps the replaced
// escrow's, or is LastFailed for a new one. NextTry is kept only for a
// retryable escrow. It sets e's times to what is stored. An escrow of an
// application that does not exist is store.ErrNotFound.
func (s *Store) PutEscrow(ctx context.Context, e *store.Escrow) error {
	if _, err := s.resourceType(e.SourceType); err != nil {
		return err
	}
	if err := sqlfilter.CheckJSON("escrow record", e.Record); err != nil {
		return err
	}
	var first, last time.Time
	err := s.write(ctx, func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		if last = e.LastFailed; last.IsZero() {
			last = w.now
		}
		var firstText any
		if !e.FirstFailed.IsZero() {
			firstText = timeText(e.FirstFailed)
		}
		_, err := w.ExecContext(ctx, putEscrowSQL, e.AppID, e.SourceType, e.SourceID, e.SourceName, e.Attempts,
			e.Retryable, sqlfilter.EscrowNextTry(e), firstText, timeText(last), jsonText(e.Record))
		if isForeignKey(err) {
			return store.NotFound("application %q not found", e.AppID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: write escrow of %s %s: %w", e.SourceType, e.SourceID, err)
		}
		var f string
		if err := w.QueryRowContext(ctx, `SELECT first_failed FROM app_escrows
			WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`, e.AppID, e.SourceType, e.SourceID).Scan(&f); err != nil {
			return fmt.Errorf("sqlite: write escrow of %s %s: %w", e.SourceType, e.SourceID, err)
		}
		if first, err = parseTime(f); err != nil {
			return fmt.Errorf("sqlite: write escrow of %s %s: %w", e.SourceType, e.SourceID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.FirstFailed, e.LastFailed = first, last
	if !e.Retryable {
		e.NextTry = time.Time{}
	}
	return nil
}

// DeleteEscrow removes an escrow, if there is one.
func (s *Store) DeleteEscrow(ctx context.Context, appID, sourceType, sourceID string) error {
	return s.write(ctx, func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, `DELETE FROM app_escrows WHERE app_id = ?1 AND source_type = ?2 AND source_id = ?3`,
			appID, sourceType, sourceID); err != nil {
			return fmt.Errorf("sqlite: delete escrow of %s %s: %w", sourceType, sourceID, err)
		}
		return nil
	})
}

// escrowsSQL returns the query of a page of an application's escrows. The
// due escrows are read off app_escrows_due, which SQLite, without
// statistics to go by, would pass over for the primary key to save the
// sort; but the due escrows are usually few among many waiting.
func escrowsSQL(appID string, q store.EscrowQuery) (string, []any) {
	args := []any{appID, q.AfterType, q.AfterID}
	from, where := "app_escrows", ""
	if !q.Due.IsZero() {
		args = append(args, timeText(q.Due))
		from, where = "app_escrows INDEXED BY app_escrows_due", " AND retryable = 1 AND next_try <= ?4"
	}
	args = append(args, sqlfilter.EscrowLimit(q.Limit))
	return `SELECT ` + sqlfilter.EscrowColumns + ` FROM ` + from +
		` WHERE app_id = ?1 AND (source_type, source_id) > (?2, ?3)` + where +
		` ORDER BY source_type, source_id LIMIT ?` + strconv.Itoa(len(args)), args
}

// Escrows lists the escrows of an application that q selects, in (source
// type, source id) order. Limit is 100 when zero, and at most 1000.
func (s *Store) Escrows(ctx context.Context, appID string, q store.EscrowQuery) ([]*store.Escrow, error) {
	query, args := escrowsSQL(appID, q)
	var out []*store.Escrow
	err := s.readConn(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := sqlfilter.ScanEscrow(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list escrows of application %s: %w", appID, err)
	}
	return out, nil
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
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `DELETE FROM app_escrows WHERE app_id = ?1`, appID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete escrows of application %s: %w", appID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// --- job state and lease -------------------------------------------------------------

// JobState reads an application's job state; one never written is the
// zero JobState with AppID set.
func (s *Store) JobState(ctx context.Context, appID string) (*store.JobState, error) {
	js := &store.JobState{AppID: appID}
	var updated string
	err := s.readConn(ctx, func(c *conn) error {
		return c.QueryRowContext(ctx, `SELECT watermark, state, updated_at FROM job_states WHERE app_id = ?1`, appID).
			Scan(&js.Watermark, &js.State, &updated)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return js, nil
	}
	if err == nil {
		js.Updated, err = parseTime(updated)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read job state of application %s: %w", appID, err)
	}
	return js, nil
}

// PutJobState writes an application's job state and sets its Updated. The
// state of an application that does not exist is store.ErrNotFound. With a
// fence, the lease is read and checked in the write's transaction: no claim
// can come between the check and the write, since the writer runs one
// transaction at a time and other processes wait for its lock (BEGIN
// IMMEDIATE).
func (s *Store) PutJobState(ctx context.Context, js *store.JobState, fence ...store.Lease) error {
	if err := sqlfilter.CheckJSON("job state", js.State); err != nil {
		return err
	}
	if len(fence) > 1 {
		return fmt.Errorf("sqlite: write job state of application %s: %d fences, at most one", js.AppID, len(fence))
	}
	var updated time.Time
	err := s.write(ctx, func(w *wtx) error {
		if len(fence) == 1 {
			// Checked before the first statement that writes (writer.go).
			cur, err := readLease(ctx, w, js.AppID)
			if err == nil {
				err = store.CheckFence(cur, fence[0], s.now())
			}
			if err != nil {
				return fmt.Errorf("sqlite: write job state of application %s: %w", js.AppID, err)
			}
		}
		_, err := w.ExecContext(ctx, `INSERT INTO job_states (app_id, watermark, state, updated_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (app_id) DO UPDATE SET watermark = excluded.watermark, state = excluded.state,
			updated_at = excluded.updated_at`, js.AppID, js.Watermark, jsonText(js.State), timeText(w.now))
		if isForeignKey(err) {
			return store.NotFound("application %q not found", js.AppID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: write job state of application %s: %w", js.AppID, err)
		}
		updated = w.now
		return nil
	})
	if err != nil {
		return err
	}
	js.Updated = updated
	return nil
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
		if isForeignKey(err) {
			return store.NotFound("application %q not found", appID)
		}
		if err == nil {
			var n int64
			n, err = res.RowsAffected()
			held = n == 1
		}
		if err == nil {
			lease, err = readLease(ctx, w, appID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: claim job of application %s: %w", appID, err)
		}
		return nil
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
		if _, err := w.ExecContext(ctx, `UPDATE job_leases SET owner = '',
			expires_at = CASE WHEN expires_at > ?3 THEN ?3 ELSE expires_at END
			WHERE app_id = ?1 AND owner = ?2 AND owner <> ''`, appID, owner, timeText(s.now())); err != nil {
			return fmt.Errorf("sqlite: release job of application %s: %w", appID, err)
		}
		return nil
	})
}

// JobLease reads the lease on an application's job; one never claimed is
// the zero Lease with AppID set.
func (s *Store) JobLease(ctx context.Context, appID string) (store.Lease, error) {
	var lease store.Lease
	err := s.readConn(ctx, func(c *conn) error {
		var err error
		lease, err = readLease(ctx, c, appID)
		return err
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: read job lease of application %s: %w", appID, err)
	}
	return lease, nil
}

// rowQuerier runs one-row queries: a read connection, or a write (wtx),
// whose statements ignore the caller's cancellation (writer.go).
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readLease reads the lease on a job, or the zero Lease with AppID set.
func readLease(ctx context.Context, c rowQuerier, appID string) (store.Lease, error) {
	lease := store.Lease{AppID: appID}
	var expires string
	err := c.QueryRowContext(ctx, `SELECT owner, expires_at, generation FROM job_leases WHERE app_id = ?1`, appID).
		Scan(&lease.Owner, &expires, &lease.Generation)
	if errors.Is(err, sql.ErrNoRows) {
		return lease, nil
	}
	if err == nil {
		lease.Expires, err = parseTime(expires)
	}
	return lease, err
}

// --- provisioning logs ---------------------------------------------------------------

const (
	logColumns     = `id, tenant_id, app_id, cycle_id, at, action, status, source_type, source_id, source_name_key, source_name, target_id, record`
	logReadColumns = `id, tenant_id, app_id, cycle_id, at, action, status, source_type, source_id, source_name, target_id, record`
)

func insertLogsSQL(rows int) string {
	return "INSERT INTO provisioning_logs (" + logColumns + ") VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?),", rows), ",") +
		" ON CONFLICT (id) DO NOTHING"
}

// logBatch is provisioning-log records checked, and given their ids,
// before the write that appends them: nothing in them can then fail the
// write once it has written (writer.go). AppendLogs, PutLink and
// DeleteLink append records through it.
type logBatch struct {
	logs []*store.ProvisioningLog
	ids  []string
}

// newLogBatch checks logs and gives each record its ID, or a new UUID
// when it has none.
func newLogBatch(logs []*store.ProvisioningLog) (logBatch, error) {
	b := logBatch{logs: logs, ids: make([]string, len(logs))}
	for i, l := range logs {
		if err := sqlfilter.CheckJSON("provisioning-log record", l.Record); err != nil {
			return logBatch{}, err
		}
		if b.ids[i] = l.ID; b.ids[i] == "" {
			b.ids[i] = store.NewID()
		}
	}
	return b, nil
}

// appendLogs inserts the batch's records in their order, a record without
// At at the write's time. A record whose ID is already stored is skipped.
func (w *wtx) appendLogs(ctx context.Context, b logBatch) error {
	logs := b.logs
	// Rows go in by statements of 64, 8 and 1 rows: few executions, and
	// only three statements to keep prepared.
	for i := 0; i < len(logs); {
		n := 1
		for _, size := range []int{64, 8} {
			if len(logs)-i >= size {
				n = size
				break
			}
		}
		args := make([]any, 0, 13*n)
		for j, l := range logs[i : i+n] {
			at := l.At
			if at.IsZero() {
				at = w.now
			}
			args = append(args, b.ids[i+j], l.TenantID, l.AppID, l.CycleID, timeText(at), l.Action, l.Status,
				l.SourceType, l.SourceID, sqlfilter.FoldKey(l.SourceName), l.SourceName, l.TargetID, jsonText(l.Record))
		}
		if _, err := w.ExecContext(ctx, insertLogsSQL(n), args...); err != nil {
			return fmt.Errorf("sqlite: append provisioning logs: %w", err)
		}
		i += n
	}
	return nil
}

// done sets the records' IDs, and At where zero to now, the time of the
// write that appended them, once it has committed.
func (b logBatch) done(now time.Time) {
	for i, l := range b.logs {
		l.ID = b.ids[i]
		if l.At.IsZero() {
			l.At = now
		}
	}
}

// AppendLogs stores provisioning-log records in one transaction, in their
// order, setting ID (a new UUID) when empty and At (the write's time) when
// zero. A record whose ID is already stored is skipped, so that a batch
// whose outcome the caller did not learn can be appended again.
func (s *Store) AppendLogs(ctx context.Context, logs []*store.ProvisioningLog) error {
	if len(logs) == 0 {
		return nil
	}
	batch, err := newLogBatch(logs)
	if err != nil {
		return err
	}
	var now time.Time
	err = s.write(ctx, func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		now = w.now
		return w.appendLogs(ctx, batch)
	})
	if err != nil {
		return err
	}
	batch.done(now)
	return nil
}

// logLimit is the page size of a LogQuery.
func logLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLogLimit
	case n > maxLogLimit:
		return maxLogLimit
	}
	return n
}

// Logs returns the records q selects, newest first: by At, and records of
// one instant in the reverse of the order they were appended. Limit is 100
// when zero, and at most 1000. A Before naming no record of the tenant
// (one pruned since, say) selects nothing: pruning removes older records
// first, so none older than it is left.
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]*store.ProvisioningLog, error) {
	var out []*store.ProvisioningLog
	err := s.readConn(ctx, func(c *conn) error {
		var cur *logCursor
		if q.Before != "" {
			// A record's (at, seq) never changes: the cursor needs no
			// snapshot shared with the page.
			cur = new(logCursor)
			err := c.QueryRowContext(ctx, `SELECT at, seq FROM provisioning_logs WHERE id = ?1 AND tenant_id = ?2`,
				q.Before, q.TenantID).Scan(&cur.at, &cur.seq)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		query, args := logsSQL(q, cur)
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l store.ProvisioningLog
			var at string
			if err := rows.Scan(&l.ID, &l.TenantID, &l.AppID, &l.CycleID, &at, &l.Action, &l.Status,
				&l.SourceType, &l.SourceID, &l.SourceName, &l.TargetID, &l.Record); err != nil {
				return err
			}
			if l.At, err = parseTime(at); err != nil {
				return err
			}
			out = append(out, &l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read provisioning logs: %w", err)
	}
	return out, nil
}

// logCursor is the (at, seq) of the record a listing continues after.
type logCursor struct {
	at  string
	seq int64
}

// logsSQL returns the query of a page of logs, which continues after cur
// when not nil.
func logsSQL(q store.LogQuery, cur *logCursor) (string, []any) {
	var where strings.Builder
	args := []any{q.TenantID}
	where.WriteString("tenant_id = ?1")
	arg := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
	for _, f := range []struct{ col, val string }{
		{"app_id", q.AppID}, {"source_id", q.SourceID}, {"action", q.Action}, {"status", q.Status},
	} {
		if f.val != "" {
			where.WriteString(" AND " + f.col + " = " + arg(f.val))
		}
	}
	if q.SourceName != "" {
		where.WriteString(" AND source_name_key = " + arg(sqlfilter.FoldKey(q.SourceName)))
	}
	if !q.Since.IsZero() {
		where.WriteString(" AND at >= " + arg(timeText(q.Since)))
	}
	if !q.Until.IsZero() {
		where.WriteString(" AND at < " + arg(timeText(q.Until)))
	}
	if cur != nil {
		where.WriteString(" AND (at, seq) < (" + arg(cur.at) + ", " + arg(cur.seq) + ")")
	}
	// SQLite, which has no statistics to go by, takes the tenant's index
	// over a narrower one for a range on at with both ends (Since and a
	// cursor), and then reads all the tenant's records in the range. The
	// store knows which index serves a query, the narrowest it has.
	index := "provisioning_logs_tenant"
	switch {
	case q.SourceID != "":
		index = "provisioning_logs_source"
	case q.SourceName != "":
		index = "provisioning_logs_name"
	case q.AppID != "":
		index = "provisioning_logs_app"
	}
	limit := arg(logLimit(q.Limit))
	return `SELECT ` + logReadColumns + ` FROM provisioning_logs INDEXED BY ` + index + ` WHERE ` + where.String() +
		` ORDER BY at DESC, seq DESC LIMIT ` + limit, args
}

// PruneLogs deletes the records, of every tenant, older than before and
// returns how many it deleted. It deletes them a few thousand per write,
// so that other writes go on meanwhile.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := s.write(ctx, func(w *wtx) error {
			res, err := w.ExecContext(ctx, `DELETE FROM provisioning_logs WHERE seq IN
				(SELECT seq FROM provisioning_logs WHERE at < ?1 LIMIT ?2)`, timeText(before), pruneBatch)
			if err == nil {
				n, err = res.RowsAffected()
			}
			if err != nil {
				return fmt.Errorf("sqlite: prune provisioning logs: %w", err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneBatch {
			return total, nil
		}
	}
}

// --- audit log ---------------------------------------------------------------------

// AppendAudit stores an audit entry, setting ID (a new UUID) when empty
// and At (the write's time) when zero. An entry whose ID is already stored
// is skipped.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if err := sqlfilter.CheckAudit(e); err != nil {
		return err
	}
	id := e.ID
	if id == "" {
		id = store.NewID()
	}
	var at time.Time
	err := s.write(ctx, func(w *wtx) error {
		at = e.At
		if at.IsZero() {
			at = w.now
		}
		if _, err := w.ExecContext(ctx, sqlfilter.AuditInsertSQL(sqlfilter.SQLite{}), sqlfilter.AuditInsertArgs(e, id, at)...); err != nil {
			return fmt.Errorf("sqlite: append an audit entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.ID, e.At = id, at
	return nil
}

// Audit returns the entries q selects, newest first. Limit is 100 when
// zero, and at most 1000. A Before naming no entry of the tenant selects
// nothing.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEntry, error) {
	var out []*store.AuditEntry
	err := s.readConn(ctx, func(c *conn) error {
		var cur *sqlfilter.AuditCursor
		if q.Before != "" {
			// An entry's (at, seq) never changes: the cursor needs no
			// snapshot shared with the page.
			cur = new(sqlfilter.AuditCursor)
			err := c.QueryRowContext(ctx, sqlfilter.AuditCursorSQL(sqlfilter.SQLite{}), q.Before, q.TenantID).Scan(&cur.At, &cur.Seq)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		query, args := sqlfilter.AuditSQL(sqlfilter.SQLite{}, q, cur)
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := sqlfilter.ScanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the audit log: %w", err)
	}
	return out, nil
}

// checkContextFence checks the fence store.WithFence put in ctx, if any,
// within the write's transaction.
func (s *Store) checkContextFence(ctx context.Context, w *wtx) error {
	fence, ok := store.FenceFrom(ctx)
	if !ok {
		return nil
	}
	cur, err := readLease(ctx, w, fence.AppID)
	if err == nil {
		err = store.CheckFence(cur, fence, s.now())
	}
	if err != nil {
		return fmt.Errorf("sqlite: write of application %s: %w", fence.AppID, err)
	}
	return nil
}
