package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEngineBenchmark measures the provisioning engine between two real
// ferry serve processes: an initial cycle of FERRY_ENGINE_BENCH_USERS users
// into an unthrottled target (users/s and the engine process's peak RSS),
// optionally the same into a target limited to FERRY_ENGINE_BENCH_RATE
// requests a second, and the latency from a directory change to the
// target. It reports figures and asserts none: run it with
// `make bench-engine`.
func TestEngineBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FERRY_ENGINE_BENCH_USERS"))
	if n <= 0 {
		t.Skip("set FERRY_ENGINE_BENCH_USERS (make bench-engine) to run the engine benchmark")
	}
	rateLimit, _ := strconv.ParseFloat(os.Getenv("FERRY_ENGINE_BENCH_RATE"), 64)
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	scimA := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA))
	admin := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA, "--scope", "admin"))
	tokenFast := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--tenant", "fast"))
	tokenSlow := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--tenant", "slow"))
	addrB := startFerry(t, dbB).addr
	// A provisions into B on loopback, which it connects to only when
	// allowed, and the unthrottled run's rate is above the default maximum.
	procA := startFerry(t, dbA,
		"--secret-key-file", filepath.Join(dir, "a.key"), "--engine-poll-interval", "100ms",
		"--egress-allow", "loopback", "--max-rate-limit", "1000000")
	addrA, cmdA := procA.addr, procA.cmd
	a := scimClient{"http://" + addrA, scimA, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	b := scimClient{"http://" + addrB, tokenFast, &http.Client{}}

	start := time.Now()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				status, _, doc := a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"user%06d@example.com","active":true,
					"name":{"givenName":"Given%d","familyName":"Family%d"},"title":"Engineer",
					"emails":[{"type":"work","value":"user%06d@example.com"}]}`, i, i, i, i))
				if status != 201 {
					t.Errorf("seed user %d: %d", i, status)
					return
				}
				ids[i] = doc["id"].(string)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("seeded %d users into A in %s", n, time.Since(start).Round(time.Millisecond))
	rssBefore := procStatus(t, cmdA.Process.Pid, "VmHWM")

	env := []string{"FERRY_SERVER=http://" + addrA, "FERRY_TOKEN=" + admin}
	run := func(name, token string, limit float64) time.Duration {
		ferryCLI(t, env, "apps", "create", "--name", name, "--template", "ringcentral", "--scope", "all",
			"--tenant-url", "http://"+addrB+"/scim/v2", "--secret-token", token)
		setRateLimit(t, "http://"+addrA, admin, name, limit)
		ferryCLI(t, env, "apps", "start", name)
		var st status
		eventually(t, 2*time.Hour, func() string {
			st = appStatus(t, env, name)
			if st.LastCycle == nil || st.LastCycle.Kind != "initial" {
				return "the initial cycle has not ended"
			}
			return ""
		})
		d := time.Duration(st.LastCycle.DurationMs) * time.Millisecond
		t.Logf("%s: initial cycle of %d users at rate limit %.0f/s: %s, %.0f users/s, counts %+v",
			name, n, limit, d.Round(time.Millisecond), float64(n)/d.Seconds(), st.LastCycle.Counts)
		return d
	}
	run("fast", tokenFast, 1e6)
	// The peak counts the database pages SQLite reads through its memory
	// map (RssFile), which the kernel reclaims as it needs; RssAnon is the
	// process's own memory.
	pid := cmdA.Process.Pid
	t.Logf("ferry process with the engine: peak RSS %d MiB before the cycle (seeded), %d MiB after; now RssAnon %d MiB, RssFile %d MiB",
		rssBefore>>20, procStatus(t, pid, "VmHWM")>>20, procStatus(t, pid, "RssAnon")>>20, procStatus(t, pid, "RssFile")>>20)

	// Change-to-target latency: one PATCH in A, then poll B.
	var lat []time.Duration
	for i := range 40 {
		u := ids[i*(n/40)]
		title := fmt.Sprintf("Title %d", i)
		t0 := time.Now()
		if status, _, _ := a.do(t, "PATCH", "/Users/"+u, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"title","value":"`+title+`"}]}`); status != 200 {
			t.Fatalf("PATCH: %d", status)
		}
		userName := fmt.Sprintf("user%06d@example.com", i*(n/40))
		eventually(t, time.Minute, func() string {
			if got := findUser(t, b, userName); got["title"] != title {
				return "not yet"
			}
			return ""
		})
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	t.Logf("directory change to target: p50 %s, p99 %s, max %s over %d changes (engine poll 100ms)",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))

	// A full reconciliation without drift reads the target and writes
	// nothing; with 1% of the target's users changed behind Ferry's back it
	// repairs exactly those.
	reconcile := func(what string) (status, map[string]string) {
		before := appStatus(t, env, "fast").LastCycle
		ferryCLI(t, env, "apps", "restart", "fast")
		var st status
		eventually(t, time.Hour, func() string {
			st = appStatus(t, env, "fast")
			if st.State == "running" || st.LastCycle == nil || st.LastCycle.Kind != "full" || (before != nil && st.LastCycle.ID == before.ID) {
				return "the full cycle has not ended"
			}
			return ""
		})
		d := time.Duration(st.LastCycle.DurationMs) * time.Millisecond
		t.Logf("full reconciliation of %d linked users, %s: %s, counts %+v", n, what, d.Round(time.Millisecond), st.LastCycle.Counts)
		return st, allVersions(t, b)
	}
	v0 := allVersions(t, b)
	_, v1 := reconcile("no drift")
	changedVersions := func(x, y map[string]string) int {
		n := 0
		for id, v := range y {
			if x[id] != v {
				n++
			}
		}
		return n
	}
	t.Logf("no drift: %d of %d target users written", changedVersions(v0, v1), len(v1))
	drifted := n / 100
	for i := range drifted {
		userName := fmt.Sprintf("user%06d@example.com", i*100+1)
		u := findUser(t, b, userName)
		if status, _, _ := b.do(t, "PATCH", "/Users/"+u["id"].(string), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"title","value":"Drifted"}]}`); status != 200 {
			t.Fatalf("drift %s: %d", userName, status)
		}
	}
	v2 := allVersions(t, b)
	st, v3 := reconcile(fmt.Sprintf("%d drifted", drifted))
	t.Logf("%d drifted: %d target users written, %d updated by the cycle", drifted, changedVersions(v2, v3), st.LastCycle.Counts["updated"])

	if rateLimit > 0 {
		run("slow", tokenSlow, rateLimit)
	}
}

// allVersions returns the meta.version of every user of an endpoint, by
// id, listing it a page at a time.
func allVersions(t *testing.T, c scimClient) map[string]string {
	t.Helper()
	out := map[string]string{}
	for start := 1; ; start += 500 {
		status, _, list := c.do(t, "GET", fmt.Sprintf("/Users?startIndex=%d&count=500&attributes=meta", start), "")
		if status != 200 {
			t.Fatalf("list users: %d", status)
		}
		rs, _ := list["Resources"].([]any)
		for _, r := range rs {
			m := r.(map[string]any)
			out[m["id"].(string)] = m["meta"].(map[string]any)["version"].(string)
		}
		if len(rs) < 500 {
			return out
		}
	}
}

type status struct {
	State     string `json:"state"`
	LastCycle *struct {
		ID         string         `json:"id"`
		Kind       string         `json:"kind"`
		DurationMs int64          `json:"durationMs"`
		Counts     map[string]int `json:"counts"`
	} `json:"lastCycle"`
}

func appStatus(t *testing.T, env []string, app string) status {
	t.Helper()
	var st status
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "status", app, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// setRateLimit changes an application's rate limit through the admin API.
func setRateLimit(t *testing.T, server, token, app string, limit float64) {
	t.Helper()
	c := scimClient{server, token, &http.Client{}}
	req, _ := http.NewRequest("GET", server+"/api/v1/apps/"+app, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		Config map[string]any `json:"config"`
	}
	json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	view.Config["rateLimit"] = limit
	body, _ := json.Marshal(map[string]any{"config": view.Config})
	req, _ = http.NewRequest("PATCH", server+"/api/v1/apps/"+app, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH the rate limit: %s", resp.Status)
	}
}

// procStatus returns a memory field of /proc/PID/status (VmHWM, the peak
// resident set; RssAnon; RssFile) in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
