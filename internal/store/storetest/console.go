package storetest

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// consoleHash is the hash a session of secret is stored under, as the
// console computes it.
func consoleHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func createAdmin(t *testing.T, s store.Store, tenantID, email, role string) *store.Admin {
	t.Helper()
	a := &store.Admin{TenantID: tenantID, Email: email, Role: role, PasswordHash: "$argon2id$hash-of-" + email}
	if err := s.CreateAdmin(context.Background(), a); err != nil {
		t.Fatalf("CreateAdmin(%q): %v", email, err)
	}
	return a
}

// consoleTime is the base of the sessions' times: explicit, so that the
// expiry tests need no clock and no waiting.
var consoleTime = time.Date(2030, 5, 6, 7, 8, 9, 123e6, time.UTC)

func createSession(t *testing.T, s store.Store, secret string, sess store.Session) {
	t.Helper()
	if sess.Created.IsZero() {
		sess.Created, sess.LastSeen, sess.Expires = consoleTime, consoleTime, consoleTime.Add(12*time.Hour)
	}
	if err := s.CreateSession(context.Background(), sess, consoleHash(secret)); err != nil {
		t.Fatalf("CreateSession(%s): %v", secret, err)
	}
}

// sessionExists reports whether the session of secret is stored.
func sessionExists(t *testing.T, s store.Store, secret string) bool {
	t.Helper()
	_, err := s.SessionByHash(context.Background(), consoleHash(secret))
	if err == nil {
		return true
	}
	wantKind(t, "SessionByHash("+secret+")", err, store.ErrNotFound)
	return false
}

