package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/loadtest"
	"github.com/ferryid/ferry/internal/validate"
)

// runFerry runs the ferry binary with FERRY_TOKEN set and returns its
// stdout, stderr and exit code; it fails the test if it cannot run or
// outlives the timeout.
func runFerry(t *testing.T, token string, timeout time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ferryBinary, args...)
	cmd.Env = append(os.Environ(), "FERRY_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ferry %s did not finish within %v\nstderr: %s", strings.Join(args, " "), timeout, stderr.String())
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestValidateFerry runs every check of `ferry validate` against a real
// `ferry serve`, on SQLite and on PostgreSQL: Ferry must pass its own
// validator, leave nothing behind, and never print the token.
func TestValidateFerry(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { validateFerry(t, filepath.Join(t.TempDir(), "ferry.db")) })
	t.Run("postgres", func(t *testing.T) { validateFerry(t, postgresDatabase(t)) })
}

func validateFerry(t *testing.T, database string) {
	token := createToken(t, database)
	addr := startFerry(t, database).addr
	base := "http://" + addr + "/scim/v2"

	stdout, stderr, code := runFerry(t, token, 3*time.Minute, "validate", base, "--profile", "all", "--json")
	var rep validate.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\nstdout: %.2000s\nstderr: %s", err, stdout, stderr)
	}
	if rep.Format != validate.ReportFormat || rep.Summary.Total != len(validate.Checks()) || len(rep.Results) != rep.Summary.Total {
		t.Fatalf("report format %q with %d of %d checks", rep.Format, rep.Summary.Total, len(validate.Checks()))
	}
	for _, r := range rep.Results {
		switch r.Status {
		case validate.Pass:
		case validate.Skip:
			t.Errorf("%s skipped (%s): Ferry advertises every feature, so nothing may be skipped", r.ID, r.Message)
		default:
			msg := r.ID + " (" + r.Source + "): " + r.Message
			if ex := r.Exchange; ex != nil {
				msg += "\n    " + ex.Method + " " + ex.URL
				if ex.RequestBody != "" {
					msg += "\n    " + ex.RequestBody
				}
				msg += "\n    -> " + http.StatusText(ex.Status) + " " + ex.ResponseBody
			}
			t.Errorf("Ferry fails %s", msg)
		}
	}
	if (code != 0) != rep.Failed() {
		t.Errorf("exit status %d with %d failed checks", code, rep.Summary.Failed)
	}
	if len(rep.Leftovers) != 0 {
		t.Errorf("the run left resources behind: %v", rep.Leftovers)
	}
	if strings.Contains(stdout+stderr, token) {
		t.Error("the token appears in the output")
	}
	// The cleanup really deleted everything: the directory is empty again.
	for _, q := range []string{"/Users?count=0", "/Groups?count=0"} {
		req, _ := http.NewRequest(http.MethodGet, base+q, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ TotalResults int }
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if list.TotalResults != 0 {
			t.Errorf("GET %s: %d resources left after validate", q, list.TotalResults)
		}
	}
}

