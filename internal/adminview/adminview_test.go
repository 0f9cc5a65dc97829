package adminview

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
)

// TestStatusRunning checks the status of a running cycle as people read
// it: its progress as a bar and a percent, processed of total, the time
// left and the counts, and the configuration version it runs behind.
func TestStatusRunning(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	Status(&b, ferrytest.Running("rc", 30))
	for _, want := range []string{
		"Provisioning:     On (running)\n",
		"Configuration:    version 5; the running cycle is on version 4, and a full cycle on version 5 follows it\n",
		"Current cycle:    full on version 4, running since 2026-11-26T09:00:00Z\n",
		"                  [#########---------------------]  30%  60 of 200 objects, about 1m10s left\n",
		"                  30 updated, 29 unchanged, 1 failed\n",
		"Last cycle:       initial on version 3, completed 2026-11-26T08:01:30Z after 1m30s\n",
		"Failures:         2 objects in escrow",
		"Advice:           2 objects failed",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, b.String())
		}
	}
}

// TestStatusLine checks a line of status --watch off a terminal.
func TestStatusLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 5, 7, 0, time.UTC)
	pending := ferrytest.Status("rc")
	pending.FullCyclePending = true
	tests := []struct {
		name string
		st   *provision.Status
		want string
	}{
		{"running", ferrytest.Running("rc", 30), "09:05:07  running  full cycle   30%  60 of 200 objects, about 1m10s left  30 updated, 29 unchanged, 1 failed"},
		{"pending", pending, "09:05:07  idle  a full cycle is pending"},
		{"idle", ferrytest.Status("rc"), "09:05:07  idle"},
	}
	for _, tc := range tests {
		if got := statusLine(tc.st, now); got != tc.want {
			t.Errorf("%s: statusLine = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestShellWord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"rc":                 "rc",
		"a-b_c.d@e/f:g":      "a-b_c.d@e/f:g",
		"HR app":             "'HR app'",
		"":                   "''",
		"it's":               `'it'\''s'`,
		"RingCentral (test)": "'RingCentral (test)'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCycleBar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		percent int
		want    string
	}{{0, "[----------]"}, {35, "[###-------]"}, {100, "[##########]"}, {-5, "[----------]"}, {250, "[##########]"}} {
		if got := cycleBar(tc.percent, 10); got != tc.want {
			t.Errorf("cycleBar(%d, 10) = %s, want %s", tc.percent, got, tc.want)
		}
	}
}

// TestScreenLines: what status --watch moves the cursor up over, long
// lines wrapping and runes counted as one column.
func TestScreenLines(t *testing.T) {
	t.Parallel()
	if got := screenLines("ab\n\n"+strings.Repeat("→", 25)+"\n", 10); got != 5 {
		t.Errorf("screenLines = %d, want 5 (1 + 1 + 3)", got)
	}
}

// TestAuditValue: a string as it is, other JSON compact, a long value cut
// with a pointer to --json.
func TestAuditValue(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxAuditValue+1)
	for in, want := range map[string]string{
		``:                   "(none)",
		`""`:                 "(empty)",
		`"a\nb"`:             "a b",
		`{ "count" : 1 }`:    `{"count":1}`,
		`"` + long + `"`:     long[:2*maxAuditValue] + "… (--json shows it whole)",
		`not json  at   all`: "not json at all",
	} {
		if got := auditValue(json.RawMessage(in)); got != want {
			t.Errorf("auditValue(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestStartError: a refusal for a failing Test Connection says how to fix
// the connection, or skip the test; other errors are left as they are.
func TestStartError(t *testing.T) {
	t.Parallel()
	refused := &adminclient.Error{Status: 409, Detail: "HR app was not started: Test Connection failed"}
	err := StartError("HR app", refused)
	if want := "HR app was not started: Test Connection failed\nTo fix the connection: ferry apps update 'HR app' --tenant-url URL, or --secret-token-file FILE; " +
		"then test it with ferry apps test-connection 'HR app'. To start without the test: ferry apps start 'HR app' --force"; err == nil || err.Error() != want {
		t.Errorf("StartError = %v\nwant %s", err, want)
	}
	for _, other := range []error{&adminclient.Error{Status: 404, Detail: "not found"}, errors.New("cannot reach Ferry")} {
		if err := StartError("rc", other); err != other {
			t.Errorf("StartError(%v) = %v, want it unchanged", other, err)
		}
	}
}

// TestOnDemandError: a failed record names the object and the error; a
// failed step without a record names the step.
func TestOnDemandError(t *testing.T) {
	t.Parallel()
	res := &provision.OnDemandResult{Records: ferrytest.Logs()}
	if err := OnDemandError(res); err == nil || err.Error() != "provisioning bob@example.com failed: SystemForCrossDomainIdentityManagementConflict: userName taken" {
		t.Errorf("a failed record: %v", err)
	}
	res = &provision.OnDemandResult{Steps: []provision.Step{{Name: "Import user", Status: provision.StatusSuccess}, {Name: "Scope", Status: provision.StatusFailure, Description: "not in scope"}}}
	if err := OnDemandError(res); err == nil || err.Error() != "provisioning failed at Scope: not in scope" {
		t.Errorf("a failed step: %v", err)
	}
	if err := OnDemandError(&provision.OnDemandResult{Records: ferrytest.Logs()[:1]}); err != nil {
		t.Errorf("a success: %v", err)
	}
}

// TestRaw: the server's bytes as they are, with a line ending added only
// when missing.
func TestRaw(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`{"a":1}`: "{\"a\":1}\n", "[]\n": "[]\n", "": ""} {
		var b bytes.Buffer
		if err := Raw(&b, []byte(in)); err != nil || b.String() != want {
			t.Errorf("Raw(%q) wrote %q, %v; want %q", in, b.String(), err, want)
		}
	}
}
