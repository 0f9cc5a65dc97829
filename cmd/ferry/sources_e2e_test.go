package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/slapdtest"
	"github.com/ferryid/ferry/internal/sourcesync"
)

// TestSourcesEndToEnd fills a real ferry serve (A) from a real slapd with
// ferry sources, and A's engine provisions what arrives into another
// ferry serve (B): the scheduler's first pass, a change, a disable and a
// deletion in LDAP reaching B after the next pass, a size limit and a
// killed slapd changing nothing; the bind password in no output or log.
func TestSourcesEndToEnd(t *testing.T) {
	skipShort(t)
	const suffix = slapdtest.DefaultSuffix
	ldapSrv, err := slapdtest.Start(t.Context(), slapdtest.Options{LDIF: slapdtest.People(suffix, 20, 2), Overlays: []string{"ppolicy"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ldapSrv.Stop() })
	ldapURL, err := ldapSrv.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	tokenB := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB))
	adminToken := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA, "--scope", "admin"))
	addrB := startFerry(t, dbB, "--no-sources").addr
	// A reads slapd and provisions into B, both on loopback.
	procA := startFerry(t, dbA, "--secret-key-file", filepath.Join(dir, "a.key"), "--engine-poll-interval", "100ms",
		"--sources-poll-interval", "100ms", "--egress-allow", "loopback")
	password := ldapSrv.RootPassword()
	passwordFile := filepath.Join(dir, "bind-password")
	if err := os.WriteFile(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"FERRY_SERVER=" + procA.url(), "FERRY_TOKEN=" + adminToken}
	var outputs strings.Builder
	ferry := func(wantCode int, args ...string) string {
		t.Helper()
		cmd := exec.Command(ferryBinary, args...)
		cmd.Env = append(os.Environ(), env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, _ := cmd.Output()
		outputs.WriteString(string(out) + stderr.String())
		if code := cmd.ProcessState.ExitCode(); code != wantCode {
			t.Fatalf("ferry %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, stderr.String())
		}
		return string(out) + stderr.String()
	}
	status := func() sourcesync.Status {
		t.Helper()
		var st sourcesync.Status
		if out := ferry(0, "sources", "status", "corp", "--json"); json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("status --json: %s", out)
		}
		return st
	}

	out := ferry(0, "sources", "create", "--name", "corp", "--url", ldapURL, "--bind-dn", ldapSrv.RootDN(),
		"--bind-password-file", passwordFile, "--base-dn", suffix, "--interval", "1h")
	if !strings.Contains(out, "Created source corp") {
		t.Errorf("create: %s", out)
	}
	// The scheduler runs the first, full pass.
	eventually(t, 20*time.Second, func() string {
		if st := status(); st.Last == nil || st.Last.Trigger != "schedule" || st.Last.Outcome != sourcesync.OutcomeSuccess {
			return fmt.Sprintf("no scheduled pass yet: %+v", st.Last)
		}
		return ""
	})

	ferry(0, "apps", "create", "--name", "B", "--template", "scim", "--scope", "all", "--tenant-url", "http://"+addrB+"/scim/v2", "--secret-token", tokenB)
	ferry(0, "apps", "start", "B")
	b := scimClient{"http://" + addrB, tokenB, &http.Client{}}
	eventually(t, 30*time.Second, func() string {
		for i := range 20 {
			if findUser(t, b, fmt.Sprintf("user%02d", i)) == nil {
				return fmt.Sprintf("user%02d is not in B", i)
			}
		}
		return ""
	})

	conn, err := ldapSrv.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := ldap.NewModifyRequest(slapdtest.PeopleDN(suffix, 1), nil)
	m.Replace("title", []string{"Manager"})
	m2 := ldap.NewModifyRequest(slapdtest.PeopleDN(suffix, 2), nil)
	m2.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	for _, req := range []*ldap.ModifyRequest{m, m2} {
		if err := conn.Modify(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Del(ldap.NewDelRequest(slapdtest.PeopleDN(suffix, 3), nil)); err != nil {
		t.Fatal(err)
	}
	out = ferry(0, "sources", "sync", "corp", "--full")
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "disabled 2") {
		t.Errorf("sync after the changes:\n%s", out)
	}
	eventually(t, 30*time.Second, func() string {
		if u := findUser(t, b, "user01"); u == nil || u["title"] != "Manager" {
			return fmt.Sprintf("user01 in B: %v", u)
		}
		for _, name := range []string{"user02", "user03"} {
			if u := findUser(t, b, name); u == nil || u["active"] != false {
				return fmt.Sprintf("%s in B: %v; want it disabled", name, u)
			}
		}
		return ""
	})

	// A size limit below the directory's size: the pass fails, changes
	// nothing and says what to do.
	ferry(0, "sources", "update", "corp", "--size-limit", "5")
	out = ferry(1, "sources", "sync", "corp", "--full")
	for _, want := range []string{"FAILED", "size limit", "what to do:", "nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("sync past the size limit: no %q in\n%s", want, out)
		}
	}
	ferry(0, "sources", "update", "corp", "--size-limit", "0")

	ldapSrv.Kill()
	out = ferry(1, "sources", "sync", "corp", "--full")
	if !strings.Contains(out, "FAILED") || !strings.Contains(out, "connection") {
		t.Errorf("sync with slapd killed:\n%s", out)
	}
	if st := status(); st.Last.Outcome != sourcesync.OutcomeFailed || st.Last.Counts.Disabled != 0 {
		t.Errorf("status after the failed pass: %+v", st.Last)
	}
	for i := range 20 {
		if u := findUser(t, b, fmt.Sprintf("user%02d", i)); u["active"] != (i != 2 && i != 3) {
			t.Errorf("user%02d in B after the failed pass: active %v", i, u["active"])
		}
	}
	out = ferry(0, "sources", "show", "corp")
	if !strings.Contains(out, "(password set)") || !strings.Contains(out, "what to do:") {
		t.Errorf("show:\n%s", out)
	}
	ferry(1, "sources", "delete", "corp")
	out = ferry(0, "sources", "delete", "corp", "--release")
	if !strings.Contains(out, "released 20 users and 2 groups") {
		t.Errorf("delete --release: %s", out)
	}
	if strings.Contains(outputs.String(), password) || strings.Contains(procA.logs.String(), password) {
		t.Errorf("the bind password appears in the output or the log")
	}
}
