package store

import (
	"context"
	"time"
)

// The directory's sources: an LDAP or Active Directory server (and,
// later, other kinds) that fills a tenant's directory on a schedule. The
// store keeps a source's configuration and its last pass's state as JSON
// that the runner (internal/sourcesync) defines, the bind password sealed
// as an application's secret is, and a lease so that with several replicas
// one pass of a source runs at a time.

// SourceTypeLDAP is the type of an LDAP or Active Directory source.
const SourceTypeLDAP = "ldap"

// Source is one source of a tenant's directory.
type Source struct {
	ID       string
	TenantID string
	// Name is unique within the tenant, compared ignoring case. It is
	// part of the externalId of every object the source owns, so it
	// cannot change.
	Name string
	Type string // SourceTypeLDAP
	// Config is the runner's JSON configuration, without the secret.
	Config []byte
	// Secret is the bind password, sealed by the caller; the store never
	// sees it in clear.
	Secret []byte
	// Enabled: the scheduler runs the source's passes.
	Enabled      bool
	Version      int64 // starts at 1, incremented by every UpdateSource
	Created      time.Time
	LastModified time.Time

	// State is the runner's JSON record of its passes, written by
	// PutSourceState only, and read with the source; UpdateSource keeps it.
	State []byte
	// Lease is the lease on the source's passes, as read; ClaimSource
	// alone changes it.
	Lease SourceLease
}

// SourceLease is the lease on a source's passes: while it lasts, its
// Owner alone runs them. It follows the rules of Lease (the clock of
// Expires, Generation), for a source rather than an application's job.
type SourceLease struct {
	Owner      string
	Expires    time.Time
	Generation int64
}

// Held reports whether someone holds the lease at time at, on the
// database's clock.
func (l SourceLease) Held(at time.Time) bool {
	return l.Owner != "" && at.Before(l.Expires)
}

// Sources stores the directory's sources.
type Sources interface {
	// CreateSource stores a new source, giving it an id when it has none,
	// and sets s's Version, Created and LastModified. A name taken in the
	// tenant is ErrNameTaken.
	CreateSource(ctx context.Context, s *Source) error
	// Source reads a source by id, or returns ErrNotFound.
	Source(ctx context.Context, tenantID, id string) (*Source, error)
	// SourceByName reads a source by name, ignoring case, or returns
	// ErrNotFound.
	SourceByName(ctx context.Context, tenantID, name string) (*Source, error)
	// Sources lists a tenant's sources by name, ignoring case; with
	// tenantID "" every tenant's, by tenant id then name.
	Sources(ctx context.Context, tenantID string) ([]*Source, error)
	// UpdateSource reads the source, calls change on a copy and writes it
	// in one transaction. change may set Config, Secret and Enabled; the
	// name, type, state and lease stay. With ifVersion non-zero, a source
	// at another version is ErrVersionMismatch. A change that changes
	// nothing writes nothing and keeps the version.
	UpdateSource(ctx context.Context, tenantID, id string, ifVersion int64, change func(*Source) error) (*Source, error)
	// DeleteSource removes a source with its state and lease, or returns
	// ErrNotFound. The objects it created stay in the directory; the
	// caller decides what becomes of them first.
	DeleteSource(ctx context.Context, tenantID, id string) error
	// ClaimSource takes or renews the lease on a source's passes for
	// owner, until the store's clock plus ttl, unless another owner holds
	// it unexpired; it returns the lease as it stands and whether owner
	// holds it. A source that does not exist is ErrNotFound.
	ClaimSource(ctx context.Context, id, owner string, ttl time.Duration) (SourceLease, bool, error)
	// ReleaseSource gives up owner's lease, if owner holds it.
	ReleaseSource(ctx context.Context, id, owner string) error
	// PutSourceState writes a source's state, provided fence is still the
	// lease as the database has it (same owner and generation,
	// unexpired); otherwise it writes nothing and returns an error
	// wrapping ErrLeaseLost.
	PutSourceState(ctx context.Context, id string, fence SourceLease, state []byte) error
}