// TestValidateExitStatusAndReport checks the human report of a failing run
// (a wrong token) and its exit status, and that a missing token is an
// error before any request.
func TestValidateExitStatusAndReport(t *testing.T) {
	database := filepath.Join(t.TempDir(), "ferry.db")
	createToken(t, database)
	addr := startFerry(t, database).addr
	base := "http://" + addr + "/scim/v2"

	stdout, stderr, code := runFerry(t, "not-the-token", time.Minute, "validate", base, "--only", "rfc.users.get,rfc.discovery.schemas")
	if code != 1 {
		t.Errorf("exit status %d with failing checks, want 1\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"FAIL  rfc.users.get", "request:  POST " + base + "/Users", "response: 401", "2 checks: 0 passed, 2 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "2 of 2 checks failed") {
		t.Errorf("stderr %q", stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Error("a progress bar was drawn although stderr is not a terminal")
	}
	_, stderr, code = runFerry(t, "", 10*time.Second, "validate", base)
	if code == 0 || !strings.Contains(stderr, "FERRY_TOKEN") {
		t.Errorf("without a token: exit %d, stderr %q", code, stderr)
	}
}

// TestBenchFerry runs a short `ferry bench` against a real `ferry serve`:
// every scenario must run without errors, and the HTML report must name
// them all.
func TestBenchFerry(t *testing.T) {
	dir := t.TempDir()
	database := filepath.Join(dir, "ferry.db")
	token := createToken(t, database)
	addr := startFerry(t, database).addr
	reportFile := filepath.Join(dir, "bench.html")

	stdout, stderr, code := runFerry(t, token, 2*time.Minute, "bench", "http://"+addr+"/scim/v2",
		"--users", "200", "--duration", "1s", "--concurrency", "4", "--json", "--report", reportFile)
	if code != 0 {
		t.Fatalf("bench exited %d\nstdout: %.3000s\nstderr: %s", code, stdout, stderr)
	}
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%.2000s", err, stdout)
	}
	if len(rep.Scenarios) != len(loadtest.Scenarios()) {
		t.Fatalf("%d scenarios in the report, want %d", len(rep.Scenarios), len(loadtest.Scenarios()))
	}
	page, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range rep.Scenarios {
		if s.Name != loadtest.Scenarios()[i].Name || s.Requests == 0 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors %v (first: %s)", s.Name, s.Requests, s.Errors, s.ErrorsByStatus, s.FirstError)
		}
		if !bytes.Contains(page, []byte(s.Name)) {
			t.Errorf("the HTML report does not mention %s", s.Name)
		}
		t.Logf("%-18s %7.0f req/s  p50 %.2f ms  p99 %.2f ms", s.Name, s.RequestsPerSecond, s.Latency.P50, s.Latency.P99)
		// The walk reads every user through ferry serve's cursors, the
		// ones the create-user scenario added included.
		if w := s.Walk; s.Name == loadtest.ListAll && (w == nil || w.Resources < 200 || w.Resources != w.TotalResults || w.Count != 1000) {
			t.Errorf("list-all walk %+v", w)
		}
	}
	if rep.Seed.Users != 200 || rep.Cleanup.Failed != 0 || rep.Cleanup.Deleted < 200 {
		t.Errorf("seed %+v, cleanup %+v", rep.Seed, rep.Cleanup)
	}
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("<svg")) {
		t.Errorf("the report is not an HTML page with charts: %.200s", page)
	}

	// --ceiling adds the static handler's row and each scenario's ratio.
	stdout, stderr, code = runFerry(t, token, 2*time.Minute, "bench", "http://"+addr+"/scim/v2",
		"--users", "20", "--duration", "300ms", "--concurrency", "2", "--scenarios", "get-by-id", "--ceiling")
	if code != 0 {
		t.Fatalf("bench --ceiling exited %d\nstdout: %.3000s\nstderr: %s", code, stdout, stderr)
	}
	ceilingRow := regexp.MustCompile(`(?m)^\s*ceiling\s+\d+\s+\d+\s.*\s1\.00\s*$`)
	ratioRow := regexp.MustCompile(`(?m)^\s*get-by-id\s+\d+\s+\d+\s.*\s\d+\.\d\d\s*$`)
	if !ceilingRow.MatchString(stdout) || !ratioRow.MatchString(stdout) || !strings.Contains(stdout, "ceiling: a static") {
		t.Errorf("bench --ceiling output lacks the ceiling row or the ratio column:\n%s", stdout)
	}

	// Remote targets are refused.
	_, stderr, code = runFerry(t, token, 10*time.Second, "bench", "http://192.0.2.1/scim/v2")
	if code == 0 || !strings.Contains(stderr, "--allow-remote") {
		t.Errorf("remote target: exit %d, stderr %q", code, stderr)
	}
}

// TestHelpNeverShowsTheToken: a flag default is printed by --help, so the
// token in FERRY_TOKEN must not be one.
func TestHelpNeverShowsTheToken(t *testing.T) {
	for _, command := range []string{"validate", "bench"} {
		cmd := exec.Command(ferryBinary, command, "--help")
		cmd.Env = append(os.Environ(), "FERRY_TOKEN=s3cret-token-value")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ferry %s --help: %v", command, err)
		}
		if strings.Contains(string(out), "s3cret-token-value") {
			t.Errorf("ferry %s --help shows the token:\n%s", command, out)
		}
	}
}
