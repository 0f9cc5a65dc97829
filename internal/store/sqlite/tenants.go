package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ferryid/ferry/internal/store"
)

// EnsureTenant returns the tenant called name, creating it if needed.
func (s *Store) EnsureTenant(ctx context.Context, name string) (store.Tenant, error) {
	if name == "" {
		return store.Tenant{}, store.Invalid("a tenant needs a name")
	}
	if t, err := s.TenantByName(ctx, name); err == nil {
		return t, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, err
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO NOTHING`, store.NewID(), name, timeText(w.now))
		return err
	})
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlite: create tenant %q: %w", name, err)
	}
	return s.TenantByName(ctx, name)
}

// TenantByName returns the tenant called name, or an ErrNotFound error.
func (s *Store) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	var t store.Tenant
	var created string
	err := s.read(ctx, func(c *conn) error {
		return c.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE name = ?1`, name).
			Scan(&t.ID, &t.Name, &created)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Tenant{}, store.NotFound("tenant %q not found", name)
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("sqlite: read tenant %q: %w", name, err)
	}
	if t.Created, err = parseTime(created); err != nil {
		return store.Tenant{}, fmt.Errorf("sqlite: tenant %q: %w", name, err)
	}
	return t, nil
}

// CreateToken records a token by the SHA-256 hash of its secret. It sets
// ID (when empty), Scope (store.ScopeSCIM when empty) and Created; a scope
// other than store.ScopeSCIM or store.ScopeAdmin is store.ErrInvalid, a
// token for a tenant that does not exist store.ErrNotFound, and a hash
// already recorded store.ErrIDTaken.
func (s *Store) CreateToken(ctx context.Context, t store.Token, hash []byte) (store.Token, error) {
	if len(hash) == 0 {
		return store.Token{}, errors.New("sqlite: create token: empty hash")
	}
	scope, err := tokenScope(t.Scope)
	if err != nil {
		return store.Token{}, err
	}
	t.Scope = scope
	if t.ID == "" {
		t.ID = store.NewID()
	}
	t.Revoked = nil
	t.Hash = append([]byte(nil), hash...)
	err = s.write(ctx, func(w *wtx) error {
		t.Created = w.now
		_, err := w.ExecContext(ctx, `INSERT INTO scim_tokens (id, tenant_id, name, prefix, scope, token_hash, created_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`, t.ID, t.TenantID, t.Name, t.Prefix, t.Scope, hash, timeText(w.now))
		switch {
		case isForeignKey(err):
			return store.NotFound("tenant %q not found", t.TenantID)
		case isUnique(err):
			return store.Errorf(store.ErrIDTaken, "token %q or its hash already exists", t.ID)
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

const tokenColumns = `id, tenant_id, name, prefix, scope, token_hash, created_at, revoked_at`

// tokenScope returns the scope a token is stored with: scope, or
// store.ScopeSCIM for "".
func tokenScope(scope string) (string, error) {
	switch scope {
	case "":
		return store.ScopeSCIM, nil
	case store.ScopeSCIM, store.ScopeAdmin:
		return scope, nil
	}
	return "", store.Invalid("token scope %q is neither %q nor %q", scope, store.ScopeSCIM, store.ScopeAdmin)
}

func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var created string
	var revoked sql.NullString
	if err := row.Scan(&t.ID, &t.TenantID, &t.Name, &t.Prefix, &t.Scope, &t.Hash, &created, &revoked); err != nil {
		return store.Token{}, err
	}
	var err error
	if t.Created, err = parseTime(created); err != nil {
		return store.Token{}, err
	}
	if revoked.Valid {
		r, err := parseTime(revoked.String)
		if err != nil {
			return store.Token{}, err
		}
		t.Revoked = &r
	}
	return t, nil
}

// TokenByHash returns the unrevoked token whose hash is hash, or
// store.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	err := s.read(ctx, func(c *conn) error {
		var err error
		t, err = scanToken(c.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM scim_tokens
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
		rows, err := c.QueryContext(ctx, `SELECT `+tokenColumns+` FROM scim_tokens
			WHERE tenant_id = ?1 ORDER BY created_at, id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
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