// testConsoleAdmins: admins are created with an id and a time, found by
// email ignoring case, unique by email in a tenant, listed by email, and
// never seen from another tenant.
func testConsoleAdmins(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	before := time.Now().Add(-time.Minute)
	ann := createAdmin(t, s, a, "Ann@Example.com", store.RoleAdmin)
	if ann.ID == "" || ann.Created.Before(before) || ann.Email != "Ann@Example.com" || ann.TenantID != a {
		t.Fatalf("CreateAdmin = %+v; want an id, the time of creation and the email as given", ann)
	}
	got, err := s.AdminByEmail(ctx, a, "ann@EXAMPLE.com")
	if err != nil {
		t.Fatalf("AdminByEmail in another case: %v", err)
	}
	if *got != *ann {
		t.Errorf("AdminByEmail = %+v; want %+v", got, ann)
	}
	_, err = s.AdminByEmail(ctx, a, "nobody@example.com")
	wantKind(t, "AdminByEmail(unknown)", err, store.ErrNotFound)

	dup := &store.Admin{TenantID: a, Email: "ANN@example.COM", Role: store.RoleViewer, PasswordHash: "h"}
	wantKind(t, "CreateAdmin of a taken email in another case", s.CreateAdmin(ctx, dup), store.ErrNameTaken)
	for _, bad := range []store.Admin{
		{TenantID: a, Email: "x@example.com", Role: "owner", PasswordHash: "h"},
		{TenantID: a, Email: "x@example.com", Role: "", PasswordHash: "h"},
		{TenantID: a, Email: "", Role: store.RoleAdmin, PasswordHash: "h"},
		{TenantID: a, Email: "x@example.com", Role: store.RoleAdmin, PasswordHash: ""},
	} {
		wantKind(t, "CreateAdmin("+bad.Email+", role "+bad.Role+")", s.CreateAdmin(ctx, &bad), store.ErrInvalid)
	}
	wantKind(t, "CreateAdmin in a tenant that does not exist",
		s.CreateAdmin(ctx, &store.Admin{TenantID: "nope", Email: "x@example.com", Role: store.RoleAdmin, PasswordHash: "h"}), store.ErrNotFound)

	createAdmin(t, s, a, "carl@example.com", store.RoleViewer)
	createAdmin(t, s, a, "bob@example.com", store.RoleAdmin)
	list, err := s.Admins(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, ad := range list {
		emails = append(emails, ad.Email)
	}
	if want := []string{"Ann@Example.com", "bob@example.com", "carl@example.com"}; !slices.Equal(emails, want) {
		t.Errorf("Admins(a) = %q; want %q, by email ignoring case", emails, want)
	}
	if list[2].Role != store.RoleViewer || list[2].PasswordHash != "$argon2id$hash-of-carl@example.com" {
		t.Errorf("Admins(a)[2] = %+v", list[2])
	}

	// The same email in another tenant is another admin.
	other := createAdmin(t, s, b, "ann@example.com", store.RoleViewer)
	if other.ID == ann.ID {
		t.Fatal("two admins with one id")
	}
	if got, err := s.AdminByEmail(ctx, b, "Ann@Example.com"); err != nil || got.ID != other.ID || got.Role != store.RoleViewer {
		t.Errorf("AdminByEmail(b) = %+v, %v; want b's admin", got, err)
	}
	if list, err := s.Admins(ctx, b); err != nil || len(list) != 1 || list[0].ID != other.ID {
		t.Errorf("Admins(b) = %+v, %v; want b's admin alone", list, err)
	}
	_, err = s.AdminByEmail(ctx, b, "bob@example.com")
	wantKind(t, "AdminByEmail of another tenant's admin", err, store.ErrNotFound)
	if list, err := s.Admins(ctx, tenant(t, s, "c")); err != nil || len(list) != 0 {
		t.Errorf("Admins(c) = %+v, %v; want none", list, err)
	}
}

// testConsoleSessions: a session is read back as it was created, touched,
// and deleted; touching or deleting one that is gone is no error.
func testConsoleSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	ann := createAdmin(t, s, a, "ann@example.com", store.RoleAdmin)
	want := store.Session{TenantID: a, AdminID: ann.ID, Actor: ann.Email, Role: store.RoleAdmin, CSRF: "csrf-1",
		Created: consoleTime, LastSeen: consoleTime, Expires: consoleTime.Add(12 * time.Hour)}
	createSession(t, s, "secret-1", want)
	byToken := store.Session{TenantID: a, TokenID: "token-1", Actor: "terraform", Role: store.RoleViewer, CSRF: "csrf-2",
		Created: consoleTime, LastSeen: consoleTime, Expires: consoleTime.Add(time.Hour)}
	createSession(t, s, "secret-2", byToken)

	for secret, w := range map[string]store.Session{"secret-1": want, "secret-2": byToken} {
		got, err := s.SessionByHash(ctx, consoleHash(secret))
		if err != nil || *got != w {
			t.Errorf("SessionByHash(%s) = %+v, %v; want %+v", secret, got, err, w)
		}
	}
	_, err := s.SessionByHash(ctx, consoleHash("unknown"))
	wantKind(t, "SessionByHash(unknown)", err, store.ErrNotFound)
	err = s.CreateSession(ctx, byToken, consoleHash("secret-1"))
	wantKind(t, "CreateSession under a hash recorded", err, store.ErrIDTaken)
	bad := want
	bad.Role = "owner"
	wantKind(t, "CreateSession with an unknown role", s.CreateSession(ctx, bad, consoleHash("secret-3")), store.ErrInvalid)
	bad = want
	bad.TenantID = "nope"
	wantKind(t, "CreateSession in a tenant that does not exist", s.CreateSession(ctx, bad, consoleHash("secret-3")), store.ErrNotFound)

	seen := consoleTime.Add(90 * time.Minute)
	if err := s.TouchSession(ctx, consoleHash("secret-1"), seen); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionByHash(ctx, consoleHash("secret-1"))
	if err != nil || !got.LastSeen.Equal(seen) || !got.Created.Equal(consoleTime) || !got.Expires.Equal(want.Expires) {
		t.Errorf("after TouchSession: %+v, %v; want LastSeen %v and the other times as they were", got, err, seen)
	}
	if got, err := s.SessionByHash(ctx, consoleHash("secret-2")); err != nil || !got.LastSeen.Equal(consoleTime) {
		t.Errorf("TouchSession moved another session: %+v, %v", got, err)
	}

	if err := s.DeleteSession(ctx, consoleHash("secret-1")); err != nil {
		t.Fatal(err)
	}
	if sessionExists(t, s, "secret-1") || !sessionExists(t, s, "secret-2") {
		t.Error("DeleteSession did not delete its session alone")
	}
	if err := s.DeleteSession(ctx, consoleHash("secret-1")); err != nil {
		t.Errorf("DeleteSession of a session that is gone: %v", err)
	}
	if err := s.TouchSession(ctx, consoleHash("secret-1"), seen); err != nil {
		t.Errorf("TouchSession of a session that is gone: %v", err)
	}
	if sessionExists(t, s, "secret-1") {
		t.Error("TouchSession brought a session back")
	}
}

