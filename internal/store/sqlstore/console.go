package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The console_admins and console_sessions tables: store.Console written
// once for both backends, which lend ConsoleStore their reads, writes and
// the reading of their drivers' errors (ConsoleDB). The statements are the
// same in both dialects but for their placeholders.
//
// Every write makes the checks that can fail (the tenant exists, the
// admin exists) before its first statement that changes anything, and
// only that first statement can violate a unique key, as SQLite's batched
// writes need (see its writer.go). None of them records a change-feed
// entry: admins and sessions are not directory resources.

// ConsoleDB is what a backend lends ConsoleStore.
type ConsoleDB struct {
	// Backend names the backend in errors ("sqlite", "postgres").
	Backend string
	Dialect sqlfilter.Dialect
	// Read runs fn on a connection or snapshot that reads.
	Read func(ctx context.Context, fn func(Querier) error) error
	// Write runs fn in one write transaction.
	Write func(ctx context.Context, fn func(ConsoleTx) error) error
	// EmailTaken reports whether err is the violation of console_admins'
	// unique (tenant_id, email_key).
	EmailTaken func(err error) bool
	// HashTaken reports whether err is the violation of console_sessions'
	// primary key, the hash of the session's secret.
	HashTaken func(err error) bool
}

// ConsoleTx is a backend's write as ConsoleStore uses it.
type ConsoleTx interface {
	Querier
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Now is the write's time, to the millisecond.
	Now() time.Time
}

// ConsoleStore implements store.Console on a ConsoleDB.
type ConsoleStore struct{ DB ConsoleDB }

// sql returns q with its $N placeholders in the backend's dialect.
func (s ConsoleStore) sql(q string) string { return inDialect(s.DB.Dialect, q) }

// adminColumns are the console_admins columns scanAdmin reads.
const adminColumns = `id, tenant_id, email, role, password_hash, created_at`

func scanAdmin(row Row) (store.Admin, error) {
	var a store.Admin
	err := row.Scan(&a.ID, &a.TenantID, &a.Email, &a.Role, &a.PasswordHash, TextTime(&a.Created))
	return a, err
}

// sessionColumns are the console_sessions columns scanSession reads.
const sessionColumns = `tenant_id, admin_id, token_id, actor, role, csrf, created_at, last_seen_at, expires_at`

func scanSession(row Row) (store.Session, error) {
	var s store.Session
	err := row.Scan(&s.TenantID, &s.AdminID, &s.TokenID, &s.Actor, &s.Role, &s.CSRF,
		TextTime(&s.Created), TextTime(&s.LastSeen), TextTime(&s.Expires))
	return s, err
}

// emailKey is what an admin's email is unique by and looked up by: emails
// compare ignoring case.
func emailKey(email string) string { return strings.ToLower(email) }

// checkRole returns ErrInvalid for a role the console does not know.
func checkRole(role string) error {
	if role != store.RoleAdmin && role != store.RoleViewer {
		return store.Invalid("the console role %q is neither %q nor %q", role, store.RoleAdmin, store.RoleViewer)
	}
	return nil
}

func adminNotFound(email string) *store.Error {
	return store.NotFound("no console admin %q in this tenant", email)
}

// checkTenant returns ErrNotFound unless the tenant exists: a check before
// the write's first statement, rather than the foreign key's violation
// after it.
func (s ConsoleStore) checkTenant(ctx context.Context, tx ConsoleTx, tenantID string) error {
	var one int
	err := tx.QueryRow(ctx, s.sql(`SELECT 1 FROM tenants WHERE id = $1`), tenantID).Scan(&one)
	return NoRowsAs(err, TenantNotFound(tenantID))
}

// adminID returns the id of the tenant's admin with email, or ErrNotFound.
func (s ConsoleStore) adminID(ctx context.Context, tx ConsoleTx, tenantID, email string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, s.sql(`SELECT id FROM console_admins WHERE tenant_id = $1 AND email_key = $2`),
		tenantID, emailKey(email)).Scan(&id)
	return id, NoRowsAs(err, adminNotFound(email))
}

// CreateAdmin implements store.Console.
func (s ConsoleStore) CreateAdmin(ctx context.Context, a *store.Admin) error {
	if strings.TrimSpace(a.Email) == "" {
		return store.Invalid("a console admin needs an email")
	}
	if a.PasswordHash == "" {
		return store.Invalid("a console admin needs a password hash")
	}
	if err := checkRole(a.Role); err != nil {
		return err
	}
	c := *a
	c.ID = store.NewID()
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		if err := s.checkTenant(ctx, tx, c.TenantID); err != nil {
			return err
		}
		c.Created = tx.Now()
		_, err := tx.Exec(ctx, s.sql(`INSERT INTO console_admins (id, tenant_id, email, email_key, role, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`),
			c.ID, c.TenantID, c.Email, emailKey(c.Email), c.Role, c.PasswordHash, sqlfilter.TimeKey(c.Created))
		if err != nil && s.DB.EmailTaken(err) {
			return store.Errorf(store.ErrNameTaken, "the console admin %q exists already in this tenant", c.Email)
		}
		return err
	})
	if err != nil {
		return Wrap(err, "%s: create console admin", s.DB.Backend)
	}
	*a = c
	return nil
}

