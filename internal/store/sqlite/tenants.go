package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// EnsureTenant returns the tenant called name, creating it if needed.
func (s *Store) EnsureTenant(ctx context.Context, name string) (store.Tenant, error) {
	return sqlstore.EnsureTenant(ctx, name, s.TenantByName, func(id string) error {
		err := s.write(ctx, func(w *wtx) error {
			_, err := w.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)
				ON CONFLICT (name) DO NOTHING`, id, name, timeText(w.now))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: create tenant %q: %w", name, err)
		}
		return nil
	})
}

// TenantByName returns the tenant called name, or an ErrNotFound error.
func (s *Store) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	var t store.Tenant
	err := s.read(ctx, func(c *conn) error {
		var err error
		t, err = sqlstore.ScanTenant(c.QueryRowContext(ctx, `SELECT `+sqlstore.TenantColumns+` FROM tenants WHERE name = ?1`, name))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Tenant{}, store.NotFound("tenant %q not found", name)
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlite: read tenant %q: %w", name, err)
	}
	return t, nil
}

// CreateToken records a token by the SHA-256 hash of its secret. It sets
// ID (when empty), Scope (store.ScopeSCIM when empty) and Created; a scope
// other than store.ScopeSCIM or store.ScopeAdmin is store.ErrInvalid, a
// token for a tenant that does not exist store.ErrNotFound, and a hash
// already recorded store.ErrIDTaken.
func (s *Store) CreateToken(ctx context.Context, t store.Token, hash []byte) (store.Token, error) {
	t, err := sqlstore.NewToken(t, hash)
	if err != nil {
		return store.Token{}, err
	}
	err = s.write(ctx, func(w *wtx) error {
		t.Created = w.now
		_, err := w.ExecContext(ctx, `INSERT INTO scim_tokens (id, tenant_id, name, prefix, scope, token_hash, created_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`, t.ID, t.TenantID, t.Name, t.Prefix, t.Scope, t.Hash, timeText(w.now))
		switch {
		case isForeignKey(err):
			return sqlstore.TenantNotFound(t.TenantID)
		case isUnique(err):
			return sqlstore.TokenTaken(t.ID)
		}
		return err
	})
	if err != nil {
		if _, ok := errors.AsType[*store.Error](err); ok {
			return store.Token{}, err
		}
		return store.Token{}, fmt.Errorf("sqlite: create token: %w", err)
	}
	return t, nil
}

// TokenByHash returns the unrevoked token whose hash is hash, or
// store.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	err := s.read(ctx, func(c *conn) error {
		var err error
		t, err = sqlstore.ScanToken(c.QueryRowContext(ctx, `SELECT `+sqlstore.TokenColumns+` FROM scim_tokens
			WHERE token_hash = ?1 AND revoked_at IS NULL`, hash))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.NotFound("token not found")
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: read token: %w", err)
	}
	return t, nil
}

// Tokens lists a tenant's tokens, oldest first, revoked ones included.
func (s *Store) Tokens(ctx context.Context, tenantID string) ([]store.Token, error) {
	var out []store.Token
	err := s.read(ctx, func(c *conn) error {
		rows, err := c.QueryContext(ctx, `SELECT `+sqlstore.TokenColumns+` FROM scim_tokens
			WHERE tenant_id = ?1 ORDER BY created_at, id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = sqlstore.ScanAll(rows, sqlstore.ScanToken)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token by id, or returns store.ErrNotFound. Revoking
// a revoked token keeps its first revocation time.
func (s *Store) RevokeToken(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, `UPDATE scim_tokens SET revoked_at = coalesce(revoked_at, ?3)
			WHERE tenant_id = ?1 AND id = ?2`, tenantID, id, timeText(w.now))
		if err != nil {
			return fmt.Errorf("sqlite: revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("token %q not found", id)
		}
		return nil
	})
}
