package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The provisioning engine's records: applications and their assignments,
// links between directory objects and the objects created or matched in an
// application, escrows of the objects waiting to be tried again, each job's
// state and lease, the provisioning logs, and the audit log of what
// administrators did to each application. They live in the directory's
// database so that a change and the engine's bookkeeping share backups,
// transactions and replicas.
//
// The store keeps an application's configuration, control record, job
// state and escrow records as JSON documents that the engine
// (internal/provision) defines and validates: the store indexes what it
// queries on and nothing else.

// Token scopes.
const (
	// ScopeSCIM tokens call /scim/v2 as their tenant: the default.
	ScopeSCIM = "scim"
	// ScopeAdmin tokens call the admin API (/api/v1) for their tenant.
	ScopeAdmin = "admin"
)

// App is an application that a tenant provisions into.
type App struct {
	ID       string
	TenantID string
	// Name is unique within the tenant, compared ignoring case.
	Name     string
	Template string
	// Config is the engine's JSON configuration of the application
	// (target, mappings, scoping, settings), without the secret.
	Config []byte
	// Secret is the target credential, sealed by the engine; the store
	// never sees it in clear.
	Secret []byte
	// Control is the engine's JSON record of what administrators asked of
	// the job (configuration generation, restart, reset, retry); the store
	// keeps it and never looks into it. It is in the application's row so
	// that a request is written by UpdateApp, versioned with the
	// configuration it was made against.
	Control []byte
	// Enabled is the provisioning status: On (true) or Off.
	Enabled      bool
	Version      int64 // starts at 1, incremented by every update
	Created      time.Time
	LastModified time.Time
}

// Assignment assigns a user or a group to an application.
type Assignment struct {
	AppID         string
	PrincipalType string // UserType or GroupType
	PrincipalID   string // the user's or group's id
	Role          string // "" for the default access
	Created       time.Time
}

// Link records that a directory object (the source) was created or matched
// in an application as the target object TargetID. Later operations address
// the target by TargetID alone, and objects without a link are never
// touched.
type Link struct {
	AppID      string
	SourceType string // UserType or GroupType
	SourceID   string
	TargetID   string
	// Exported is the engine's JSON record of what it last exported
	// (the target attributes, a group's target member ids), which updates
	// are diffed against.
	Exported []byte
	Created  time.Time
	Updated  time.Time
}

// LinkCounts counts an application's links of one source type.
type LinkCounts struct {
	// Total is every link of the type.
	Total int
	// Orphaned are those whose source object no longer exists in the
	// tenant's directory: no resource of that type and id in the tenant.
	Orphaned int
}

// Escrow is a directory object whose processing failed in an application,
// waiting to be tried again.
type Escrow struct {
	AppID      string
	SourceType string // UserType or GroupType
	SourceID   string
	SourceName string // userName or displayName, for listings
	// Attempts counts the failures in a row.
	Attempts int
	// Retryable says the failure was transient (network, timeout, 5xx, 429):
	// the object is tried again at NextTry. A permanent failure (other 4xx,
	// a mapping error) waits for a change of the object or the configuration.
	Retryable bool
	NextTry   time.Time // zero when not Retryable
	// FirstFailed is when the failures in a row began, LastFailed when the
	// last of them happened (see PutEscrow for zero values).
	FirstFailed time.Time
	LastFailed  time.Time
	// Record is the engine's JSON record of the last failure (error, request).
	Record []byte
}

// EscrowQuery selects an application's escrows, in (SourceType, SourceID) order.
type EscrowQuery struct {
	// Due, when set, selects only retryable escrows with NextTry <= Due.
	Due time.Time
	// AfterType and AfterID continue a listing after that object.
	AfterType, AfterID string
	Limit              int // at most this many; 100 when zero; capped at 1000
}

// JobState is an application's job bookkeeping: the engine's JSON state
// (cycle, progress, pending work) and the change-feed watermark the next
// incremental cycle reads after.
type JobState struct {
	AppID     string
	Watermark int64
	State     []byte
	Updated   time.Time
}

