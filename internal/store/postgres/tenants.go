package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// EnsureTenant returns the tenant called name, creating it if needed.
// Replicas creating the same tenant at once create it once.
func (s *Store) EnsureTenant(ctx context.Context, name string) (store.Tenant, error) {
	return sqlstore.EnsureTenant(ctx, name, s.TenantByName, func(id string) error {
		if _, err := s.pool.Exec(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, id, name, timeText(s.now().UTC())); err != nil {
			return fmt.Errorf("postgres: create tenant %q: %w", name, err)
		}
		return nil
	})
}

// TenantByName returns the tenant called name, or an ErrNotFound error.
func (s *Store) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	t, err := sqlstore.ScanTenant(s.pool.QueryRow(ctx, `SELECT `+sqlstore.TenantColumns+` FROM tenants WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Tenant{}, store.NotFound("tenant %q not found", name)
	}
	if err != nil {
		return store.Tenant{}, fmt.Errorf("postgres: read tenant %q: %w", name, err)
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
	t.Created = s.now().UTC().Truncate(time.Millisecond)
	_, err = s.pool.Exec(ctx, `INSERT INTO scim_tokens (id, tenant_id, name, prefix, scope, token_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, t.TenantID, t.Name, t.Prefix, t.Scope, t.Hash, timeText(t.Created))
	switch code, _ := pgCode(err); {
	case err == nil:
		return t, nil
	case code == foreignKeyViolation:
		return store.Token{}, sqlstore.TenantNotFound(t.TenantID)
	case code == uniqueViolation:
		return store.Token{}, sqlstore.TokenTaken(t.ID)
	}
	return store.Token{}, fmt.Errorf("postgres: create token: %w", err)
}

// TokenByHash returns the unrevoked token whose hash is hash, or
// store.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := sqlstore.ScanToken(s.pool.QueryRow(ctx, `SELECT `+sqlstore.TokenColumns+` FROM scim_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.NotFound("token not found")
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: read token: %w", err)
	}
	return t, nil
}

// Tokens lists a tenant's tokens, oldest first, revoked ones included.
func (s *Store) Tokens(ctx context.Context, tenantID string) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sqlstore.TokenColumns+` FROM scim_tokens
		WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	defer rows.Close()
	out, err := sqlstore.ScanAll(rows, sqlstore.ScanToken)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token by id, or returns store.ErrNotFound. Revoking
// a revoked token keeps its first revocation time.
func (s *Store) RevokeToken(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE scim_tokens SET revoked_at = coalesce(revoked_at, $3)
		WHERE tenant_id = $1 AND id = $2`, tenantID, id, timeText(s.now().UTC()))
	if err != nil {
		return fmt.Errorf("postgres: revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.NotFound("token %q not found", id)
	}
	return nil
}
