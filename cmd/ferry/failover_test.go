package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the provisioning engine on two ferry serve
// replicas sharing one PostgreSQL, into a target behind a recording proxy
// (a real ferry serve on SQLite, its requests logged by the test), and
// take the job's holder away: paused past its lease, or killed.

// recordingProxy forwards requests to a target and records each one.
type recordingProxy struct {
	URL string
	mu  sync.Mutex
	log []proxied
}

type proxied struct {
	method, path string
	status       int
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		rp.ServeHTTP(rec, r)
		p.mu.Lock()
		p.log = append(p.log, proxied{r.Method, r.URL.Path, rec.status})
		p.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *recordingProxy) requests() []proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxied(nil), p.log...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// replicaRig is two replicas of the directory on one PostgreSQL and a
// target behind a recording proxy.
type replicaRig struct {
	database string
	addrs    []string
	cmds     map[string]*exec.Cmd
	logs     map[string]*lockedBuffer
	env      []string
	proxy    *recordingProxy
	target   scimClient
}

func newReplicaRig(t *testing.T, users int) *replicaRig {
	t.Helper()
	dir := t.TempDir()
	r := &replicaRig{database: postgresDatabase(t), cmds: map[string]*exec.Cmd{}, logs: map[string]*lockedBuffer{}}
	dbB := filepath.Join(dir, "b.db")
	tokenB := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB))
	addrB := startFerry(t, dbB).addr
	r.target = scimClient{"http://" + addrB, tokenB, &http.Client{}}
	r.proxy = newRecordingProxy(t, "http://"+addrB)

	scimToken := createToken(t, r.database)
	admin := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", r.database, "--scope", "admin"))
	keyFile := filepath.Join(dir, "shared.key")
	for range 2 {
		// A lease of 3 s (30 s in production) so that a takeover takes
		// seconds; the directory provisions into a loopback target.
		p := startFerry(t, r.database,
			"--secret-key-file", keyFile, "--engine-poll-interval", "100ms", "--engine-lease-ttl", "3s",
			"--egress-allow", "loopback")
		r.addrs = append(r.addrs, p.addr)
		r.cmds[p.addr] = p.cmd
		r.logs[p.addr] = p.logs
	}
	r.env = []string{"FERRY_SERVER=http://" + r.addrs[0], "FERRY_TOKEN=" + admin}
	a := scimClient{"http://" + r.addrs[0], scimToken, &http.Client{}}
	for i := range users {
		if status, _, _ := a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"user%04d@example.com","active":true}`, i)); status != 201 {
			t.Fatalf("seed user %d: %d", i, status)
		}
	}
	ferryCLI(t, r.env, "apps", "create", "--name", "app", "--template", "ringcentral", "--scope", "all",
		"--tenant-url", r.proxy.URL+"/scim/v2", "--secret-token", tokenB)
	setRateLimit(t, "http://"+r.addrs[0], admin, "app", 100)
	return r
}

// envOf is the CLI's environment pointed at one replica.
func (r *replicaRig) envOf(addr string) []string {
	return []string{"FERRY_SERVER=http://" + addr, r.env[1]}
}

// holder returns the address of the replica holding the job, once one
// does and the target holds at least n users.
func (r *replicaRig) holder(t *testing.T, n int) string {
	t.Helper()
	var addr string
	eventually(t, time.Minute, func() string {
		if got := len(targetUsers(t, r.target)); got < n {
			return fmt.Sprintf("%d users in the target", got)
		}
		var st struct {
			Holder string `json:"holder"`
		}
		if err := json.Unmarshal([]byte(ferryCLI(t, r.env, "apps", "status", "app", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		for _, a := range r.addrs {
			if strings.HasSuffix(st.Holder, " "+a) {
				addr = a
				return ""
			}
		}
		return fmt.Sprintf("holder %q is neither replica", st.Holder)
	})
	return addr
}

func (r *replicaRig) other(addr string) string {
	if addr == r.addrs[0] {
		return r.addrs[1]
	}
	return r.addrs[0]
}

// waitCompleted waits, through the replica at addr, for the initial cycle
// to complete, and returns its status.
func (r *replicaRig) waitCompleted(t *testing.T, addr string) appState {
	t.Helper()
	var st appState
	eventually(t, 2*time.Minute, func() string {
		st = readAppState(t, r.envOf(addr), "app")
		if st.Current != nil || st.Last == nil || st.Last.Kind != "initial" || st.Last.State != "completed" {
			return fmt.Sprintf("the initial cycle has not completed: %s %+v", st.State, st.Last)
		}
		return ""
	})
	return st
}

// TestPausedReplicaSendsNothing pauses the job's holder (SIGSTOP) past its
// lease: the other replica takes the cycle over and completes it; the
// paused one, resumed, sends nothing to the target and writes no log
// record, and the target never saw a create for a user it had.
func TestPausedReplicaSendsNothing(t *testing.T) {
	skipShort(t)
	const users = 600
	r := newReplicaRig(t, users)
	ferryCLI(t, r.env, "apps", "start", "app")
	paused := r.holder(t, 100)
	live := r.other(paused)
	if err := r.cmds[paused].Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	st := r.waitCompleted(t, live)
	before := len(r.proxy.requests())
	failuresBefore := failureRecords(t, r.envOf(live))
	if err := r.cmds[paused].Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The paused replica finds out when it wakes: its fence, or its next
	// renewal, tells it the lease is gone.
	eventually(t, 30*time.Second, func() string {
		if !strings.Contains(r.logs[paused].String(), "cycle interrupted") {
			return "the resumed replica has not noticed it lost the job"
		}
		return ""
	})
	after := r.proxy.requests()
	if len(after) != before {
		t.Errorf("the resumed replica sent %d requests to the target after the takeover: %v", len(after)-before, after[before:])
	}
	for _, req := range after {
		if req.method == "POST" && req.status == http.StatusConflict {
			t.Errorf("a create reached the target for a user it had: %+v", req)
		}
	}
	if got := failureRecords(t, r.envOf(live)); got != failuresBefore {
		t.Errorf("the resumed replica wrote %d failure records", got-failuresBefore)
	}
	if got := len(targetUsers(t, r.target)); got != users {
		t.Errorf("%d users in the target, want %d", got, users)
	}
	if st.Last.Counts["created"] != users {
		t.Errorf("the taken-over cycle counts %+v; want %d created", st.Last.Counts, users)
	}
	recs := createRecords(t, r.envOf(live), "app")
	for _, u := range targetUsers(t, r.target) {
		if n := recs[u["userName"].(string)]; n != 1 {
			t.Errorf("%s has %d create records, want 1", u["userName"], n)
		}
	}
}

// TestKilledReplicaCycleIsCarriedOn kills the job's holder (SIGKILL) in
// the middle of the initial cycle: the other replica carries on the same
// cycle, whose final counts equal the creates the target received, with
// exactly one log record for each.
func TestKilledReplicaCycleIsCarriedOn(t *testing.T) {
	skipShort(t)
	const users = 600
	r := newReplicaRig(t, users)
	ferryCLI(t, r.env, "apps", "start", "app")
	killed := r.holder(t, 150)
	live := r.other(killed)
	running := readAppState(t, r.envOf(live), "app")
	if err := r.cmds[killed].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.cmds[killed].Wait()
	st := r.waitCompleted(t, live)
	if running.Current != nil && st.Last.ID != running.Current.ID {
		t.Errorf("the cycle after the takeover is %s, not the cycle that was running (%s)", st.Last.ID, running.Current.ID)
	}
	// The target's users are the creates it received and carried out: a
	// create cut off by the kill may have reached it with its answer lost
	// (the proxy then saw no 201), and is counted by the cycle that
	// carries on when matching finds it. A create sent twice would show
	// as a 409.
	creates := len(targetUsers(t, r.target))
	for _, req := range r.proxy.requests() {
		if req.method == "POST" && req.status == http.StatusConflict {
			t.Errorf("a create reached the target for a user it had: %+v", req)
		}
	}
	if creates != users || st.Last.Counts["created"] != creates {
		t.Errorf("the target carried out %d creates; the cycle counts %d created; want both %d", creates, st.Last.Counts["created"], users)
	}
	recs := createRecords(t, r.envOf(live), "app")
	for _, u := range targetUsers(t, r.target) {
		if n := recs[u["userName"].(string)]; n != 1 {
			t.Errorf("%s has %d create records, want 1", u["userName"], n)
		}
	}
}

// failureRecords counts the application's failure log records.
func failureRecords(t *testing.T, env []string) int {
	t.Helper()
	var logs []json.RawMessage
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "logs", "app", "--status", "failure", "--limit", "1000", "--json")), &logs); err != nil {
		t.Fatal(err)
	}
	return len(logs)
}
