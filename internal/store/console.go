package store

import (
	"context"
	"time"
)

// The admin console's people and sign-ins (internal/console).

// Console roles: an admin changes things, a viewer reads everything and
// changes nothing.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// Admin is a person who signs in to one tenant's console with an email and
// a password.
type Admin struct {
	ID       string
	TenantID string
	// Email is unique in the tenant, compared ignoring case; it is kept as
	// given.
	Email string
	// Role is RoleAdmin or RoleViewer.
	Role string
	// PasswordHash is the password's Argon2id hash in its PHC string form
	// (internal/password); never the password.
	PasswordHash string
	Created      time.Time
}

// Session is one sign-in to the console. The store keeps the SHA-256 hash
// of the session's secret (the cookie's value), never the secret: a read
// of the database signs nobody in.
type Session struct {
	TenantID string
	// AdminID is the admin who signed in; "" for a sign-in with an admin
	// API token, whose id is TokenID.
	AdminID string
	TokenID string
	// Actor names who acts through the session in the audit log: the
	// admin's email, or the token's name.
	Actor string
	// Role is RoleAdmin or RoleViewer, as it was at sign-in; removing
	// the admin ends its sessions.
	Role string
	// CSRF is the session's anti-forgery token, which every form carries.
	CSRF string
	// Created is the sign-in; LastSeen the last request, as TouchSession
	// moved it (for the idle expiry); Expires the absolute end.
	Created, LastSeen, Expires time.Time
}

// Console stores the console's admins and sessions, shared by every
// replica of a database so that a sign-in works through any of them.
type Console interface {
	// CreateAdmin records a; it sets ID and Created. An email taken in
	// the tenant (ignoring case) is ErrNameTaken; a role other than
	// RoleAdmin and RoleViewer, an empty email or an empty password hash
	// is ErrInvalid; a tenant that does not exist is ErrNotFound.
	CreateAdmin(ctx context.Context, a *Admin) error
	// AdminByEmail returns the tenant's admin with email (ignoring case),
	// or ErrNotFound.
	AdminByEmail(ctx context.Context, tenantID, email string) (*Admin, error)
	// Admins lists a tenant's admins by email.
	Admins(ctx context.Context, tenantID string) ([]Admin, error)
	// SetAdminPassword replaces the password hash of the tenant's admin
	// with email, and ends the admin's sessions in the same transaction;
	// ErrNotFound when there is none, ErrInvalid for an empty hash.
	SetAdminPassword(ctx context.Context, tenantID, email, passwordHash string) error
	// RemoveAdmin removes the tenant's admin with email and its sessions,
	// in one transaction, or returns ErrNotFound.
	RemoveAdmin(ctx context.Context, tenantID, email string) error

	// CreateSession records s under the hash of its secret, its times as
	// given (the caller's clock judges expiry). A role other than
	// RoleAdmin and RoleViewer is ErrInvalid, a tenant that does not
	// exist ErrNotFound, a hash recorded already ErrIDTaken.
	CreateSession(ctx context.Context, s Session, hash []byte) error
	// SessionByHash returns the session whose secret hashes to hash, or
	// ErrNotFound; expiry is the caller's to judge.
	SessionByHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession sets the session's LastSeen to at; a session that is
	// gone is no error.
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSession ends a session (sign-out); a session that is gone is
	// no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessionsBefore deletes the sessions whose Expires is before
	// t, or that were last seen before idle, and returns how many.
	DeleteSessionsBefore(ctx context.Context, t, idle time.Time) (int, error)
}
