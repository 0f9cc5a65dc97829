package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ferryid/ferry/internal/store"
)

// EnsureTenant returns the tenant called name, which byName reads, after
// insert has added it with a new id if byName did not find it. insert must
// do nothing when the name is taken, so that processes creating one tenant
// at once create it once.
func EnsureTenant(ctx context.Context, name string, byName func(context.Context, string) (store.Tenant, error),
	insert func(id string) error) (store.Tenant, error) {
	if name == "" {
		return store.Tenant{}, store.Invalid("a tenant needs a name")
	}
	if t, err := byName(ctx, name); err == nil {
		return t, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, err
	}
	if err := insert(store.NewID()); err != nil {
		return store.Tenant{}, err
	}
	return byName(ctx, name)
}

// TenantColumns are the tenants columns ScanTenant reads.
const TenantColumns = `id, name, created_at`

// ScanTenant reads a row of TenantColumns.
func ScanTenant(row Row) (store.Tenant, error) {
	var t store.Tenant
	var created string
	if err := row.Scan(&t.ID, &t.Name, &created); err != nil {
		return store.Tenant{}, err
	}
	var err error
	if t.Created, err = parseTime(created); err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// NewToken returns t as CreateToken stores it with the hash of its
// secret, but for Created: its Scope (store.ScopeSCIM for ""), an ID when
// it has none, no revocation and a copy of hash. A scope other than
// store.ScopeSCIM or store.ScopeAdmin is store.ErrInvalid.
func NewToken(t store.Token, hash []byte) (store.Token, error) {
	if len(hash) == 0 {
		return store.Token{}, errors.New("create token: empty hash")
	}
	switch t.Scope {
	case "":
		t.Scope = store.ScopeSCIM
	case store.ScopeSCIM, store.ScopeAdmin:
	default:
		return store.Token{}, store.Invalid("token scope %q is neither %q nor %q", t.Scope, store.ScopeSCIM, store.ScopeAdmin)
	}
	if t.ID == "" {
		t.ID = store.NewID()
	}
	t.Revoked = nil
	t.Hash = append([]byte(nil), hash...)
	return t, nil
}

// TokenTaken is the ErrIDTaken of a token whose id or hash is stored
// already.
func TokenTaken(id string) *store.Error {
	return store.Errorf(store.ErrIDTaken, "token %q or its hash already exists", id)
}

// TokenColumns are the scim_tokens columns ScanToken reads.
const TokenColumns = `id, tenant_id, name, prefix, scope, token_hash, created_at, revoked_at`

// ScanToken reads a row of TokenColumns.
func ScanToken(row Row) (store.Token, error) {
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