// Lease is the lease on an application's job: while it lasts, its Owner
// alone runs the job. A lease is held until Expires, exclusive.
type Lease struct {
	AppID string
	// Owner is the process that holds or last held the lease; "" when
	// nobody does: the job was never claimed, or its lease was released.
	Owner string
	// Expires is when the lease ends, on the database's clock (the
	// database server's for PostgreSQL, which every replica shares), not
	// the caller's: compare it with the caller's clock only allowing for
	// skew. A lease that expired keeps its Owner and Expires until
	// another claim; Held tells whether it still holds. ClaimJob sets it
	// to at least ttl after the claim was sent, so that a holder that
	// counts ttl on its own monotonic clock from before the call stops
	// before the database lets anyone else take the lease (as long as
	// the two clocks run at about the same rate).
	Expires time.Time
	// Generation counts the holders: it grows by one every time the lease
	// passes to a holder that did not hold it unexpired (the first claim,
	// a takeover after expiry, a claim after a release, the same owner
	// claiming again after its own lease expired), and a renewal by the
	// unexpired holder keeps it. 0 for a job never claimed. A write fenced
	// with a lease (PutJobState) fails once the generation has moved on:
	// whatever the holder did not notice while paused, its writes cannot
	// land after a takeover.
	Generation int64
}

// Held reports whether someone holds the lease at time at, a time on the
// database's clock: it has an Owner and at is before Expires.
func (l Lease) Held(at time.Time) bool {
	return l.Owner != "" && at.Before(l.Expires)
}

// ErrLeaseLost is the error, wrapped with what became of the lease, of a
// write fenced with a lease that its owner does not hold: the lease
// expired, was released, passed to another holder, or is gone with its
// application. Nothing was written.
// The engine drops its in-flight work on it: another process has the job.
var ErrLeaseLost = errors.New("job lease lost")

// CheckFence returns nil when fence still holds cur, the lease as the
// database has it, at time at on the database's clock: the same Owner, the
// same Generation, unexpired. Otherwise it returns an error wrapping
// ErrLeaseLost that says what became of the lease, or, for a fence that is
// the lease of another application, an error that does not. Backends call
// it on the lease read in the transaction of the fenced write.
type fenceKey struct{}

// WithFence returns a context whose writes of links, provisioning logs and
// escrows happen only while fence's holder still holds that lease, checked
// in the write's own transaction as PutJobState's fence is: a process that
// was paused between its own check and the write cannot write after
// another has taken the job over.
func WithFence(ctx context.Context, fence Lease) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence)
}

// FenceFrom returns the fence WithFence put in ctx, if any.
func FenceFrom(ctx context.Context) (Lease, bool) {
	f, ok := ctx.Value(fenceKey{}).(Lease)
	return f, ok
}

func CheckFence(cur, fence Lease, at time.Time) error {
	switch {
	case fence.AppID != cur.AppID:
		// The caller's mistake, not a lost lease: it must not be dropped
		// quietly as a lost lease is.
		return fmt.Errorf("the fence is the lease of application %q, not of %q", fence.AppID, cur.AppID)
	case fence.Owner == "":
		return fmt.Errorf("%w: the fence names no owner", ErrLeaseLost)
	case cur.Owner == fence.Owner && cur.Generation == fence.Generation && cur.Held(at):
		return nil
	case cur.Owner == fence.Owner && cur.Generation == fence.Generation:
		return fmt.Errorf("%w: %s's lease of generation %d expired at %s", ErrLeaseLost,
			fence.Owner, fence.Generation, cur.Expires.UTC().Format(time.RFC3339Nano))
	case cur.Generation == 0:
		return fmt.Errorf("%w: the job has no lease (never claimed, or its application was deleted)", ErrLeaseLost)
	case cur.Owner == "":
		return fmt.Errorf("%w: %s's lease of generation %d is gone: the lease is at generation %d, released", ErrLeaseLost,
			fence.Owner, fence.Generation, cur.Generation)
	default:
		return fmt.Errorf("%w: %s's lease of generation %d is gone: the lease is at generation %d, held by %s until %s",
			ErrLeaseLost, fence.Owner, fence.Generation, cur.Generation, cur.Owner, cur.Expires.UTC().Format(time.RFC3339Nano))
	}
}

// ProvisioningLog is one provisioning-log record: what the engine did, or
// decided not to do, to one object. Record is the engine's full JSON
// record; the other fields are what logs are queried by.
type ProvisioningLog struct {
	ID         string // set by AppendLogs when empty
	TenantID   string
	AppID      string
	CycleID    string
	At         time.Time
	Action     string // create, update, disable, delete, other, ...
	Status     string // success, failure, skipped, warning
	SourceType string
	SourceID   string
	SourceName string // userName or displayName
	TargetID   string
	Record     []byte
}

// LogQuery selects provisioning logs of one tenant. Zero fields select
// everything; results are newest first.
type LogQuery struct {
	TenantID   string
	AppID      string
	SourceID   string
	SourceName string // exact, ignoring case
	Action     string
	Status     string
	Since      time.Time // At >= Since
	Until      time.Time // At < Until
	// Before continues a listing: only records older than the record
	// with this ID (the last of the previous page).
	Before string
	Limit  int // at most this many; 100 when zero
}

