package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The provisioning engine's records (store.Provisioning); see the second
// and fourth migrations for the tables. Each write is one transaction
// (Store.write). Writes that must not cross a concurrent one lock the row
// they depend on first: UpdateApp and DeleteApp take the application FOR
// UPDATE, Assign takes the application and the principal FOR KEY SHARE, so
// that an application or principal deleted meanwhile is either found gone
// or deleted after the assignment, with it.

const (
	// defaultLogLimit and maxLogLimit bound a page of provisioning logs.
	defaultLogLimit = 100
	maxLogLimit     = 1000
	// pruneBatch is how many log records one transaction of PruneLogs
	// deletes, so that a large prune does not become one long
	// transaction.
	pruneBatch = 5000
)

// nullBytes returns what a json or bytea column is bound to: b, or NULL
// for none (nil or empty alike, as in the SQLite store).
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// appWriteError turns a failed insert or update of an apps row into the
// client error it stands for.
func appWriteError(err error, a *store.App) error {
	switch code, constraint := pgCode(err); {
	case code == foreignKeyViolation:
		return store.NotFound("tenant %q not found", a.TenantID)
	case code == uniqueViolation && constraint == "apps_name_key":
		return sqlfilter.AppNameTaken(a.Name)
	case code == uniqueViolation:
		return store.Errorf(store.ErrIDTaken, "application id %q is already taken", a.ID)
	}
	return fmt.Errorf("postgres: write application %s: %w", a.ID, err)
}

// --- applications ------------------------------------------------------------

