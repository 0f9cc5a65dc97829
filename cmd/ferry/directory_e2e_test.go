package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDirectoryChangesReachApplications changes A's directory in each way
// an administrator can (a SCIM client, ferry users, ferry import) and
// checks that every change reaches B, an application A provisions into:
// the engine follows one change feed, whoever wrote to it.
func TestDirectoryChangesReachApplications(t *testing.T) {
	skipShort(t)
	r := newEngineRig(t, 0)
	b := r.tenant(t, "directory")
	r.app(t, "hr", b, b.token, 100)
	ferryCLI(t, r.env, "apps", "start", "hr")

	if status, _, _ := r.a.do(t, "POST", "/Users", `{"userName":"scim@example.com","active":true,"title":"From SCIM"}`); status != 201 {
		t.Fatalf("SCIM create: %d", status)
	}
	ferryCLI(t, r.env, "users", "create", "--user-name", "cli@example.com", "--title", "From the CLI")
	file := filepath.Join(r.dir, "people.csv")
	if err := os.WriteFile(file, []byte("userName,title,active\nimported@example.com,From a file,yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ferryCLI(t, r.env, "import", file)
	want := map[string]string{"scim@example.com": "From SCIM", "cli@example.com": "From the CLI", "imported@example.com": "From a file"}
	eventually(t, time.Minute, func() string {
		for userName, title := range want {
			u := findUser(t, b, userName)
			if u == nil || u["title"] != title || u["active"] != true {
				return fmt.Sprintf("%s in B: %v", userName, u)
			}
		}
		return ""
	})

	// Disabling with the CLI and a changed file disable and update in B.
	ferryCLI(t, r.env, "users", "disable", "cli@example.com")
	if err := os.WriteFile(file, []byte("userName,title,active\nimported@example.com,Changed in the file,yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ferryCLI(t, r.env, "import", file)
	eventually(t, time.Minute, func() string {
		if u := findUser(t, b, "cli@example.com"); u == nil || u["active"] != false {
			return fmt.Sprintf("cli@example.com in B: %v", u)
		}
		if u := findUser(t, b, "imported@example.com"); u == nil || u["title"] != "Changed in the file" {
			return fmt.Sprintf("imported@example.com in B: %v", u)
		}
		return ""
	})
}
