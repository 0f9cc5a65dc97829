package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ferryCLI runs the ferry binary with args and extra environment, and
// returns its stdout; the test fails on a non-zero exit.
func ferryCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(ferryBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ferry %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// lastLine returns the last line of a command's output: where token
// commands print the token.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// eventually retries check until it returns "" or the time is up, and
// fails with check's last complaint. It is for state held by another
// process (a ferry serve's job, a target's users), which a test can only
// ask for again; waits within this process use signals.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findUser returns the user of a SCIM endpoint called userName, or nil.
func findUser(t *testing.T, c scimClient, userName string) map[string]any {
	t.Helper()
	status, _, list := c.do(t, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", userName)), "")
	if status != 200 {
		t.Fatalf("query %s: %d %v", userName, status, list)
	}
	rs, _ := list["Resources"].([]any)
	if len(rs) == 0 {
		return nil
	}
	return rs[0].(map[string]any)
}

// versions returns the meta.version of every user and group of an
// endpoint, by id.
func versions(t *testing.T, c scimClient) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range []string{"Users", "Groups"} {
		status, _, list := c.do(t, "GET", "/"+typ+"?count=1000", "")
		if status != 200 {
			t.Fatalf("list %s: %d", typ, status)
		}
		rs, _ := list["Resources"].([]any)
		for _, r := range rs {
			m := r.(map[string]any)
			out[m["id"].(string)] = m["meta"].(map[string]any)["version"].(string)
		}
	}
	return out
}

// TestProvisionFerryToFerry provisions from one real ferry serve (A: the
// directory, with its engine) into another (B: the application), with the
// ringcentral and scim templates, driven through the ferry apps command.
func TestProvisionFerryToFerry(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")

	// B has two tenants, one per application, and a user of its own.
	tokenRC := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--tenant", "ringcentral"))
	tokenSCIM := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--tenant", "scimapp"))
	scimToken := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA))
	adminToken := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA, "--scope", "admin"))
	addrB := startFerry(t, dbB).addr
	// A provisions into B on loopback, which it connects to only when allowed.
	procA := startFerry(t, dbA,
		"--secret-key-file", filepath.Join(dir, "a.key"), "--engine-poll-interval", "100ms", "--egress-allow", "loopback")
	addrA, logsA := procA.addr, procA.logs

	a := scimClient{"http://" + addrA, scimToken, &http.Client{}}
	rc := scimClient{"http://" + addrB, tokenRC, &http.Client{}}
	sc := scimClient{"http://" + addrB, tokenSCIM, &http.Client{}}
	if status, _, _ := rc.do(t, "POST", "/Users", `{"userName":"outsider@example.com","title":"B's own"}`); status != 201 {
		t.Fatalf("seed B: %d", status)
	}
	outsider := findUser(t, rc, "outsider@example.com")

	// The directory, written over SCIM as Entra would.
	ids := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		status, _, doc := a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"%s@example.com","active":true,
			"name":{"givenName":"%s","familyName":"Example"},"emails":[{"type":"work","value":"%s@example.com"}],"title":"Engineer"}`, u, u, u))
		if status != 201 {
			t.Fatalf("create %s in A: %d %v", u, status, doc)
		}
		ids[u] = doc["id"].(string)
	}
	status, _, g := a.do(t, "POST", "/Groups", fmt.Sprintf(`{"displayName":"Engineering","members":[{"value":%q},{"value":%q}]}`, ids["alice"], ids["bob"]))
	if status != 201 {
		t.Fatalf("create group: %d %v", status, g)
	}

	env := []string{"FERRY_SERVER=http://" + addrA, "FERRY_TOKEN=" + adminToken}
	ferryCLI(t, env, "apps", "create", "--name", "rc", "--template", "ringcentral",
		"--tenant-url", "http://"+addrB+"/scim/v2", "--secret-token", tokenRC, "--scope", "assigned")
	ferryCLI(t, env, "apps", "create", "--name", "scimapp", "--template", "scim",
		"--tenant-url", "http://"+addrB+"/scim/v2", "--secret-token", tokenSCIM)
	ferryCLI(t, env, "apps", "assign", "rc", "--user", "alice@example.com")
	ferryCLI(t, env, "apps", "assign", "rc", "--user", "carol@example.com")
	ferryCLI(t, env, "apps", "assign", "scimapp", "--group", "Engineering")
	ferryCLI(t, env, "apps", "test-connection", "rc")
	ferryCLI(t, env, "apps", "test-connection", "scimapp")
	ferryCLI(t, env, "apps", "start", "rc")
	ferryCLI(t, env, "apps", "start", "scimapp")

	eventually(t, 20*time.Second, func() string {
		for _, u := range []string{"alice", "carol"} {
			if findUser(t, rc, u+"@example.com") == nil {
				return u + " is not in the ringcentral tenant"
			}
		}
		if findUser(t, rc, "bob@example.com") != nil {
			t.Fatal("bob, not assigned to rc, was created there")
		}
		for _, u := range []string{"alice", "bob"} {
			if findUser(t, sc, u+"@example.com") == nil {
				return u + " is not in the scim tenant"
			}
		}
		status, _, list := sc.do(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Engineering"`), "")
		rs, _ := list["Resources"].([]any)
		if status != 200 || len(rs) != 1 {
			return "the group is not in the scim tenant"
		}
		if ms, _ := rs[0].(map[string]any)["members"].([]any); len(ms) != 2 {
			return fmt.Sprintf("the group has %d members", len(ms))
		}
		return ""
	})

	// A second full cycle sends no writes: every object keeps its version.
	before := versions(t, rc)
	scBefore := versions(t, sc)
	ferryCLI(t, env, "apps", "restart", "rc")
	ferryCLI(t, env, "apps", "restart", "scimapp")
	for _, app := range []string{"rc", "scimapp"} {
		eventually(t, 20*time.Second, func() string {
			var st struct {
				State            string `json:"state"`
				FullCyclePending bool   `json:"fullCyclePending"`
				LastCycle        *struct {
					Kind string `json:"kind"`
				} `json:"lastCycle"`
			}
			if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "status", app, "--json")), &st); err != nil {
				t.Fatal(err)
			}
			if st.FullCyclePending || st.State == "running" || st.LastCycle == nil || st.LastCycle.Kind != "full" {
				return fmt.Sprintf("%s: no full cycle completed since the restart: %+v", app, st)
			}
			return ""
		})
	}
	if after := versions(t, rc); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a full cycle with nothing to change wrote to the ringcentral tenant:\n before %v\n after  %v", before, after)
	}
	if after := versions(t, sc); fmt.Sprint(after) != fmt.Sprint(scBefore) {
		t.Errorf("a full cycle with nothing to change wrote to the scim tenant:\n before %v\n after  %v", scBefore, after)
	}

	// A disable, an unassignment, a rename and a delete in A.
	patch := func(id, ops string) {
		t.Helper()
		if status, _, doc := a.do(t, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`); status != 200 {
			t.Fatalf("PATCH in A: %d %v", status, doc)
		}
	}
	patch(ids["alice"], `[{"op":"Replace","path":"active","value":"False"}]`)
	ferryCLI(t, env, "apps", "unassign", "rc", "--user", "carol@example.com")
	patch(ids["bob"], `[{"op":"replace","path":"userName","value":"robert@example.com"}]`)
	eventually(t, 20*time.Second, func() string {
		if u := findUser(t, rc, "alice@example.com"); u["active"] != false {
			return fmt.Sprintf("alice is active=%v in rc", u["active"])
		}
		if u := findUser(t, rc, "carol@example.com"); u["active"] != false {
			return fmt.Sprintf("carol, unassigned, is active=%v in rc", u["active"])
		}
		if findUser(t, sc, "robert@example.com") == nil {
			return "bob's rename did not reach the scim tenant"
		}
		return ""
	})
	if status, _, _ := a.do(t, "DELETE", "/Users/"+ids["bob"], ""); status != 204 {
		t.Fatalf("delete bob in A: %d", status)
	}
	eventually(t, 20*time.Second, func() string {
		if findUser(t, sc, "robert@example.com") != nil {
			return "bob, deleted in A, is still in the scim tenant"
		}
		return ""
	})

	// B's own user was never touched.
	if u := findUser(t, rc, "outsider@example.com"); u["meta"].(map[string]any)["version"] != outsider["meta"].(map[string]any)["version"] {
		t.Errorf("the target's own user changed: %v", u)
	}

	// Logs and on-demand through the CLI.
	var logs []map[string]any
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "logs", "rc", "--json")), &logs); err != nil || len(logs) == 0 {
		t.Fatalf("apps logs --json: %v, %d records", err, len(logs))
	}
	actions := map[string]bool{}
	for _, l := range logs {
		actions[fmt.Sprint(l["provisioningAction"])] = true
	}
	if !actions["create"] || !actions["disable"] {
		t.Errorf("rc's logs lack a create or a disable: %v", actions)
	}
	out := ferryCLI(t, env, "apps", "provision", "rc", "--user", "alice@example.com")
	if !strings.Contains(strings.ToLower(out), "test connection") {
		t.Errorf("apps provision output lacks its steps:\n%s", out)
	}
	// The applications' secret tokens and the admin token never reach the
	// directory's log, nor the API's answers.
	for _, secret := range []string{tokenRC, tokenSCIM, adminToken, scimToken} {
		if strings.Contains(logsA.String(), secret) {
			t.Error("a token appears in ferry serve's log")
		}
	}
	if shown := ferryCLI(t, env, "apps", "show", "rc", "--json"); strings.Contains(shown, tokenRC) {
		t.Error("apps show returns the secret token")
	}
}

// lockedBuffer is a buffer a process writes while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