// AuditEntry is one record of an application's audit log: what an
// administrator did to the application (changed its configuration, turned
// it On or Off, allowed staged deletes, ...), who and when. Details is the
// engine's JSON record of what changed; the other fields are what entries
// are queried by. Entries outlive their application.
type AuditEntry struct {
	ID       string // set by AppendAudit when empty
	TenantID string
	AppID    string
	// AppName is the application's name when the entry was recorded: an
	// application deleted since is found by it.
	AppName string
	At      time.Time // set by AppendAudit when zero
	// Actor names who did it: the admin token's name.
	Actor   string
	Action  string // create, update, delete, start, ...
	Details []byte
}

// AuditQuery selects audit entries of one tenant's application, by its id
// or, when AppID is empty, by the name it had (exact, ignoring case).
// Results are newest first.
type AuditQuery struct {
	TenantID string
	AppID    string
	AppName  string
	// Before continues a listing: only entries older than the entry with
	// this ID (the last of the previous page).
	Before string
	Limit  int // at most this many; 100 when zero, at most 1000
}

// Provisioning is the storage of the provisioning engine. Every backend
// implements it with the same behaviour, proved by storetest. Methods
// return *Error values for the caller's mistakes: ErrNotFound for a missing
// record, ErrNameTaken for a taken name, ErrVersionMismatch for a version
// mismatch;
// and ErrLeaseLost, wrapped, for a fenced write whose lease is lost.
type Provisioning interface {
	// CreateApp stores a new application, setting ID (when empty),
	// Version, Created and LastModified.
	CreateApp(ctx context.Context, a *App) error
	// App reads an application by id.
	App(ctx context.Context, tenantID, id string) (*App, error)
	// AppByName reads an application by name, ignoring case.
	AppByName(ctx context.Context, tenantID, name string) (*App, error)
	// Apps lists a tenant's applications by name, or every tenant's with
	// tenantID "" (for the engine's scheduler).
	Apps(ctx context.Context, tenantID string) ([]*App, error)
	// UpdateApp reads the application, calls change on it and writes the
	// result in one transaction; with ifVersion non-zero, another version
	// gives ErrVersionMismatch. change may be called more than once.
	UpdateApp(ctx context.Context, tenantID, id string, ifVersion int64, change func(*App) error) (*App, error)
	// DeleteApp removes an application with its assignments, links,
	// escrows, job state and lease (its provisioning logs stay until they
	// expire).
	DeleteApp(ctx context.Context, tenantID, id string) error

	// Assign assigns a principal to an application, replacing the role of
	// an existing assignment. The principal must exist in the tenant
	// (ErrInvalid otherwise). It appends an OpAssignment change for
	// the principal to the change feed, in the same transaction, so that
	// the application's next incremental cycle looks at it.
	Assign(ctx context.Context, tenantID string, a Assignment) error
	// Unassign removes an assignment (ErrNotFound when there is none) and appends
	// an OpAssignment change as Assign does.
	Unassign(ctx context.Context, tenantID, appID, principalType, principalID string) error
	// Assignments lists an application's assignments.
	Assignments(ctx context.Context, tenantID, appID string) ([]Assignment, error)
	// AssignmentsPage lists at most limit of an application's
	// assignments, in the order of Assignments (groups first, each type in
	// id order), after the one of after's PrincipalType and PrincipalID
	// (from the start when they are ""): a keyset page, which costs what
	// the first does however deep it is.
	AssignmentsPage(ctx context.Context, tenantID, appID string, after Assignment, limit int) ([]Assignment, error)
	// AssignedTo reports whether a user is in an application's assignment
	// scope: assigned directly, or a direct member of an assigned group.
	AssignedTo(ctx context.Context, tenantID, appID, userID string) (bool, error)

	// Link reads the link of a source object, or returns ErrNotFound.
	Link(ctx context.Context, appID, sourceType, sourceID string) (*Link, error)
	// LinkByTarget reads the link of a target object, or returns ErrNotFound.
	LinkByTarget(ctx context.Context, appID, sourceType, targetID string) (*Link, error)
	// PutLink creates or replaces the link of l's source object, setting
	// Created (on creation) and Updated, and appends logs as AppendLogs
	// does, in the same transaction: a write to a target and its record
	// are stored together or not at all, whatever crashes between them.
	PutLink(ctx context.Context, l *Link, logs ...*ProvisioningLog) error
	// DeleteLink removes a link, and appends logs as PutLink does;
	// removing a link that does not exist is not an error.
	DeleteLink(ctx context.Context, appID, sourceType, sourceID string, logs ...*ProvisioningLog) error
	// DeleteLinks removes every link of an application, for the engine's
	// "clear the current state and restart", and returns how many.
	DeleteLinks(ctx context.Context, appID string) (int, error)
	// Links lists an application's links of one source type in SourceID
	// order, after the SourceID after ("" from the start), at most limit.
	Links(ctx context.Context, appID, sourceType, after string, limit int) ([]*Link, error)
	// CountLinks counts the tenant's application's links of one source
	// type, and those whose source object is gone from the tenant's
	// directory; an application the tenant does not have has none. It is
	// one statement, an index lookup per link.
	CountLinks(ctx context.Context, tenantID, appID, sourceType string) (LinkCounts, error)

	// PutEscrow creates or replaces the escrow of e's object. A zero
	// LastFailed is the write's time; a zero FirstFailed keeps the replaced
	// escrow's, or is LastFailed for a new one: the engine need not read
	// the escrow to continue a run of failures. NextTry is kept only for a
	// Retryable escrow, which a zero NextTry makes due at once. It sets
	// e's times to what is stored. The application must exist
	// (ErrNotFound otherwise).
	PutEscrow(ctx context.Context, e *Escrow) error
	// DeleteEscrow removes an escrow, as when its object was processed;
	// removing one that does not exist is not an error.
	DeleteEscrow(ctx context.Context, appID, sourceType, sourceID string) error
	// Escrows lists the escrows of an application that q selects, in
	// (SourceType, SourceID) order.
	Escrows(ctx context.Context, appID string, q EscrowQuery) ([]*Escrow, error)
	// CountEscrows counts an application's escrows, and the retryable ones
	// among them.
	CountEscrows(ctx context.Context, appID string) (total, retryable int, err error)
	// DeleteEscrows removes every escrow of an application, and returns
	// how many.
	DeleteEscrows(ctx context.Context, appID string) (int, error)

	// JobState reads an application's job state; one that was never
	// written is the zero JobState with AppID set.
	JobState(ctx context.Context, appID string) (*JobState, error)
	// PutJobState writes an application's job state. With a fence (at
	// most one), it writes only while fence.Owner holds the unexpired
	// lease of fence.Generation on the database's clock, checked in the
	// same transaction as the write; otherwise it writes nothing and
	// returns an error wrapping ErrLeaseLost (so too for an application
	// that does not exist: it has no lease). The fence is a lease of
	// s.AppID as ClaimJob returned it; its Expires does not count: the
	// lease as the database has it decides. Without a fence it writes
	// whoever holds the lease.
	PutJobState(ctx context.Context, s *JobState, fence ...Lease) error
	// ClaimJob takes or renews the lease on an application's job for
	// owner until now + ttl on the database's clock, in one atomic step:
	// a lease that nobody holds unexpired is taken, the holder's own is
	// renewed, and one held by another owner that has not expired is not
	// taken. It returns the lease as it stands after the call, and whether
	// owner holds it. Several processes on one database run each job in
	// one process at a time: of concurrent claimers of a free lease,
	// exactly one wins. Claiming the job of an application that does not
	// exist is ErrNotFound.
	ClaimJob(ctx context.Context, appID, owner string, ttl time.Duration) (Lease, bool, error)
	// ReleaseJob gives up owner's lease, if owner holds it (or held it
	// last, expired): the lease is left with no Owner, expired, and keeps
	// its Generation, so that the next claim increments it.
	ReleaseJob(ctx context.Context, appID, owner string) error
	// JobLease reads the lease on an application's job. A job never
	// claimed, or an application that does not exist, has the zero Lease
	// with AppID set; an expired lease reads with its Owner and Expires
	// (see Lease.Held).
	JobLease(ctx context.Context, appID string) (Lease, error)

	// AppendLogs stores provisioning-log records, setting ID when empty.
	AppendLogs(ctx context.Context, logs []*ProvisioningLog) error
	// Logs returns the records q selects, newest first.
	Logs(ctx context.Context, q LogQuery) ([]*ProvisioningLog, error)
	// PruneLogs deletes a tenant's records older than before and returns
	// how many it deleted.
	PruneLogs(ctx context.Context, before time.Time) (int, error)

	// AppendAudit stores an audit entry, setting ID (when empty) and At
	// (when zero). An entry whose ID is already stored is skipped.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit returns the entries q selects, newest first: by At, and
	// entries of one instant in the reverse of the order they were
	// appended. Deleting an application keeps its entries.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
}
