package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests in this file steer the provisioning engine of one real ferry
// serve (A, the directory) into another (B, the application), through
// the ferry apps command, as an administrator would: stop during a cycle,
// a configuration saved during one, drift repaired by a restart, a wrong
// token fixed, and a kill -9 in the middle of a cycle.

// appState is what these tests read of ferry apps status --json.
type appState struct {
	State            string      `json:"state"`
	ConfigVersion    int64       `json:"configVersion"`
	FullCyclePending bool        `json:"fullCyclePending"`
	Failures         int         `json:"failures"`
	Advice           string      `json:"advice"`
	Current          *cycleState `json:"currentCycle"`
	Last             *cycleState `json:"lastCycle"`
}

type cycleState struct {
	ID            string         `json:"id"`
	Kind          string         `json:"kind"`
	State         string         `json:"state"`
	ConfigVersion int64          `json:"configVersion"`
	Total         int            `json:"total"`
	Processed     int            `json:"processed"`
	Counts        map[string]int `json:"counts"`
	Resumed       int            `json:"resumed"`
}

func readAppState(t *testing.T, env []string, app string) appState {
	t.Helper()
	var st appState
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "status", app, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// engineRig is a directory A with users and an application endpoint B,
// both real ferry serve processes.
type engineRig struct {
	dir, dbA, dbB, addrA, addrB string
	a                           scimClient
	cmdA                        *exec.Cmd
	env                         []string
	ids                         []string
}

// newEngineRig starts B and A (A with the engine, its poll at 100 ms) and
// seeds A with users user0000@example.com... over SCIM.
func newEngineRig(t *testing.T, users int) *engineRig {
	t.Helper()
	r := &engineRig{dir: t.TempDir()}
	r.dbA, r.dbB = filepath.Join(r.dir, "a.db"), filepath.Join(r.dir, "b.db")
	scimA := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+r.dbA))
	admin := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+r.dbA, "--scope", "admin"))
	r.addrB = startFerry(t, r.dbB).addr
	r.a = scimClient{"", scimA, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	r.env = []string{"", "FERRY_TOKEN=" + admin}
	r.startA(t)
	r.ids = make([]string, users)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < users; i = int(next.Add(1)) - 1 {
				status, _, doc := r.a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"user%04d@example.com","active":true,"title":"v1"}`, i))
				if status != 201 {
					t.Errorf("seed user %d: %d", i, status)
					return
				}
				r.ids[i] = doc["id"].(string)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return r
}

// startA starts A's ferry serve on its database, under the same instance
// name every time (as a restarted replica would be), and points the rig's
// clients at the port it listens on.
func (r *engineRig) startA(t *testing.T) {
	t.Helper()
	// A provisions into B on loopback, which it connects to only when allowed.
	a := startFerry(t, r.dbA, "--instance-name", "a",
		"--secret-key-file", filepath.Join(r.dir, "a.key"), "--engine-poll-interval", "100ms", "--egress-allow", "loopback")
	r.cmdA, r.addrA = a.cmd, a.addr
	r.a.base = a.url()
	r.env[0] = "FERRY_SERVER=" + a.url()
}

// tenant makes a tenant of B and returns a SCIM client of it.
func (r *engineRig) tenant(t *testing.T, name string) scimClient {
	t.Helper()
	token := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+r.dbB, "--tenant", name))
	return scimClient{"http://" + r.addrB, token, &http.Client{}}
}

// app creates an application of A provisioning every user into b, at
// rate requests a second.
func (r *engineRig) app(t *testing.T, name string, b scimClient, token string, rate float64) {
	t.Helper()
	ferryCLI(t, r.env, "apps", "create", "--name", name, "--template", "ringcentral", "--scope", "all",
		"--tenant-url", "http://"+r.addrB+"/scim/v2", "--secret-token", token)
	setRateLimit(t, "http://"+r.addrA, strings.TrimPrefix(r.env[1], "FERRY_TOKEN="), name, rate)
}

// targetUsers lists every user of a tenant of B.
func targetUsers(t *testing.T, b scimClient) []map[string]any {
	t.Helper()
	var out []map[string]any
	for start := 1; ; start += 500 {
		status, _, list := b.do(t, "GET", fmt.Sprintf("/Users?startIndex=%d&count=500", start), "")
		if status != 200 {
			t.Fatalf("list users: %d", status)
		}
		rs, _ := list["Resources"].([]any)
		for _, x := range rs {
			out = append(out, x.(map[string]any))
		}
		if len(rs) < 500 {
			return out
		}
	}
}

// waitCycle waits until the application's last cycle is a new one (not
// the cycle before) in one of the states given, and returns the status.
func (r *engineRig) waitCycle(t *testing.T, app string, before *cycleState, states ...string) appState {
	t.Helper()
	var st appState
	eventually(t, 2*time.Minute, func() string {
		st = readAppState(t, r.env, app)
		if st.Last == nil || (before != nil && st.Last.ID == before.ID && st.Last.State == before.State) {
			return fmt.Sprintf("%s: no new cycle ended (state %s)", app, st.State)
		}
		for _, s := range states {
			if st.Last.State == s && st.Current == nil {
				return ""
			}
		}
		return fmt.Sprintf("%s: last cycle %s %s, want %v", app, st.Last.Kind, st.Last.State, states)
	})
	return st
}

func createRecords(t *testing.T, env []string, app string) map[string]int {
	t.Helper()
	var logs []struct {
		Source struct {
			DisplayName string `json:"displayName"`
		} `json:"sourceIdentity"`
	}
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "logs", app, "--action", "create", "--limit", "1000", "--json")), &logs); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range logs {
		out[l.Source.DisplayName]++
	}
	return out
}

// TestEngineControlFerryToFerry: stop during a 1,000-user cycle (no target
// write a second after the stop, then a resume that creates nobody
// twice), drift in the target repaired by a restart, a configuration
// saved during a cycle provisioned to everyone, a careless scope change
// held by the accidental-deletion threshold until allow-deletes, and a
// wrong token quarantining the job until it is fixed.
func TestEngineControlFerryToFerry(t *testing.T) {
	skipShort(t)
	const users = 1000
	r := newEngineRig(t, users)

	t.Run("stop", func(t *testing.T) {
		b := r.tenant(t, "stop")
		r.app(t, "stopper", b, b.token, 150)
		ferryCLI(t, r.env, "apps", "start", "stopper")
		eventually(t, time.Minute, func() string {
			if n := len(targetUsers(t, b)); n < 100 {
				return fmt.Sprintf("%d users in B", n)
			}
			return ""
		})
		ferryCLI(t, r.env, "apps", "stop", "stopper")
		stoppedAt := time.Now()
		st := r.waitCycle(t, "stopper", nil, "stopped")
		if st.State != "off" || st.Last.Counts["created"] >= users {
			t.Errorf("after stop: state %s, last cycle %+v", st.State, st.Last)
		}
		if st.Last.Processed != sum(st.Last.Counts) || st.Last.Total != users {
			t.Errorf("the stopped cycle's progress does not add up: %+v", st.Last)
		}
		var latest time.Time
		for _, u := range targetUsers(t, b) {
			m, _ := time.Parse(time.RFC3339Nano, u["meta"].(map[string]any)["lastModified"].(string))
			if m.After(latest) {
				latest = m
			}
		}
		if latest.After(stoppedAt.Add(time.Second)) {
			t.Errorf("B was written %s after ferry apps stop returned", latest.Sub(stoppedAt))
		}

		ferryCLI(t, r.env, "apps", "start", "stopper")
		st = r.waitCycle(t, "stopper", st.Last, "completed")
		if got := len(targetUsers(t, b)); got != users {
			t.Errorf("%d users in B after the resume, want %d", got, users)
		}
		if recs := createRecords(t, r.env, "stopper"); len(recs) != users {
			t.Errorf("%d users have a create record, want %d", len(recs), users)
		}

		// Drift behind Ferry's back, repaired by a restart.
		victims := targetUsers(t, b)[:2]
		if status, _, _ := b.do(t, "DELETE", "/Users/"+victims[0]["id"].(string), ""); status != 204 {
			t.Fatalf("delete in B: %d", status)
		}
		if status, _, _ := b.do(t, "PATCH", "/Users/"+victims[1]["id"].(string), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":false}]}`); status != 200 {
			t.Fatalf("disable in B: %d", status)
		}
		ferryCLI(t, r.env, "apps", "restart", "stopper")
		st = r.waitCycle(t, "stopper", st.Last, "completed")
		if st.Last.Kind != "full" || st.Last.Counts["created"] != 1 || st.Last.Counts["updated"] != 1 {
			t.Errorf("the repairing full cycle: %s %+v", st.Last.Kind, st.Last.Counts)
		}
		for _, v := range victims {
			u := findUser(t, b, v["userName"].(string))
			if u == nil || u["active"] != true {
				t.Errorf("%s after the restart: %v", v["userName"], u)
			}
		}
	})

	t.Run("update during a cycle", func(t *testing.T) {
		b := r.tenant(t, "update")
		r.app(t, "updater", b, b.token, 150)
		ferryCLI(t, r.env, "apps", "start", "updater")
		eventually(t, time.Minute, func() string {
			if n := len(targetUsers(t, b)); n < 200 {
				return fmt.Sprintf("%d users in B", n)
			}
			return ""
		})
		// Edit what ferry apps show --json prints, and feed it back.
		var view map[string]any
		if err := json.Unmarshal([]byte(ferryCLI(t, r.env, "apps", "show", "updater", "--json")), &view); err != nil {
			t.Fatal(err)
		}
		objects := view["config"].(map[string]any)["objects"].([]any)
		for _, a := range objects[0].(map[string]any)["attributes"].([]any) {
			if m := a.(map[string]any); m["target"] == "title" {
				m["type"], m["source"] = "constant", "v2"
			}
		}
		file := filepath.Join(t.TempDir(), "v2.json")
		raw, _ := json.Marshal(view)
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		ferryCLI(t, r.env, "apps", "update", "updater", "--config-file", file)
		want := readAppState(t, r.env, "updater").ConfigVersion
		eventually(t, 2*time.Minute, func() string {
			st := readAppState(t, r.env, "updater")
			if st.Current != nil || st.FullCyclePending || st.Last == nil || st.Last.ConfigVersion != want || st.Last.State != "completed" {
				return fmt.Sprintf("no completed cycle on version %d: %+v", want, st.Last)
			}
			return ""
		})
		us := targetUsers(t, b)
		if len(us) != users {
			t.Errorf("%d users in B, want %d", len(us), users)
		}
		for _, u := range us {
			if u["title"] != "v2" {
				t.Fatalf("%s has title %v after the cycle on the new configuration", u["userName"], u["title"])
			}
		}
	})

	t.Run("careless scope change held", func(t *testing.T) {
		b := r.tenant(t, "careful")
		r.app(t, "careful", b, b.token, 1000)
		ferryCLI(t, r.env, "apps", "start", "careful")
		st := r.waitCycle(t, "careful", nil, "completed")
		// The plan of the change says the default threshold (500) would
		// hold its 1,000 disables, and saves nothing.
		var plan struct {
			Disables []json.RawMessage `json:"disables"`
			Staged   bool              `json:"staged"`
		}
		if err := json.Unmarshal([]byte(ferryCLI(t, r.env, "apps", "update", "careful", "--scope", "assigned", "--plan", "--json")), &plan); err != nil {
			t.Fatal(err)
		}
		if len(plan.Disables) != users || !plan.Staged {
			t.Errorf("the plan of the scope change: %d disables, staged %v", len(plan.Disables), plan.Staged)
		}
		ferryCLI(t, r.env, "apps", "update", "careful", "--scope", "assigned")
		eventually(t, 2*time.Minute, func() string {
			st = readAppState(t, r.env, "careful")
			if st.Current != nil || st.State != "quarantined" {
				return fmt.Sprintf("not quarantined: %s", st.State)
			}
			return ""
		})
		active := func() int {
			n := 0
			for _, u := range targetUsers(t, b) {
				if u["active"] == true {
					n++
				}
			}
			return n
		}
		if n := active(); n != users {
			t.Errorf("%d of %d users still active in B while the disables are held", n, users)
		}
		ferryCLI(t, r.env, "apps", "allow-deletes", "careful")
		eventually(t, 2*time.Minute, func() string {
			if n := active(); n != 0 {
				return fmt.Sprintf("%d users still active after allow-deletes", n)
			}
			return ""
		})
	})

	t.Run("wrong token fixed", func(t *testing.T) {
		b := r.tenant(t, "token")
		r.app(t, "tokened", b, "not-the-token", 1000)
		// Start refuses a target that fails Test Connection, unless forced.
		cmd := exec.Command(ferryBinary, "apps", "start", "tokened")
		cmd.Env = append(os.Environ(), r.env...)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("apps start with a wrong token succeeded:\n%s", out)
		}
		ferryCLI(t, r.env, "apps", "start", "tokened", "--force")
		// Credentials refused: quarantined at once, not a thousand failures.
		st := r.waitCycle(t, "tokened", nil, "quarantined")
		if st.Last.Counts["failed"] == 0 || st.Last.Counts["failed"] > 16 || st.State != "quarantined" {
			t.Errorf("with a wrong token: state %s, counts %+v", st.State, st.Last.Counts)
		}
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte(b.token), 0o600); err != nil {
			t.Fatal(err)
		}
		ferryCLI(t, r.env, "apps", "update", "tokened", "--secret-token-file", tokenFile)
		eventually(t, 2*time.Minute, func() string {
			if n := len(targetUsers(t, b)); n != users {
				return fmt.Sprintf("%d users in B", n)
			}
			return ""
		})
		eventually(t, time.Minute, func() string {
			if st := readAppState(t, r.env, "tokened"); st.Failures != 0 {
				return fmt.Sprintf("%d still in escrow", st.Failures)
			}
			return ""
		})
	})
}