// readApp reads the application a query of sqlfilter.AppColumns selects, or returns
// a store.ErrNotFound naming what.
func readApp(ctx context.Context, q querier, what, query string, args ...any) (*store.App, error) {
	a, err := sqlfilter.ScanApp(q.QueryRow(ctx, `SELECT `+sqlfilter.AppColumns+` FROM apps `+query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("application %q not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read application %s: %w", what, err)
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
	err := s.write(ctx, c.TenantID, func(w *wtx) error {
		_, err := w.Exec(ctx, `INSERT INTO apps
			(id, tenant_id, name, name_key, template, config, control, secret, enabled, version, created_at, last_modified)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)`,
			c.ID, c.TenantID, c.Name, sqlfilter.FoldKey(c.Name), c.Template, nullBytes(c.Config), nullBytes(c.Control),
			nullBytes(c.Secret), c.Enabled, timeText(w.now))
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
	return readApp(ctx, s.pool, id, `WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// AppByName reads an application by name, ignoring case, or returns
// store.ErrNotFound.
func (s *Store) AppByName(ctx context.Context, tenantID, name string) (*store.App, error) {
	return readApp(ctx, s.pool, name, `WHERE tenant_id = $1 AND name_key = $2`, tenantID, sqlfilter.FoldKey(name))
}

// Apps lists a tenant's applications in name order, ignoring case, or
// with tenantID "" every tenant's, by tenant id and then name.
func (s *Store) Apps(ctx context.Context, tenantID string) ([]*store.App, error) {
	query := `SELECT ` + sqlfilter.AppColumns + ` FROM apps WHERE tenant_id = $1 ORDER BY name_key`
	var args []any
	if tenantID == "" {
		query = `SELECT ` + sqlfilter.AppColumns + ` FROM apps ORDER BY tenant_id, name_key`
	} else {
		args = append(args, tenantID)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list applications: %w", err)
	}
	defer rows.Close()
	var out []*store.App
	for rows.Next() {
		a, err := sqlfilter.ScanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list applications: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list applications: %w", err)
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

// UpdateApp reads the application, locked, calls change on a copy of it
// and writes the result, in one transaction. change cannot move the
// application (ID, TenantID) nor set the fields the store keeps (Version,
// Created, LastModified): those are restored. When change leaves the
// application as it was, nothing is written and the version stays. change
// may be called again, on a fresh copy, when the transaction is retried.
func (s *Store) UpdateApp(ctx context.Context, tenantID, id string, ifVersion int64, change func(*store.App) error) (*store.App, error) {
	var out *store.App
	err := s.write(ctx, tenantID, func(w *wtx) error {
		cur, err := readApp(ctx, w, id, `WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id)
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
		if _, err := w.Exec(ctx, `UPDATE apps SET name = $2, name_key = $3, template = $4, config = $5,
			control = $6, secret = $7, enabled = $8, version = version + 1, last_modified = $9 WHERE id = $1`,
			id, next.Name, sqlfilter.FoldKey(next.Name), next.Template, nullBytes(next.Config), nullBytes(next.Control),
			nullBytes(next.Secret), next.Enabled, timeText(w.now)); err != nil {
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
	return s.write(ctx, tenantID, func(w *wtx) error {
		if err := w.lockApp(ctx, tenantID, id, "FOR UPDATE"); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM app_assignments WHERE app_id = $1`,
			`DELETE FROM app_links WHERE app_id = $1`,
			`DELETE FROM app_escrows WHERE app_id = $1`,
			`DELETE FROM job_states WHERE app_id = $1`,
			`DELETE FROM job_leases WHERE app_id = $1`,
			`DELETE FROM apps WHERE id = $1`,
		} {
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
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NotFound("application %q not found", id)
	}
	if err != nil {
		return fmt.Errorf("postgres: read application %s: %w", id, err)
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
	return s.write(ctx, tenantID, func(w *wtx) error {
		if err := w.lockApp(ctx, tenantID, a.AppID, "FOR KEY SHARE"); err != nil {
			return err
		}
		var rid int64
		err := w.QueryRow(ctx, `SELECT rid FROM resources WHERE tenant_id = $1 AND type = $2 AND id = $3 FOR KEY SHARE`,
			tenantID, a.PrincipalType, a.PrincipalID).Scan(&rid)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Invalid("%s %q does not exist", strings.ToLower(a.PrincipalType), a.PrincipalID)
		}
		if err != nil {
			return fmt.Errorf("postgres: assign %s %s: %w", a.PrincipalType, a.PrincipalID, err)
		}
		if _, err := w.Exec(ctx, `INSERT INTO app_assignments
			(app_id, principal_type, principal_id, principal_rid, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (app_id, principal_type, principal_id) DO UPDATE SET role = excluded.role`,
			a.AppID, a.PrincipalType, a.PrincipalID, rid, a.Role, timeText(w.now)); err != nil {
			return fmt.Errorf("postgres: assign %s %s: %w", a.PrincipalType, a.PrincipalID, err)
		}
		w.change(a.PrincipalType, a.PrincipalID, store.OpAssignment)
		return nil
	})
}

// Unassign removes an assignment, or returns store.ErrNotFound, and appends an
// OpAssignment change for the principal.
func (s *Store) Unassign(ctx context.Context, tenantID, appID, principalType, principalID string) error {
	return s.write(ctx, tenantID, func(w *wtx) error {
		tag, err := w.Exec(ctx, `DELETE FROM app_assignments
			WHERE app_id = $2 AND principal_type = $3 AND principal_id = $4
			AND EXISTS (SELECT 1 FROM apps WHERE id = $2 AND tenant_id = $1)`,
			tenantID, appID, principalType, principalID)
		if err != nil {
			return fmt.Errorf("postgres: unassign %s %s: %w", principalType, principalID, err)
		}
		if tag.RowsAffected() == 0 {
			return store.NotFound("%s %q is not assigned to application %q", principalType, principalID, appID)
		}
		w.change(principalType, principalID, store.OpAssignment)
		return nil
	})
}

// Assignments lists an application's assignments, groups first, each type
// in id order; an application the tenant does not have has none.
func (s *Store) Assignments(ctx context.Context, tenantID, appID string) ([]store.Assignment, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.app_id, a.principal_type, a.principal_id, a.role, a.created_at
		FROM app_assignments a JOIN apps p ON p.id = a.app_id
		WHERE a.app_id = $2 AND p.tenant_id = $1 ORDER BY a.principal_type, a.principal_id`, tenantID, appID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list assignments of application %s: %w", appID, err)
	}
	defer rows.Close()
	var out []store.Assignment
	for rows.Next() {
		var a store.Assignment
		var created string
		if err := rows.Scan(&a.AppID, &a.PrincipalType, &a.PrincipalID, &a.Role, &created); err != nil {
			return nil, fmt.Errorf("postgres: list assignments of application %s: %w", appID, err)
		}
		if a.Created, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("postgres: list assignments of application %s: %w", appID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list assignments of application %s: %w", appID, err)
	}
	return out, nil
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

const linkColumns = `app_id, source_type, source_id, target_id, exported, created_at, updated_at`

func scanLink(row pgx.Row) (*store.Link, error) {
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
	l, err := scanLink(s.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM app_links `+query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("no link of %s", what)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read link of %s: %w", what, err)
	}
	return l, nil
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

// PutLink creates or replaces the link of l's source object, setting
// Created (on creation; a replaced link keeps its own) and Updated, and
// appends logs as AppendLogs does, in the same transaction. A link of an
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
	err = s.write(ctx, "", func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		var c string
		err := w.QueryRow(ctx, `INSERT INTO app_links (`+linkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)
			ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
			target_id = excluded.target_id, exported = excluded.exported, updated_at = excluded.updated_at
			RETURNING created_at`,
			l.AppID, l.SourceType, l.SourceID, l.TargetID, nullBytes(l.Exported), timeText(w.now)).Scan(&c)
		if code, _ := pgCode(err); code == foreignKeyViolation {
			return store.NotFound("application %q not found", l.AppID)
		}
		if err == nil {
			created, err = parseTime(c)
		}
		if err != nil {
			return fmt.Errorf("postgres: write link of %s %s: %w", l.SourceType, l.SourceID, err)
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
// AppendLogs does, in the same transaction.
func (s *Store) DeleteLink(ctx context.Context, appID, sourceType, sourceID string, logs ...*store.ProvisioningLog) error {
	batch, err := newLogBatch(logs)
	if err != nil {
		return err
	}
	var now time.Time
	err = s.write(ctx, "", func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		now = w.now
		if _, err := w.Exec(ctx, `DELETE FROM app_links WHERE app_id = $1 AND source_type = $2 AND source_id = $3`,
			appID, sourceType, sourceID); err != nil {
			return fmt.Errorf("postgres: delete link of %s %s: %w", sourceType, sourceID, err)
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
// that a restart finds either every link or none.
func (s *Store) DeleteLinks(ctx context.Context, appID string) (int, error) {
	var n int64
	err := s.write(ctx, "", func(w *wtx) error {
		tag, err := w.Exec(ctx, `DELETE FROM app_links WHERE app_id = $1`, appID)
		if err != nil {
			return fmt.Errorf("postgres: delete links of application %s: %w", appID, err)
		}
		n = tag.RowsAffected()
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
	rows, err := s.pool.Query(ctx, `SELECT `+linkColumns+` FROM app_links
		WHERE app_id = $1 AND source_type = $2 AND source_id > $3 ORDER BY source_id LIMIT $4`,
		appID, sourceType, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list links of application %s: %w", appID, err)
	}
	defer rows.Close()
	var out []*store.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list links of application %s: %w", appID, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list links of application %s: %w", appID, err)
	}
	return out, nil
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
const putEscrowSQL = `INSERT INTO app_escrows (` + sqlfilter.EscrowColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::text, $9::text), $9, $10)
	ON CONFLICT (app_id, source_type, source_id) DO UPDATE SET
	source_name = excluded.source_name, attempts = excluded.attempts, retryable = excluded.retryable,
	next_try = excluded.next_try, first_failed = coalesce($8::text, app_escrows.first_failed),
	last_failed = excluded.last_failed, record = excluded.record
	RETURNING first_failed`

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
	err := s.write(ctx, "", func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		if last = e.LastFailed; last.IsZero() {
			last = w.now
		}
		var firstText *string
		if !e.FirstFailed.IsZero() {
			f := timeText(e.FirstFailed)
			firstText = &f
		}
		var f string
		err := w.QueryRow(ctx, putEscrowSQL, e.AppID, e.SourceType, e.SourceID, e.SourceName, e.Attempts,
			e.Retryable, sqlfilter.EscrowNextTry(e), firstText, timeText(last), nullBytes(e.Record)).Scan(&f)
		if code, _ := pgCode(err); code == foreignKeyViolation {
			return store.NotFound("application %q not found", e.AppID)
		}
		if err == nil {
			first, err = parseTime(f)
		}
		if err != nil {
			return fmt.Errorf("postgres: write escrow of %s %s: %w", e.SourceType, e.SourceID, err)
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
	return s.write(ctx, "", func(w *wtx) error {
		if err := s.checkContextFence(ctx, w); err != nil {
			return err
		}
		if _, err := w.Exec(ctx, `DELETE FROM app_escrows WHERE app_id = $1 AND source_type = $2 AND source_id = $3`,
			appID, sourceType, sourceID); err != nil {
			return fmt.Errorf("postgres: delete escrow of %s %s: %w", sourceType, sourceID, err)
		}
		return nil
	})
}

// escrowsSQL returns the query of a page of an application's escrows; the
// due escrows can be found off app_escrows_due.
func escrowsSQL(appID string, q store.EscrowQuery) (string, []any) {
	args := []any{appID, q.AfterType, q.AfterID}
	where := ""
	if !q.Due.IsZero() {
		args = append(args, timeText(q.Due))
		where = " AND retryable AND next_try <= $4"
	}
	args = append(args, sqlfilter.EscrowLimit(q.Limit))
	return `SELECT ` + sqlfilter.EscrowColumns + ` FROM app_escrows
		WHERE app_id = $1 AND (source_type, source_id) > ($2, $3)` + where +
		` ORDER BY source_type, source_id LIMIT $` + strconv.Itoa(len(args)), args
}

// Escrows lists the escrows of an application that q selects, in (source
// type, source id) order. Limit is 100 when zero, and at most 1000.
func (s *Store) Escrows(ctx context.Context, appID string, q store.EscrowQuery) ([]*store.Escrow, error) {
	query, args := escrowsSQL(appID, q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list escrows of application %s: %w", appID, err)
	}
	defer rows.Close()
	var out []*store.Escrow
	for rows.Next() {
		e, err := sqlfilter.ScanEscrow(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list escrows of application %s: %w", appID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list escrows of application %s: %w", appID, err)
	}
	return out, nil
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
	var n int64
	err := s.write(ctx, "", func(w *wtx) error {
		tag, err := w.Exec(ctx, `DELETE FROM app_escrows WHERE app_id = $1`, appID)
		if err != nil {
			return fmt.Errorf("postgres: delete escrows of application %s: %w", appID, err)
		}
		n = tag.RowsAffected()
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
	err := s.pool.QueryRow(ctx, `SELECT watermark, state, updated_at FROM job_states WHERE app_id = $1`, appID).
		Scan(&js.Watermark, &js.State, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return js, nil
	}
	if err == nil {
		js.Updated, err = parseTime(updated)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read job state of application %s: %w", appID, err)
	}
	return js, nil
}

// PutJobState writes an application's job state and sets its Updated. The
// state of an application that does not exist is store.ErrNotFound. With a
// fence, the lease is read FOR SHARE in the write's transaction and checked:
// a claim that would take it over waits until the write has committed, and
// one that committed first is seen, so that no write lands after a takeover.
func (s *Store) PutJobState(ctx context.Context, js *store.JobState, fence ...store.Lease) error {
	if err := sqlfilter.CheckJSON("job state", js.State); err != nil {
		return err
	}
	if len(fence) > 1 {
		return fmt.Errorf("postgres: write job state of application %s: %d fences, at most one", js.AppID, len(fence))
	}
	var updated time.Time
	err := s.write(ctx, "", func(w *wtx) error {
		if len(fence) == 1 {
			cur, err := readLease(ctx, w, js.AppID, " FOR SHARE")
			var now time.Time
			if err == nil {
				// After the lock: the lease cannot change from here on.
				now, err = w.leaseNow(ctx)
			}
			if err == nil {
				err = store.CheckFence(cur, fence[0], now)
			}
			if err != nil {
				return fmt.Errorf("postgres: write job state of application %s: %w", js.AppID, err)
			}
		}
		_, err := w.Exec(ctx, `INSERT INTO job_states (app_id, watermark, state, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (app_id) DO UPDATE SET watermark = excluded.watermark, state = excluded.state,
			updated_at = excluded.updated_at`, js.AppID, js.Watermark, nullBytes(js.State), timeText(w.now))
		if code, _ := pgCode(err); code == foreignKeyViolation {
			return store.NotFound("application %q not found", js.AppID)
		}
		if err != nil {
			return fmt.Errorf("postgres: write job state of application %s: %w", js.AppID, err)
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
		if code, _ := pgCode(err); code == foreignKeyViolation {
			return store.NotFound("application %q not found", appID)
		}
		if err == nil {
			held = tag.RowsAffected() == 1
			// The row is locked by the claim, changed or not: this reads
			// the lease as the claim left it.
			lease, err = readLease(ctx, w, appID, "")
		}
		if err != nil {
			return fmt.Errorf("postgres: claim job of application %s: %w", appID, err)
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
	return s.write(ctx, "", func(w *wtx) error {
		now, err := w.leaseNow(ctx)
		if err == nil {
			_, err = w.Exec(ctx, `UPDATE job_leases SET owner = '',
				expires_at = CASE WHEN expires_at > $3 THEN $3 ELSE expires_at END
				WHERE app_id = $1 AND owner = $2 AND owner <> ''`, appID, owner, timeText(now))
		}
		if err != nil {
			return fmt.Errorf("postgres: release job of application %s: %w", appID, err)
		}
		return nil
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
func readLease(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, appID, lock string) (store.Lease, error) {
	lease := store.Lease{AppID: appID}
	var expires string
	err := q.QueryRow(ctx, `SELECT owner, expires_at, generation FROM job_leases WHERE app_id = $1`+lock, appID).
		Scan(&lease.Owner, &expires, &lease.Generation)
	if errors.Is(err, pgx.ErrNoRows) {
		return lease, nil
	}
	if err == nil {
		lease.Expires, err = parseTime(expires)
	}
	return lease, err
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

const logReadColumns = `id, tenant_id, app_id, cycle_id, at, action, status, source_type, source_id, source_name, target_id, record`

// logBatch is provisioning-log records checked, given their ids and laid
// out as the columns of the statement that appends them, before the
// transaction. AppendLogs, PutLink and DeleteLink append records through
// it.
type logBatch struct {
	logs []*store.ProvisioningLog
	// The statement's columns but at, one element per record.
	ids, tenants, apps, cycles, actions, statuses, types []string
	sources, nameKeys, names, targets                    []string
	records                                              []*string
}

// newLogBatch checks logs and gives each record its ID, or a new UUID
// when it has none.
func newLogBatch(logs []*store.ProvisioningLog) (*logBatch, error) {
	n := len(logs)
	b := &logBatch{logs: logs,
		ids: make([]string, n), tenants: make([]string, n), apps: make([]string, n), cycles: make([]string, n),
		actions: make([]string, n), statuses: make([]string, n), types: make([]string, n), sources: make([]string, n),
		nameKeys: make([]string, n), names: make([]string, n), targets: make([]string, n), records: make([]*string, n)}
	for i, l := range logs {
		if err := sqlfilter.CheckJSON("provisioning-log record", l.Record); err != nil {
			return nil, err
		}
		if b.ids[i] = l.ID; b.ids[i] == "" {
			b.ids[i] = store.NewID()
		}
		b.tenants[i], b.apps[i], b.cycles[i] = l.TenantID, l.AppID, l.CycleID
		b.actions[i], b.statuses[i], b.types[i] = l.Action, l.Status, l.SourceType
		b.sources[i], b.nameKeys[i], b.names[i], b.targets[i] = l.SourceID, sqlfilter.FoldKey(l.SourceName), l.SourceName, l.TargetID
		if len(l.Record) > 0 {
			r := string(l.Record)
			b.records[i] = &r
		}
	}
	return b, nil
}

// appendLogs inserts the batch's records in one statement, in their
// order, a record without At at the transaction's time. A record whose ID
// is already stored is skipped.
func (w *wtx) appendLogs(ctx context.Context, b *logBatch) error {
	if len(b.logs) == 0 {
		return nil
	}
	// Computed here rather than in newLogBatch: a retried transaction has
	// its own time.
	ats := make([]string, len(b.logs))
	for i, l := range b.logs {
		at := l.At
		if at.IsZero() {
			at = w.now
		}
		ats[i] = timeText(at)
	}
	// ORDER BY n: the identity column numbers the rows in the order the
	// select gives them, which is the batch's.
	if _, err := w.Exec(ctx, `INSERT INTO provisioning_logs (id, tenant_id, app_id, cycle_id, at, action, status,
		source_type, source_id, source_name_key, source_name, target_id, record)
		SELECT i, t, a, c, at, ac, st, ty, si, nk, nm, tg, r::json
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
			WITH ORDINALITY AS u (i, t, a, c, at, ac, st, ty, si, nk, nm, tg, r, n)
		ORDER BY n
		ON CONFLICT (id) DO NOTHING`,
		b.ids, b.tenants, b.apps, b.cycles, ats, b.actions, b.statuses, b.types, b.sources, b.nameKeys, b.names,
		b.targets, b.records); err != nil {
		return fmt.Errorf("postgres: append provisioning logs: %w", err)
	}
	return nil
}

// done sets the records' IDs, and At where zero to now, the time of the
// transaction that appended them, once it has committed.
func (b *logBatch) done(now time.Time) {
	for i, l := range b.logs {
		l.ID = b.ids[i]
		if l.At.IsZero() {
			l.At = now
		}
	}
}

// AppendLogs stores provisioning-log records in one statement, in their
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
	err = s.write(ctx, "", func(w *wtx) error {
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
	var cur *logCursor
	if q.Before != "" {
		// A record's (at, seq) never changes: the cursor needs no
		// snapshot shared with the page.
		cur = new(logCursor)
		err := s.pool.QueryRow(ctx, `SELECT at, seq FROM provisioning_logs WHERE id = $1 AND tenant_id = $2`,
			q.Before, q.TenantID).Scan(&cur.at, &cur.seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: read provisioning logs: %w", err)
		}
	}
	query, args := logsSQL(q, cur)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read provisioning logs: %w", err)
	}
	defer rows.Close()
	var out []*store.ProvisioningLog
	for rows.Next() {
		var l store.ProvisioningLog
		var at string
		if err := rows.Scan(&l.ID, &l.TenantID, &l.AppID, &l.CycleID, &at, &l.Action, &l.Status,
			&l.SourceType, &l.SourceID, &l.SourceName, &l.TargetID, &l.Record); err != nil {
			return nil, fmt.Errorf("postgres: read provisioning logs: %w", err)
		}
		if l.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("postgres: read provisioning logs: %w", err)
		}
		out = append(out, &l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read provisioning logs: %w", err)
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
	where.WriteString("tenant_id = $1")
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, f := range []struct{ col, val string }{
		{"app_id", q.AppID}, {"source_id", q.SourceID}, {"action", q.Action}, {"status", q.Status},
	} {
		if f.val != "" {
			where.WriteString(" AND " + f.col + " = " + arg(f.val))
		}
	}
	if q.SourceName != "" {
		// The index is on the md5 of the key (see the migration).
		k := arg(sqlfilter.FoldKey(q.SourceName))
		where.WriteString(" AND md5(source_name_key) = md5(" + k + ") AND source_name_key = " + k)
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
	limit := arg(logLimit(q.Limit))
	return `SELECT ` + logReadColumns + ` FROM provisioning_logs WHERE ` + where.String() +
		` ORDER BY at DESC, seq DESC LIMIT ` + limit, args
}

// PruneLogs deletes the records, of every tenant, older than before and
// returns how many it deleted, a few thousand per transaction.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := s.write(ctx, "", func(w *wtx) error {
			tag, err := w.Exec(ctx, `DELETE FROM provisioning_logs WHERE seq IN
				(SELECT seq FROM provisioning_logs WHERE at < $1 LIMIT $2)`, timeText(before), pruneBatch)
			if err != nil {
				return fmt.Errorf("postgres: prune provisioning logs: %w", err)
			}
			n = tag.RowsAffected()
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
// and At (the transaction's time) when zero. An entry whose ID is already
// stored is skipped.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if err := sqlfilter.CheckAudit(e); err != nil {
		return err
	}
	id := e.ID
	if id == "" {
		id = store.NewID()
	}
	var at time.Time
	err := s.write(ctx, "", func(w *wtx) error {
		// Computed here: a retried transaction has its own time.
		at = e.At
		if at.IsZero() {
			at = w.now
		}
		if _, err := w.Exec(ctx, sqlfilter.AuditInsertSQL(sqlfilter.Postgres{}), sqlfilter.AuditInsertArgs(e, id, at)...); err != nil {
			return fmt.Errorf("postgres: append an audit entry: %w", err)
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
	var cur *sqlfilter.AuditCursor
	if q.Before != "" {
		// An entry's (at, seq) never changes: the cursor needs no snapshot
		// shared with the page.
		cur = new(sqlfilter.AuditCursor)
		err := s.pool.QueryRow(ctx, sqlfilter.AuditCursorSQL(sqlfilter.Postgres{}), q.Before, q.TenantID).Scan(&cur.At, &cur.Seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: read the audit log: %w", err)
		}
	}
	query, args := sqlfilter.AuditSQL(sqlfilter.Postgres{}, q, cur)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read the audit log: %w", err)
	}
	defer rows.Close()
	var out []*store.AuditEntry
	for rows.Next() {
		e, err := sqlfilter.ScanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: read the audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read the audit log: %w", err)
	}
	return out, nil
}

// checkContextFence checks the fence store.WithFence put in ctx, if any,
// within the write's transaction, as PutJobState checks its fence.
func (s *Store) checkContextFence(ctx context.Context, w *wtx) error {
	fence, ok := store.FenceFrom(ctx)
	if !ok {
		return nil
	}
	cur, err := readLease(ctx, w, fence.AppID, " FOR SHARE")
	var now time.Time
	if err == nil {
		now, err = w.leaseNow(ctx)
	}
	if err == nil {
		err = store.CheckFence(cur, fence, now)
	}
	if err != nil {
		return fmt.Errorf("postgres: write of application %s: %w", fence.AppID, err)
	}
	return nil
}
