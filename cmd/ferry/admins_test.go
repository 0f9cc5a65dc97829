package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/password"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// storedAdmin reads the tenant's admin with email from the database.
func storedAdmin(t *testing.T, database, tenant, email string) (*store.Admin, error) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, database, schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.TenantByName(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return st.AdminByEmail(ctx, tn.ID, email)
}

// wantPassword checks that the stored hash of the admin with email is
// pw's.
func wantPassword(t *testing.T, database, tenant, email, pw string) {
	t.Helper()
	a, err := storedAdmin(t, database, tenant, email)
	if err != nil {
		t.Fatalf("the admin %s: %v", email, err)
	}
	if ok, err := password.Verify(pw, a.PasswordHash); err != nil || !ok {
		t.Errorf("the stored hash of %s does not verify %q: %t, %v", email, pw, ok, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAdmins runs ferry admins create, list, set-password and remove
// against a SQLite database, and checks what they stored.
func TestAdmins(t *testing.T) {
	t.Parallel()
	database := filepath.Join(t.TempDir(), "ferry.db")
	const annPassword = "correct horse battery staple"
	// The first line alone is the password; its line ending is not.
	file := writeFile(t, "password", annPassword+"\r\nsecond line\n")

	stdout, stderr, code := runCommand(t, "", "admins", "create", "--database", database,
		"--email", "Ann@Example.com", "--role", "admin", "--password-file", file)
	if code != 0 {
		t.Fatalf("admins create: %d %s", code, stderr)
	}
	if !strings.Contains(stdout, "Ann@Example.com") || !strings.Contains(stdout, "admin") || !strings.Contains(stdout, `"default"`) {
		t.Errorf("admins create says %q; want the email, the role and the tenant", stdout)
	}
	if strings.Contains(stdout+stderr, annPassword) || strings.Contains(stdout+stderr, "argon2") {
		t.Errorf("admins create shows the password or its hash:\n%s%s", stdout, stderr)
	}
	wantPassword(t, database, "default", "ann@example.com", annPassword)
	if a, _ := storedAdmin(t, database, "default", "ann@example.com"); a.Role != store.RoleAdmin || a.Email != "Ann@Example.com" {
		t.Errorf("stored admin %+v; want role admin and the email as given", a)
	}

	// The same email in another case is taken.
	if _, stderr, code := runCommand(t, "", "admins", "create", "--database", database,
		"--email", "ann@example.COM", "--role", "viewer", "--password-file", file); code != 1 || !strings.Contains(stderr, "exists already") {
		t.Errorf("admins create of a taken email: %d %s", code, stderr)
	}
	// A short password is refused, and nothing is created.
	short := writeFile(t, "short", "elevenchars\n")
	if _, stderr, code := runCommand(t, "", "admins", "create", "--database", database,
		"--email", "bob@example.com", "--role", "viewer", "--password-file", short); code != 1 || !strings.Contains(stderr, "at least 12") {
		t.Errorf("admins create with a short password: %d %s", code, stderr)
	}
	if _, err := storedAdmin(t, database, "default", "bob@example.com"); !strings.Contains(errString(err), "no console admin") {
		t.Errorf("an admin was created with a short password: %v", err)
	}
	for _, bad := range []struct{ role, email, want string }{
		{"owner", "bob@example.com", "--role must be admin"},
		{"viewer", "bob", `--email "bob" is not an email address`},
	} {
		if _, stderr, code := runCommand(t, "", "admins", "create", "--database", database, "--password-file", file,
			"--role", bad.role, "--email", bad.email); code != 1 || !strings.Contains(stderr, bad.want) {
			t.Errorf("admins create --role %s --email %s: %d %s; want %q", bad.role, bad.email, code, stderr, bad.want)
		}
	}

	// Standard input that is not a terminal: its first line is the
	// password.
	const bobPassword = "piped in, not prompted"
	if _, stderr, code := runCommand(t, bobPassword+"\n", "admins", "create", "--database", database,
		"--email", "bob@example.com", "--role", "viewer"); code != 0 {
		t.Fatalf("admins create with the password on standard input: %d %s", code, stderr)
	}
	wantPassword(t, database, "default", "bob@example.com", bobPassword)
	if _, stderr, code := runCommand(t, "", "admins", "create", "--database", database,
		"--email", "carl@example.com", "--role", "viewer"); code != 1 || !strings.Contains(stderr, "standard input holds no password") {
		t.Errorf("admins create with nothing on standard input: %d %s", code, stderr)
	}

	stdout, stderr, code = runCommand(t, "", "admins", "list", "--database", database)
	if code != 0 {
		t.Fatalf("admins list: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") || !strings.HasPrefix(lines[1], "Ann@Example.com") ||
		!strings.Contains(lines[1], "admin") || !strings.HasPrefix(lines[2], "bob@example.com") || !strings.Contains(lines[2], "viewer") {
		t.Errorf("admins list:\n%s\nwant a header, then ann (admin) and bob (viewer)", stdout)
	}
	if strings.Contains(stdout, "argon2") {
		t.Errorf("admins list shows password hashes:\n%s", stdout)
	}
	// A tenant that does not exist has none, and is not created by a
	// listing.
	if _, stderr, code := runCommand(t, "", "admins", "list", "--database", database, "--tenant", "other"); code != 1 || !strings.Contains(stderr, `tenant "other"`) {
		t.Errorf("admins list of a tenant that does not exist: %d %s", code, stderr)
	}
	// The same email in another tenant is another admin.
	if _, stderr, code := runCommand(t, "", "admins", "create", "--database", database, "--tenant", "other",
		"--email", "ann@example.com", "--role", "viewer", "--password-file", file); code != 0 {
		t.Fatalf("admins create in another tenant: %d %s", code, stderr)
	}
	if stdout, _, _ := runCommand(t, "", "admins", "list", "--database", database, "--tenant", "other"); !strings.Contains(stdout, "ann@example.com") ||
		!strings.Contains(stdout, "viewer") || strings.Contains(stdout, "bob") {
		t.Errorf("admins list --tenant other:\n%s\nwant ann alone, a viewer", stdout)
	}
	wantPassword(t, database, "default", "ann@example.com", annPassword)

	const newPassword = "a brand new passphrase"
	newFile := writeFile(t, "new", newPassword)
	if stdout, stderr, code := runCommand(t, "", "admins", "set-password", "--database", database,
		"--email", "ANN@example.com", "--password-file", newFile); code != 0 || !strings.Contains(stdout, "ANN@example.com") {
		t.Fatalf("admins set-password: %d %s %s", code, stdout, stderr)
	}
	wantPassword(t, database, "default", "ann@example.com", newPassword)
	if _, stderr, code := runCommand(t, "", "admins", "set-password", "--database", database,
		"--email", "ann@example.com", "--password-file", short); code != 1 || !strings.Contains(stderr, "at least 12") {
		t.Errorf("admins set-password with a short password: %d %s", code, stderr)
	}
	wantPassword(t, database, "default", "ann@example.com", newPassword)
	if _, stderr, code := runCommand(t, "", "admins", "set-password", "--database", database,
		"--email", "nobody@example.com", "--password-file", newFile); code != 1 || !strings.Contains(stderr, "no console admin") {
		t.Errorf("admins set-password of an unknown admin: %d %s", code, stderr)
	}
	// Piped in, as for create.
	if _, stderr, code := runCommand(t, bobPassword+" again\n", "admins", "set-password", "--database", database,
		"--email", "bob@example.com"); code != 0 {
		t.Fatalf("admins set-password with the password on standard input: %d %s", code, stderr)
	}
	wantPassword(t, database, "default", "bob@example.com", bobPassword+" again")

	if stdout, stderr, code := runCommand(t, "", "admins", "remove", "--database", database, "--email", "BOB@example.com"); code != 0 ||
		!strings.Contains(stdout, "Removed") {
		t.Fatalf("admins remove: %d %s %s", code, stdout, stderr)
	}
	if _, err := storedAdmin(t, database, "default", "bob@example.com"); !strings.Contains(errString(err), "no console admin") {
		t.Errorf("the removed admin: %v", err)
	}
	if _, stderr, code := runCommand(t, "", "admins", "remove", "--database", database, "--email", "bob@example.com"); code != 1 || !strings.Contains(stderr, "no console admin") {
		t.Errorf("admins remove of a removed admin: %d %s", code, stderr)
	}
	stdout, _, _ = runCommand(t, "", "admins", "list", "--database", database)
	if strings.Contains(stdout, "bob@example.com") || !strings.Contains(stdout, "Ann@Example.com") {
		t.Errorf("admins list after remove:\n%s", stdout)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
