package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/csvimport"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
)

// TestImportCommand runs ferry import against a server: a file with a bad
// row, the same file again (nothing changes, and it says so), a dry run
// of a change, and a delete-missing that would disable too many.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b strings.Builder
	b.WriteString("Email,First Name,Last Name,Emp ID,Active\n")
	for i := range 10 {
		fmt.Fprintf(&b, "user%d@example.com,User,Number %d,E%d,yes\n", i, i, i)
	}
	b.WriteString("broken@example.com,Bro,Ken,E99,sometimes\n")
	people := write("people.csv", b.String())
	ferry := func(args ...string) (string, string, int) {
		return runCommand(t, "", append([]string{"import", "--server", as.URL, "--token", as.AdminToken}, args...)...)
	}

	// Email is no key: userName must be named by a column or --map.
	if _, stderr, code := ferry(people); code != 1 || !strings.Contains(stderr, "no column holds the key userName") {
		t.Errorf("without a userName column: exit %d, %s", code, stderr)
	}
	stdout, stderr, code := ferry(people, "--map", "Email=userName", "--map", "Emp ID=externalId")
	if code != 1 || !strings.Contains(stdout, "Created:    10") || !strings.Contains(stdout, `line 12, column "Active": "sometimes" is not a yes or no`) ||
		!strings.Contains(stderr, "1 of 11 rows failed") {
		t.Errorf("first import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	fixed := write("fixed.csv", strings.Replace(b.String(), "sometimes", "no", 1))
	stdout, _, code = ferry(fixed, "--map", "Email=userName", "--map", "Emp ID=externalId")
	if code != 0 || !strings.Contains(stdout, "Created:    1") || !strings.Contains(stdout, "Unchanged:  10") {
		t.Errorf("the fixed file: exit %d\n%s", code, stdout)
	}
	stdout, _, code = ferry(fixed, "--map", "Email=userName", "--map", "Emp ID=externalId")
	if code != 0 || !strings.Contains(stdout, "11 rows read; nothing to change") {
		t.Errorf("the same file again: exit %d\n%s", code, stdout)
	}

	// A dry run by externalId of a renamed user writes nothing.
	renamed := write("renamed.csv", "externalId,userName\nE1,user1.renamed@example.com\n")
	stdout, _, code = ferry(renamed, "--key", "externalId", "--dry-run", "--json")
	var res csvimport.Result
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || !res.DryRun || res.Counts.Updated != 1 {
		t.Errorf("dry run: exit %d\n%s", code, stdout)
	}
	page, err := as.Store.Query(t.Context(), as.Tenant, store.UserType, store.Query{})
	if err != nil || page.Total != 11 {
		t.Fatalf("%d users, %v", page.Total, err)
	}

	// Delete-missing with a file of one of eleven users is refused.
	stdout, stderr, code = ferry(renamed, "--key", "externalId", "--delete-missing")
	if code != 1 || !strings.Contains(stdout, "Refused, nothing was written: delete-missing would disable 9 of the 11 users keyed by externalId") ||
		!strings.Contains(stderr, "--delete-missing was refused") {
		t.Errorf("delete-missing: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if u := userByName(t, as, "user1@example.com"); u == nil {
		t.Error("the refused import renamed user1")
	}
	for _, bad := range [][]string{{"--key", "email"}, {"--map", "Email"}} {
		if _, stderr, code := ferry(append([]string{people}, bad...)...); code != 1 || !strings.Contains(stderr, bad[0]) {
			t.Errorf("%q: exit %d, %s", bad, code, stderr)
		}
	}
}

// userByName reads a user of the default tenant by userName, nil when
// there is none.
func userByName(t *testing.T, as *appsServer, userName string) *store.Resource {
	t.Helper()
	e, err := filter.Parse(fmt.Sprintf("userName eq %q", userName))
	if err != nil {
		t.Fatal(err)
	}
	page, err := as.Store.Query(t.Context(), as.Tenant, store.UserType, store.Query{Filter: e, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Resources) == 0 {
		return nil
	}
	return page.Resources[0]
}
