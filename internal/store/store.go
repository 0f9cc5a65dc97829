// Package store defines Ferry's directory storage: tenants, SCIM bearer
// tokens, User and Group resources with their memberships, and the change
// feed. Backends (sqlite, postgres) implement Store and must pass
// the same behaviour; everything above this package sees only the interface.
//
// The caller's mistakes are returned as *Error values of a kind that
// errors.Is tells apart (ErrNotFound for a missing resource, ErrNameTaken,
// ErrVersionMismatch, ErrInvalid for a member that does not exist, ...);
// the server chooses the HTTP answer to each kind. Any other error is the
// storage's own failure.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// TimeLayout is how meta.created and meta.lastModified appear in SCIM
// responses: UTC, to the millisecond. Backends store those times at that
// precision, so that a client filtering on a value it was shown compares
// with what is stored.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Resource type names, as in the SCIM ResourceType "name".
const (
	UserType  = "User"
	GroupType = "Group"
)

// Tenant is an isolated directory. Every resource, token and change belongs
// to exactly one tenant, and nothing crosses between tenants.
type Tenant struct {
	ID      string
	Name    string
	Created time.Time
}

// Token is a SCIM bearer token's record. The token itself is never stored:
// only its SHA-256 hash, and a short prefix to recognise it by in listings.
type Token struct {
	ID       string
	TenantID string
	Name     string // the operator's label
	Prefix   string // the first characters of the token, for display
	Scope    string // ScopeSCIM ("" reads as ScopeSCIM) or ScopeAdmin
	Hash     []byte // SHA-256 of the token, set by TokenByHash for a constant-time check
	Created  time.Time
	Revoked  *time.Time
}

// Member is one membership edge: a group's member, or a group a user is in.
type Member struct {
	ID      string // the member's (or group's) id
	Type    string // UserType or GroupType
	Display string // the member's displayName (users: displayName, else userName), filled on read
}

// Resource is a stored User or Group.
type Resource struct {
	TenantID string
	Type     string // UserType or GroupType
	ID       string
	// Doc is the normalized document (resource.Normalize) without the
	// server-managed attributes: no id, meta, members or groups. A read
	// with ReadOptions.Encoded leaves it nil.
	Doc resource.Document
	// DocJSON is Doc as the store holds it, encoded: set by Create, by
	// Update and by reads with ReadOptions.Encoded, byte for byte what a
	// later read of the same version returns. A reader that keeps what it
	// made of a document (the server's cache of rendered resources) can
	// compare it instead of decoding it.
	DocJSON []byte
	// Members are a group's members. On write they replace the group's
	// membership rows; on read they are filled when asked for.
	Members []Member
	// Groups are the groups a user is a direct member of; filled on read,
	// ignored on write.
	Groups       []Member
	Version      int64 // starts at 1, incremented by every write; the ETag
	Created      time.Time
	LastModified time.Time
	// SchemasVersion is the tenant's schemas version as of the read, set
	// by a read with ReadOptions.SchemasVersion.
	SchemasVersion int64
}

// ReadOptions says what a read loads besides the document.
type ReadOptions struct {
	// Members loads a group's members (and a user's groups). Entra reads
	// groups with excludedAttributes=members; large groups then cost nothing.
	Members bool
	// Encoded returns the document as stored (Resource.DocJSON) instead of
	// decoded (Resource.Doc), for a reader that may not need it decoded.
	Encoded bool
	// IDsOnly returns of each resource of a Query its ID alone (Members
	// and Encoded are then ignored), read from an index without the
	// resource's row where the backend can: for a reader that holds the
	// resources' current state itself, a server whose read cache the
	// store tells of every commit (CommitWatcher).
	IDsOnly bool
	// SchemasVersion sets Resource.SchemasVersion: the tenant's schemas
	// version (Schemas.VersionedSchemaExtensions) read in the same
	// statement as the resource, so that a reader holding the tenant's
	// catalog at a version learns in the same round trip whether it is
	// still the tenant's.
	SchemasVersion bool
}

// Query selects resources of one type in one tenant.
type Query struct {
	Filter     filter.Expr // nil selects every resource
	SortBy     string      // an attribute path; "" sorts by id
	Descending bool
	StartIndex int // 1-based index of the first result; values below 1 mean 1
	Count      int // the most resources to return; 0 returns only the total
	// After, when not nil, makes the query a keyset page: the Count
	// resources that follow After in the query's order, StartIndex
	// ignored, and Page.Next set when more follow. A zero Position
	// starts at the first resource. Unlike StartIndex, a page deep into
	// the results costs what the first does, and a resource that exists
	// from the first page to the last, its sort key unchanged, is
	// returned exactly once, whatever else is created or deleted
	// meanwhile.
	After *Position
	// Skip, with After, passes over that many resources after After
	// before the page begins: a page at a known distance from a resource
	// whose place the reader knows (the server's read cache remembers
	// where pages ended), read without stepping over everything before it.
	Skip int
	ReadOptions
}

