package store

import (
	"errors"
	"fmt"
)

// The kinds of the caller's mistakes that a Store reports. A backend
// returns them as an *Error, whose Detail says what and which; callers
// test them with errors.Is. Any error that is none of these is the
// storage's own failure.
var (
	// ErrNotFound: the tenant, token, resource, application, assignment or
	// link asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNameTaken: a name that must be unique is in use (a User's
	// userName, a Group's displayName, an application's name).
	ErrNameTaken = errors.New("name taken")
	// ErrIDTaken: a record with the id (or the token hash) being created
	// exists already.
	ErrIDTaken = errors.New("id taken")
	// ErrVersionMismatch: a write made on the condition of a version found
	// the record at another one.
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrInvalid: a value the store cannot keep, or a reference to
	// something that does not exist (a member, a principal).
	ErrInvalid = errors.New("invalid value")
	// ErrUnsupportedFilter: a query's filter is on something the store does
	// not keep, so it cannot be answered.
	ErrUnsupportedFilter = errors.New("unsupported filter")
	// ErrChangesPruned: a read of the change feed after a position whose
	// next entries the feed's retention has deleted (a *PrunedError).
	ErrChangesPruned = errors.New("changes pruned")
	// ErrInUse: a record cannot be removed while others depend on it (an
	// extension schema that resources hold values of).
	ErrInUse = errors.New("in use")
)

// Error is a caller's mistake reported by a Store: Kind is one of the
// sentinels above, and Detail says what went wrong, written for the person
// who made the request.
type Error struct {
	Kind   error
	Detail string
}

// Errorf returns an *Error of kind with a formatted detail.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// NotFound returns an ErrNotFound *Error with a formatted detail.
func NotFound(format string, args ...any) *Error {
	return Errorf(ErrNotFound, format, args...)
}

// Invalid returns an ErrInvalid *Error with a formatted detail.
func Invalid(format string, args ...any) *Error {
	return Errorf(ErrInvalid, format, args...)
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns the kind, so that errors.Is(err, ErrNotFound) holds.
func (e *Error) Unwrap() error { return e.Kind }

// PrunedError is the ErrChangesPruned that Changes returns: the entries of
// a tenant's feed after After, up to Horizon, were deleted by
// Store.PruneChanges. The feed kept goes on after Horizon, so a reader
// that accepts the loss continues from there (or from 0, the oldest entry
// kept).
type PrunedError struct {
	TenantID string
	After    int64 // the position the read asked to continue after
	Horizon  int64 // the highest position pruned in the tenant
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("the change feed of tenant %s after %d, up to %d, was deleted by retention; continue after %d (or from the start) to read from the oldest entry kept",
		e.TenantID, e.After, e.Horizon, e.Horizon)
}

// Unwrap returns ErrChangesPruned, so that errors.Is(err,
// ErrChangesPruned) holds.
func (e *PrunedError) Unwrap() error { return ErrChangesPruned }
