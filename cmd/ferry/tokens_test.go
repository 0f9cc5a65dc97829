package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// TestTokensCreateScope checks ferry tokens create --scope: the token's
// scope reaches the database, and a bad scope is refused.
func TestTokensCreateScope(t *testing.T) {
	t.Parallel()
	database := filepath.Join(t.TempDir(), "ferry.db")
	tokens := map[string]string{} // --scope → token
	for _, scope := range []string{"admin", "scim", ""} {
		args := []string{"tokens", "create", "--database", database, "--name", "n-" + scope}
		if scope != "" {
			args = append(args, "--scope", scope)
		}
		stdout, stderr, code := runCommand(t, "", args...)
		if code != 0 || !strings.Contains(stderr, "Created ") {
			t.Fatalf("tokens create --scope %q: %d %s", scope, code, stderr)
		}
		tokens[scope] = strings.TrimSpace(stdout)
	}
	if _, stderr, code := runCommand(t, "", "tokens", "create", "--database", database, "--scope", "root"); code != 1 || !strings.Contains(stderr, "--scope must be scim or admin") {
		t.Errorf("--scope root: %d %s", code, stderr)
	}

	st, err := sqlite.Open(context.Background(), database, schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for scope, token := range tokens {
		tok, err := st.TokenByHash(context.Background(), bearer.Hash(token))
		if err != nil {
			t.Fatal(err)
		}
		want := scope
		if want == "" {
			want = store.ScopeSCIM
		}
		if tok.Scope != want {
			t.Errorf("--scope %q: the token's scope is %q", scope, tok.Scope)
		}
	}
	stdout, _, _ := runCommand(t, "", "tokens", "list", "--database", database)
	if !strings.Contains(stdout, "SCOPE") || !strings.Contains(stdout, " admin ") {
		t.Errorf("tokens list does not show the admin token's scope:\n%s", stdout)
	}
}