// Position is a place in a query's order: the sort key and the id of the
// resource a keyset page ended with (Query.After, Page.Next).
type Position struct {
	// Key is the resource's sort key, in the store's own encoding; nil
	// when the query sorts by id alone or the resource has no value to
	// sort by.
	Key *string
	ID  string // "" for the start, before every resource
}

// Page is one page of query results.
type Page struct {
	Total     int // every match, not only this page's
	Resources []*Resource
	// Next is where the page's last resource stands, when the query was a
	// keyset page (Query.After) and more resources follow; nil otherwise.
	Next *Position
}

// ChangeOp is the kind of a change-feed entry.
type ChangeOp string

// The change-feed operations.
const (
	OpCreate ChangeOp = "create"
	OpUpdate ChangeOp = "update"
	OpDelete ChangeOp = "delete"
	// OpMembership is recorded for a resource that joined or left a group;
	// the group itself gets an OpUpdate.
	OpMembership ChangeOp = "membership"
	// OpAssignment is recorded for a user or group assigned to or
	// unassigned from an application (see Provisioning).
	OpAssignment ChangeOp = "assignment"
)

// Change is one change-feed entry, written in the same transaction as the
// change it records. Seq increases strictly within a tenant, in the order
// the writes commit: once a reader has seen an entry with Seq N, no entry
// of that tenant with a Seq below N appears later, whichever process wrote
// it. That is what lets a reader keep a watermark. Seq may have gaps.
type Change struct {
	Seq      int64
	TenantID string
	Type     string
	ID       string
	Op       ChangeOp
	At       time.Time
	// Detail is what the change did, for the events API; empty for
	// entries written before the store recorded it, and for OpMembership
	// and OpAssignment entries.
	Detail ChangeDetail
}

// ChangeDetail is what an OpCreate or OpUpdate entry records of the
// change, in the transaction of the write.
type ChangeDetail struct {
	// State is the resource's document after the change (without id,
	// meta and members, as Resource.Doc).
	State resource.Document `json:"state,omitempty"`
	// Changed names the attributes an update changed
	// (resource.ChangedAttributes).
	Changed []string `json:"changed,omitempty"`
	// Added and Removed are the members a change to a group added and
	// removed.
	Added   []ChangeMember `json:"added,omitempty"`
	Removed []ChangeMember `json:"removed,omitempty"`
}

// ChangeMember is a member a change added to or removed from a group.
type ChangeMember struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Empty reports whether the detail records nothing.
func (d ChangeDetail) Empty() bool {
	return d.State == nil && len(d.Changed) == 0 && len(d.Added) == 0 && len(d.Removed) == 0
}