// testConsoleAdminSessions: setting an admin's password and removing the
// admin end the admin's sessions, and no one else's.
func testConsoleAdminSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	ann := createAdmin(t, s, a, "ann@example.com", store.RoleAdmin)
	bob := createAdmin(t, s, a, "bob@example.com", store.RoleViewer)
	annB := createAdmin(t, s, b, "ann@example.com", store.RoleAdmin)
	createSession(t, s, "ann-1", store.Session{TenantID: a, AdminID: ann.ID, Actor: ann.Email, Role: ann.Role})
	createSession(t, s, "ann-2", store.Session{TenantID: a, AdminID: ann.ID, Actor: ann.Email, Role: ann.Role})
	createSession(t, s, "bob", store.Session{TenantID: a, AdminID: bob.ID, Actor: bob.Email, Role: bob.Role})
	createSession(t, s, "ann-b", store.Session{TenantID: b, AdminID: annB.ID, Actor: annB.Email, Role: annB.Role})
	createSession(t, s, "token", store.Session{TenantID: a, TokenID: "token-1", Actor: "ci", Role: store.RoleAdmin})

	if err := s.SetAdminPassword(ctx, a, "ANN@example.com", "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AdminByEmail(ctx, a, ann.Email); err != nil || got.PasswordHash != "$argon2id$new" || got.ID != ann.ID {
		t.Errorf("after SetAdminPassword: %+v, %v; want the new hash", got, err)
	}
	if got, err := s.AdminByEmail(ctx, b, ann.Email); err != nil || got.PasswordHash != annB.PasswordHash {
		t.Errorf("SetAdminPassword in a changed b's admin: %+v, %v", got, err)
	}
	for secret, want := range map[string]bool{"ann-1": false, "ann-2": false, "bob": true, "ann-b": true, "token": true} {
		if got := sessionExists(t, s, secret); got != want {
			t.Errorf("after SetAdminPassword, session %s exists: %t; want %t", secret, got, want)
		}
	}
	wantKind(t, "SetAdminPassword(unknown)", s.SetAdminPassword(ctx, a, "nobody@example.com", "h"), store.ErrNotFound)
	wantKind(t, "SetAdminPassword with no hash", s.SetAdminPassword(ctx, a, ann.Email, ""), store.ErrInvalid)

	createSession(t, s, "bob-2", store.Session{TenantID: a, AdminID: bob.ID, Actor: bob.Email, Role: bob.Role})
	if err := s.RemoveAdmin(ctx, a, "Bob@Example.com"); err != nil {
		t.Fatal(err)
	}
	_, err := s.AdminByEmail(ctx, a, bob.Email)
	wantKind(t, "AdminByEmail of a removed admin", err, store.ErrNotFound)
	for secret, want := range map[string]bool{"bob": false, "bob-2": false, "ann-b": true, "token": true} {
		if got := sessionExists(t, s, secret); got != want {
			t.Errorf("after RemoveAdmin, session %s exists: %t; want %t", secret, got, want)
		}
	}
	wantKind(t, "RemoveAdmin of a removed admin", s.RemoveAdmin(ctx, a, bob.Email), store.ErrNotFound)
	wantKind(t, "RemoveAdmin of another tenant's admin", s.RemoveAdmin(ctx, b, bob.Email), store.ErrNotFound)
	if list, err := s.Admins(ctx, a); err != nil || len(list) != 1 || list[0].ID != ann.ID {
		t.Errorf("Admins(a) after RemoveAdmin = %+v, %v; want ann alone", list, err)
	}
	// The email is free again.
	createAdmin(t, s, a, "bob@example.com", store.RoleAdmin)
}

// testConsoleExpiry: DeleteSessionsBefore deletes the sessions past their
// absolute end and those idle for too long, and counts them.
func testConsoleExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	at := func(d time.Duration) time.Time { return consoleTime.Add(d) }
	session := func(secret string, lastSeen, expires time.Duration) {
		t.Helper()
		createSession(t, s, secret, store.Session{TenantID: a, TokenID: secret, Actor: secret, Role: store.RoleViewer,
			Created: consoleTime, LastSeen: at(lastSeen), Expires: at(expires)})
	}
	session("fresh", 5*time.Hour, 12*time.Hour)
	session("expired", 5*time.Hour, 3*time.Hour)
	session("idle", time.Hour, 12*time.Hour)
	session("edge", 2*time.Hour, 4*time.Hour) // exactly at both limits: kept
	// Touched since it was created: the touch, not the creation, counts.
	session("touched", 0, 12*time.Hour)
	if err := s.TouchSession(ctx, consoleHash("touched"), at(3*time.Hour)); err != nil {
		t.Fatal(err)
	}

	n, err := s.DeleteSessionsBefore(ctx, at(4*time.Hour), at(2*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteSessionsBefore = %d, %v; want 2 (expired, idle)", n, err)
	}
	for secret, want := range map[string]bool{"fresh": true, "expired": false, "idle": false, "edge": true, "touched": true} {
		if got := sessionExists(t, s, secret); got != want {
			t.Errorf("after DeleteSessionsBefore, session %s exists: %t; want %t", secret, got, want)
		}
	}
	if n, err := s.DeleteSessionsBefore(ctx, at(4*time.Hour), at(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteSessionsBefore again = %d, %v; want 0", n, err)
	}
	// By the absolute time alone: the idle limit far in the past.
	if n, err := s.DeleteSessionsBefore(ctx, at(5*time.Hour), at(-time.Hour)); err != nil || n != 1 || sessionExists(t, s, "edge") {
		t.Errorf("DeleteSessionsBefore(expiry) = %d, %v; want the edge session, which expires at 4h", n, err)
	}
	// By the idle time alone: the absolute limit far in the past.
	if n, err := s.DeleteSessionsBefore(ctx, at(-time.Hour), at(4*time.Hour)); err != nil || n != 1 || sessionExists(t, s, "touched") {
		t.Errorf("DeleteSessionsBefore(idle) = %d, %v; want the touched session, last seen at 3h", n, err)
	}
	if !sessionExists(t, s, "fresh") {
		t.Error("the fresh session is gone")
	}
}