func sum(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// TestEngineSurvivesKill kills A with SIGKILL in the middle of an initial
// cycle and starts it again under the same instance name: the same cycle resumes,
// and every user in B has exactly one create record, those created just
// before the kill included.
func TestEngineSurvivesKill(t *testing.T) {
	skipShort(t)
	const users = 1000
	r := newEngineRig(t, users)
	b := r.tenant(t, "killed")
	r.app(t, "survivor", b, b.token, 200)
	ferryCLI(t, r.env, "apps", "start", "survivor")
	var running appState
	eventually(t, time.Minute, func() string {
		if n := len(targetUsers(t, b)); n < 300 {
			return fmt.Sprintf("%d users in B", n)
		}
		if running = readAppState(t, r.env, "survivor"); running.Current == nil {
			return "no cycle is running"
		}
		return ""
	})
	if err := r.cmdA.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.cmdA.Wait()
	r.startA(t)
	st := r.waitCycle(t, "survivor", nil, "completed")
	if st.Last.ID != running.Current.ID || st.Last.Kind != "initial" || st.Last.Resumed < 1 {
		t.Errorf("after the kill: last cycle %+v; want the initial cycle %s, resumed", st.Last, running.Current.ID)
	}
	us := targetUsers(t, b)
	recs := createRecords(t, r.env, "survivor")
	if len(us) != users {
		t.Errorf("%d users in B, want %d", len(us), users)
	}
	for _, u := range us {
		if n := recs[u["userName"].(string)]; n != 1 {
			t.Errorf("%s has %d create records, want 1", u["userName"], n)
		}
	}
}