// AdminByEmail implements store.Console.
func (s ConsoleStore) AdminByEmail(ctx context.Context, tenantID, email string) (*store.Admin, error) {
	var a store.Admin
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		a, err = scanAdmin(q.QueryRow(ctx, s.sql(`SELECT `+adminColumns+` FROM console_admins
			WHERE tenant_id = $1 AND email_key = $2`), tenantID, emailKey(email)))
		return NoRowsAs(err, adminNotFound(email))
	})
	if err != nil {
		return nil, Wrap(err, "%s: read console admin", s.DB.Backend)
	}
	return &a, nil
}

// Admins implements store.Console.
func (s ConsoleStore) Admins(ctx context.Context, tenantID string) ([]store.Admin, error) {
	var out []store.Admin
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		out, err = List(ctx, q, scanAdmin, s.sql(`SELECT `+adminColumns+` FROM console_admins
			WHERE tenant_id = $1 ORDER BY email_key`), tenantID)
		return err
	})
	return out, Wrap(err, "%s: list console admins", s.DB.Backend)
}

// SetAdminPassword implements store.Console. The sessions go in the same
// transaction as the old hash: a password changed because it leaked
// leaves nobody signed in with it.
func (s ConsoleStore) SetAdminPassword(ctx context.Context, tenantID, email, passwordHash string) error {
	if passwordHash == "" {
		return store.Invalid("a console admin needs a password hash")
	}
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		id, err := s.adminID(ctx, tx, tenantID, email)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, s.sql(`UPDATE console_admins SET password_hash = $2 WHERE id = $1`), id, passwordHash)
		if err == nil && n == 0 {
			// Removed by another replica since it was read.
			err = adminNotFound(email)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.sql(`DELETE FROM console_sessions WHERE admin_id = $1`), id)
		return err
	})
	return Wrap(err, "%s: set the password of console admin %q", s.DB.Backend, email)
}

// RemoveAdmin implements store.Console.
func (s ConsoleStore) RemoveAdmin(ctx context.Context, tenantID, email string) error {
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		id, err := s.adminID(ctx, tx, tenantID, email)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, s.sql(`DELETE FROM console_admins WHERE id = $1`), id)
		if err == nil && n == 0 {
			err = adminNotFound(email)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.sql(`DELETE FROM console_sessions WHERE admin_id = $1`), id)
		return err
	})
	return Wrap(err, "%s: remove console admin %q", s.DB.Backend, email)
}

// CreateSession implements store.Console. The session's times are stored
// as given: the caller's clock is the one its expiry is judged by.
func (s ConsoleStore) CreateSession(ctx context.Context, sess store.Session, hash []byte) error {
	if len(hash) == 0 {
		return store.Invalid("a console session needs the hash of its secret")
	}
	if err := checkRole(sess.Role); err != nil {
		return err
	}
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		if err := s.checkTenant(ctx, tx, sess.TenantID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.sql(`INSERT INTO console_sessions (hash, tenant_id, admin_id, token_id, actor, role, csrf,
			created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
			hash, sess.TenantID, sess.AdminID, sess.TokenID, sess.Actor, sess.Role, sess.CSRF,
			sqlfilter.TimeKey(sess.Created), sqlfilter.TimeKey(sess.LastSeen), sqlfilter.TimeKey(sess.Expires))
		if err != nil && s.DB.HashTaken(err) {
			return store.Errorf(store.ErrIDTaken, "a console session with this secret exists already")
		}
		return err
	})
	return Wrap(err, "%s: create console session", s.DB.Backend)
}

// SessionByHash implements store.Console.
func (s ConsoleStore) SessionByHash(ctx context.Context, hash []byte) (*store.Session, error) {
	var sess store.Session
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		sess, err = scanSession(q.QueryRow(ctx, s.sql(`SELECT `+sessionColumns+` FROM console_sessions WHERE hash = $1`), hash))
		return NoRowsAs(err, store.NotFound("console session not found"))
	})
	if err != nil {
		return nil, Wrap(err, "%s: read console session", s.DB.Backend)
	}
	return &sess, nil
}

// TouchSession implements store.Console.
func (s ConsoleStore) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		_, err := tx.Exec(ctx, s.sql(`UPDATE console_sessions SET last_seen_at = $2 WHERE hash = $1`), hash, sqlfilter.TimeKey(at))
		return err
	})
	return Wrap(err, "%s: touch console session", s.DB.Backend)
}

// DeleteSession implements store.Console.
func (s ConsoleStore) DeleteSession(ctx context.Context, hash []byte) error {
	err := s.DB.Write(ctx, func(tx ConsoleTx) error {
		_, err := tx.Exec(ctx, s.sql(`DELETE FROM console_sessions WHERE hash = $1`), hash)
		return err
	})
	return Wrap(err, "%s: delete console session", s.DB.Backend)
}

// DeleteSessionsBefore implements store.Console. Each condition has its
// index, which the databases read one after the other (SQLite's OR
// optimisation, PostgreSQL's bitmap OR) rather than the whole table.
func (s ConsoleStore) DeleteSessionsBefore(ctx context.Context, t, idle time.Time) (int, error) {
	var n int64
	err := s.DB.Write(ctx, func(tx ConsoleTx) (err error) {
		n, err = tx.Exec(ctx, s.sql(`DELETE FROM console_sessions WHERE expires_at < $1 OR last_seen_at < $2`),
			sqlfilter.TimeKey(t), sqlfilter.TimeKey(idle))
		return err
	})
	return int(n), Wrap(err, "%s: delete expired console sessions", s.DB.Backend)
}
