package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/directory"
	"github.com/ferryid/ferry/internal/store"
)

// TestUsersAndGroupsCommands runs ferry users and ferry groups against a
// server: each command's output, its --json (the API's answer), and what
// it did to the directory; and the errors of names that are not there or
// taken.
func TestUsersAndGroupsCommands(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	ferry := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCommand(t, "", append(args[:1:1], append([]string{"--server", as.URL, "--token", as.AdminToken}, args[1:]...)...)...)
		if code != wantCode {
			t.Fatalf("ferry %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return squash(stdout), stderr
	}
	out, _ := ferry(0, "users", "create", "--user-name", "ann@example.com", "--given-name", "Ann", "--family-name", "Lee",
		"--email", "ann@example.com", "--title", "CEO", "--department", "Board")
	for _, want := range []string{"User name: ann@example.com", "Name: Ann Lee", "Department: Board", "Active: yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("users create: no %q in\n%s", want, out)
		}
	}
	ferry(0, "users", "create", "--user-name", "bob@example.com", "--title", "Engineer")
	if _, stderr := ferry(1, "users", "create", "--user-name", "ANN@example.com"); !strings.Contains(stderr, `userName "ANN@example.com" is already taken`) {
		t.Errorf("a taken userName: %s", stderr)
	}
	if _, stderr := ferry(1, "users", "create", "--title", "x"); !strings.Contains(stderr, "--user-name is required") {
		t.Errorf("no userName: %s", stderr)
	}

	ferry(0, "groups", "create", "Sales")
	out, _ = ferry(0, "groups", "add-member", "sales", "bob@example.com")
	if !strings.Contains(out, "Members: 1 bob@example.com") {
		t.Errorf("add-member:\n%s", out)
	}
	ferry(0, "groups", "add-member", "Sales", "bob@example.com") // twice is once
	out, _ = ferry(0, "users", "list")
	if !strings.Contains(out, "ann@example.com Ann Lee ann@example.com CEO yes -") || !strings.Contains(out, "bob@example.com - - Engineer yes Sales") {
		t.Errorf("users list:\n%s", out)
	}
	out, _ = ferry(0, "users", "list", "--filter", `title eq "CEO"`, "--json")
	var page directory.UserList
	if err := json.Unmarshal([]byte(out), &page); err != nil || page.Total != 1 || page.Users[0].UserName != "ann@example.com" {
		t.Errorf("users list --filter --json: %s", out)
	}
	if _, stderr := ferry(1, "users", "list", "--filter", `title eq`); !strings.Contains(stderr, "filter") {
		t.Errorf("a bad filter: %s", stderr)
	}
	out, _ = ferry(0, "users", "list", "--limit", "1")
	if !strings.Contains(out, "1 to 1 of 2; --offset 1 shows more.") {
		t.Errorf("a first page:\n%s", out)
	}

	out, _ = ferry(0, "users", "disable", "bob@example.com")
	if out != "bob@example.com is disabled." {
		t.Errorf("disable: %q", out)
	}
	bob := userByName(t, as, "bob@example.com")
	if bob.Doc["active"] != false {
		t.Errorf("bob after disable: %v", bob.Doc)
	}
	ferry(0, "users", "enable", bob.ID) // by id
	if userByName(t, as, "bob@example.com").Doc["active"] != true {
		t.Error("bob is not enabled again")
	}

	out, _ = ferry(0, "groups", "remove-member", "Sales", "bob@example.com", "--json")
	var g directory.Group
	if err := json.Unmarshal([]byte(out), &g); err != nil || len(g.Members) != 0 {
		t.Errorf("remove-member --json: %s", out)
	}
	if _, stderr := ferry(1, "groups", "add-member", "Sales", "nobody@example.com"); !strings.Contains(stderr, `no user is called "nobody@example.com"`) {
		t.Errorf("an unknown member: %s", stderr)
	}
	out, _ = ferry(0, "groups", "list")
	if !strings.Contains(out, "Sales 0") {
		t.Errorf("groups list:\n%s", out)
	}
	ferry(0, "groups", "delete", "Sales")
	ferry(0, "users", "delete", "ann@example.com")
	if _, stderr := ferry(1, "users", "show", "ann@example.com"); !strings.Contains(stderr, `no user is called "ann@example.com"`) {
		t.Errorf("a deleted user: %s", stderr)
	}
	page2, err := as.Store.Query(t.Context(), as.Tenant, store.GroupType, store.Query{})
	if err != nil || page2.Total != 0 {
		t.Errorf("%d groups left, %v", page2.Total, err)
	}
}

// squash turns every run of white space into one space, so that tests
// read tables without their column widths.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestEventsTail reads the events of changes made with ferry users and
// ferry groups: one line each, then JSON lines after a cursor.
func TestEventsTail(t *testing.T) {
	t.Parallel()
	as := newAppsServer(t)
	ferry := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runCommand(t, "", append(args[:1:1], append([]string{"--server", as.URL, "--token", as.AdminToken}, args[1:]...)...)...)
		if code != 0 {
			t.Fatalf("ferry %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return stdout
	}
	ferry("users", "create", "--user-name", "ann@example.com")
	ferry("groups", "create", "Sales")
	ferry("groups", "add-member", "Sales", "ann@example.com")
	ferry("users", "disable", "ann@example.com")
	out := ferry("events", "tail", "--once")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wants := []string{"user.created User", "group.created Group", "group.member_added Group", "user.deactivated User"}
	if len(lines) != len(wants) {
		t.Fatalf("events tail --once:\n%s", out)
	}
	for i, w := range wants {
		if !strings.Contains(squash(lines[i]), w) {
			t.Errorf("line %d %q: want %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "(ann@example.com)") || !strings.Contains(lines[3], "changed: active") {
		t.Errorf("names and changes:\n%s", out)
	}
	// After the second event's id, as JSON lines.
	second := lines[1][strings.LastIndex(lines[1], "[")+1 : len(lines[1])-1]
	out = ferry("events", "tail", "--once", "--json", "--after", second, "--types", "user.*")
	var e struct {
		Type    string   `json:"type"`
		Changed []string `json:"changed"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &e); err != nil || e.Type != "user.deactivated" || len(e.Changed) != 1 {
		t.Errorf("--json --after %s --types user.*: %q, %v", second, out, err)
	}
	if _, stderr, code := runCommand(t, "", "events", "--server", as.URL, "--token", as.AdminToken, "tail", "--once", "--types", "user.renamed"); code != 1 || !strings.Contains(stderr, "no event type") {
		t.Errorf("an unknown type: exit %d, %s", code, stderr)
	}
	// Once retention deleted the events after a cursor, tail says so and
	// how to start again (GET /events answers 410 Gone).
	if _, err := as.Store.PruneChanges(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCommand(t, "", "events", "--server", as.URL, "--token", as.AdminToken, "tail", "--once", "--after", second); code != 1 ||
		!strings.Contains(stderr, "deleted by the server's event retention") || !strings.Contains(stderr, "read without after") {
		t.Errorf("a cursor behind the retention: exit %d, %s", code, stderr)
	}
	if out := ferry("events", "tail", "--once"); strings.TrimSpace(out) != "" {
		t.Errorf("tail from the oldest event kept, all pruned: %q", out)
	}
}