// Store is the directory storage every backend implements. All methods are
// safe for concurrent use.
type Store interface {
	Provisioning
	Sources
	Webhooks
	Schemas
	Console
	// EnsureTenant returns the tenant called name, creating it if needed.
	EnsureTenant(ctx context.Context, name string) (Tenant, error)
	// TenantByName returns the tenant called name, or ErrNotFound.
	TenantByName(ctx context.Context, name string) (Tenant, error)

	// CreateToken records a token by the SHA-256 hash of its secret.
	CreateToken(ctx context.Context, t Token, hash []byte) (Token, error)
	// TokenByHash returns the unrevoked token whose hash is hash, or
	// ErrNotFound. Lookup by hash is an index seek; the hash is not secret.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Tokens lists a tenant's tokens, revoked ones included.
	Tokens(ctx context.Context, tenantID string) ([]Token, error)
	// RevokeToken revokes a token by id, or returns ErrNotFound.
	RevokeToken(ctx context.Context, tenantID, id string) error

	// Create stores a new resource. It sets ID (when empty), Version,
	// Created and LastModified on r. It returns ErrNameTaken for a taken
	// userName (case-insensitively) or group displayName, and ErrInvalid
	// for a member id that is not in the tenant.
	Create(ctx context.Context, r *Resource) error
	// Get reads one resource, or returns ErrNotFound.
	Get(ctx context.Context, tenantID, typ, id string, opts ReadOptions) (*Resource, error)
	// Update reads the resource (with members), calls change on it and
	// writes the result, all in one transaction, so that PATCH is atomic.
	// With ifVersion non-zero, a resource at another version gives
	// ErrVersionMismatch.
	// change may return an error (returned as it is) to abandon
	// the update. When change leaves Doc and Members as they were, nothing
	// is written and the version stays.
	Update(ctx context.Context, tenantID, typ, id string, ifVersion int64, change func(*Resource) error) (*Resource, error)
	// Delete removes a resource and its memberships, or returns ErrNotFound;
	// with ifVersion non-zero, ErrVersionMismatch on another version.
	Delete(ctx context.Context, tenantID, typ, id string, ifVersion int64) error
	// Query runs a filtered, sorted, paged search in the database.
	Query(ctx context.Context, tenantID, typ string, q Query) (Page, error)

	// Changes returns up to limit change-feed entries of a tenant with Seq
	// greater than after, in Seq order. After 0 reads from the oldest entry
	// kept. When PruneChanges deleted entries of the tenant after after
	// (after > 0 and below the tenant's horizon), it returns a
	// *PrunedError (ErrChangesPruned) instead.
	Changes(ctx context.Context, tenantID string, after int64, limit int) ([]Change, error)
	// PruneChanges deletes, in every tenant, the change-feed entries
	// recorded before before, a few thousand per write, and returns how
	// many it deleted. It deletes a tenant's oldest entries only (the
	// feed up to its first entry recorded at or after before), so that
	// every entry kept lies above the tenant's horizon, the highest
	// position it deleted, which it records for Changes.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)

	// Ping reports whether the database answers, for readiness checks.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// NewID returns a new resource or record id: a random (version 4) UUID.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// CommitWatcher is implemented by a store that can tell this process of
// every change to the directory before the change is acknowledged: one
// whose writes all go through this process (a SQLite file that one ferry
// serve owns). A cache kept from its commits needs no read of the
// database to stay exact. A store shared by several processes (PostgreSQL
// replicas) does not implement it, or reports false.
type CommitWatcher interface {
	// WatchCommits calls fn after each commit, before the commit's writes
	// return, with what the commit changed; fn must be quick and must not
	// write. It reports false, and calls nothing, when this process does
	// not own the directory's writes.
	WatchCommits(fn func(Commit)) bool
}

// Commit is what one committed transaction changed.
type Commit struct {
	// Resources are the resources the commit wrote or deleted, and those
	// whose memberships it changed: every change-feed entry it recorded.
	Resources []ResourceKey
	// Rows are the rows the commit wrote as it created or updated
	// resources, and Edges the memberships it added or removed, each in
	// the order written. They describe a resource's change exactly when
	// there is one of them for each of its entries in Resources
	// (Described); a deletion, for one, is not described.
	Rows  []CommitRow
	Edges []EdgeChange
	// Schemas are the tenants whose extension schemas it changed.
	Schemas []string
	// Reordered are the resource types, per tenant, of which the commit
	// created or deleted a resource: where a resource stands in a list
	// (sorted by id) changes with those writes alone.
	Reordered []TenantType
}

// CommitRow is a resources row a commit wrote: what a read right after
// the commit returns of the resource, but its memberships.
type CommitRow struct {
	Key                   ResourceKey
	Version               int64
	Created, LastModified time.Time
	DocJSON               []byte
	// NameKey is the resource's unique name (a user's userName, a group's
	// displayName) as filter.FoldKey folds it, "" for none; Display is
	// what a membership shows of it (Member.Display).
	NameKey, Display string
	// New says the commit created the resource, which therefore had no
	// memberships before it.
	New bool
}

// EdgeChange is a membership a commit added or removed. Its change-feed
// entry is the member's (OpMembership); the group's row is in the same
// commit's Rows.
type EdgeChange struct {
	TenantID      string
	Group, Member Member
	Removed       bool
}

// Described returns the resources of Resources whose every change-feed
// entry in the commit has its fact in Rows or Edges: those whose new
// state a reader of the commit can work out from the state before it.
func (c Commit) Described() map[ResourceKey]bool {
	entries := make(map[ResourceKey]int, len(c.Resources))
	for _, k := range c.Resources {
		entries[k]++
	}
	for _, r := range c.Rows {
		entries[r.Key]--
	}
	for _, e := range c.Edges {
		entries[ResourceKey{TenantID: e.TenantID, Type: e.Member.Type, ID: e.Member.ID}]--
	}
	out := make(map[ResourceKey]bool, len(entries))
	for k, n := range entries {
		out[k] = n == 0
	}
	return out
}

// TenantType is one resource type of one tenant.
type TenantType struct{ TenantID, Type string }

// ResourceKey names one resource.
type ResourceKey struct{ TenantID, Type, ID string }
