package scimclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		base        string
		profile     Profile
		wantBase    string
		wantProfile Profile
		wantErr     string
	}{
		{name: "trailing slash", base: "https://platform.ringcentral.com/scim/v2/", wantBase: "https://platform.ringcentral.com/scim/v2", wantProfile: RFC7644},
		{name: "explicit entra", base: "https://x.example/scim", profile: Entra, wantBase: "https://x.example/scim", wantProfile: Entra},
		{name: "Entra's compliance flag", base: "https://x.example/scim/?aadOptscim062020", wantBase: "https://x.example/scim", wantProfile: RFC7644},
		{name: "Entra's downgrade flag", base: "https://x.example/scim?AzureAdScimPatch2017", wantBase: "https://x.example/scim", wantProfile: Entra},
		{name: "flag contradicting the profile", base: "https://x.example/scim?aadOptscim062020", profile: Entra, wantErr: "contradicts"},
		{name: "other query", base: "https://x.example/scim?api_key=abc", wantErr: "has a query"},
		{name: "credentials in the URL", base: "https://admin:hunter2@x.example/scim", wantErr: "must not carry credentials"},
		{name: "not http", base: "ftp://x.example/scim", wantErr: "not an absolute http(s) URL"},
		{name: "relative", base: "/scim/v2", wantErr: "not an absolute http(s) URL"},
		{name: "unknown profile", base: "https://x.example/scim", profile: "okta", wantErr: "unknown profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(Config{BaseURL: tc.base, Profile: tc.profile})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc") {
					t.Errorf("error %q repeats a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.base != tc.wantBase || c.Profile() != tc.wantProfile {
				t.Errorf("base, profile = %s, %s; want %s, %s", c.base, c.Profile(), tc.wantBase, tc.wantProfile)
			}
		})
	}
}

// TestRateLimit checks that N requests at R req/s spend (N-burst)/R of
// limiter time, on the fake clock.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rate     rate.Limit
		burst    int
		requests int
		want     time.Duration
	}{
		{name: "10/s, burst 1", rate: 10, burst: 1, requests: 21, want: 2 * time.Second},
		{name: "10/s, burst 5", rate: 10, burst: 5, requests: 21, want: 1600 * time.Millisecond},
		{name: "default 25/s", requests: 26, want: time.Second},
		{name: "RingCentral reads, 300/min", rate: 5, burst: 1, requests: 11, want: 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			id := seedUser(tgt)
			c, clock, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.RateLimit, cfg.Burst = tc.rate, tc.burst })
			for range tc.requests {
				if _, err := c.Get(t.Context(), "Users", id, ReadOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if got := totalSlept(clock); got < tc.want-time.Millisecond || got > tc.want+time.Millisecond {
				t.Errorf("limiter waited %v in all, want %v", got, tc.want)
			}
		})
	}
}

// TestRateLimitCountsRetries: every attempt takes a token, so a retried
// request costs two.
func TestRateLimitCountsRetries(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	tgt.script(http.MethodGet, fault{status: 503, header: map[string]string{"Retry-After": "0"}})
	c, clock, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.RateLimit, cfg.Burst = 2, 1 })
	if _, err := c.Get(t.Context(), "Users", id, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	checkSleeps(t, clock.Slept(), []time.Duration{500 * time.Millisecond}, nil)
}

// TestConcurrentUse runs many calls at once on one Client; run with -race
// where the race detector is available.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	group := seedGroup(tgt)
	c, clock, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.RateLimit, cfg.Burst = 100, 1 })
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			doc, _, err := c.Create(t.Context(), "Users", resource.Document{"userName": fmt.Sprintf("u%d@example.com", i)}, nil)
			if err != nil {
				errs <- err
				return
			}
			id, _ := doc.String("id")
			errs <- c.AddMembers(t.Context(), group, []string{id})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(tgt.requests()); got != 40 {
		t.Errorf("target received %d requests, want 40", got)
	}
	// How often each goroutine waited depends on scheduling, as all share
	// the fake clock; that the limiter was consulted is enough here.
	if len(clock.Slept()) == 0 {
		t.Error("40 requests at 100/s with a burst of 1 never waited")
	}
	if got := len(tgt.objects["Users"]); got != 20 {
		t.Errorf("target holds %d users, want 20", got)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	tgt.script(http.MethodGet, fault{status: 503})
	c, _, _ := newTestClient(t, tgt.base())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Get(ctx, "Users", id, ReadOptions{})
	if !errors.Is(err, context.Canceled) || CodeOf(err) != "" {
		t.Errorf("err = %v (code %q), want context.Canceled and no code", err, CodeOf(err))
	}
}

// TestGate: a context's gate is asked right before each attempt is sent;
// while it refuses, nothing reaches the target, and its error is the
// call's.
func TestGate(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	c, _, _ := newTestClient(t, tgt.base())
	closed := errors.New("the gate is closed")
	open := true
	ctx := WithGate(t.Context(), func(string) error {
		if open {
			return nil
		}
		return closed
	})
	if _, err := c.Get(ctx, "Users", id, ReadOptions{}); err != nil {
		t.Fatalf("through an open gate: %v", err)
	}
	before := tgt.count("")
	open = false
	_, err := c.Patch(ctx, "Users", id, []Operation{{Op: "replace", Path: "title", Value: "x"}})
	if !errors.Is(err, closed) {
		t.Errorf("through a closed gate: %v; want the gate's error", err)
	}
	if n := tgt.count("") - before; n != 0 {
		t.Errorf("%d requests reached the target through a closed gate", n)
	}
}

func TestPatchRejectsBadOperations(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	c, _, _ := newTestClient(t, tgt.base())
	tests := []struct {
		name string
		op   Operation
	}{
		{name: "unknown op", op: Operation{Op: "move", Path: "title", Value: "x"}},
		{name: "remove without path", op: Operation{Op: patch.Remove}},
		{name: "bad path", op: Operation{Op: patch.Replace, Path: `emails[type eq]`, Value: "x"}},
	}
	for _, tc := range tests {
		if _, err := c.Patch(t.Context(), "Users", id, []Operation{tc.op}); err == nil {
			t.Errorf("%s: Patch accepted %+v", tc.name, tc.op)
		}
	}
	if _, err := c.Patch(t.Context(), "Users", id, nil); err != nil {
		t.Errorf("no operations: %v", err)
	}
	if n := len(tgt.requests()); n != 0 {
		t.Errorf("target received %d requests, want none", n)
	}
}

// TestTokenNeverLeaks runs failing and succeeding calls, including a target
// that echoes the Authorization header in its error detail, and looks for
// the token in every error and in the debug log.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	echo := scimError(401, "", "bad credentials: Bearer "+testToken)
	tgt.script(http.MethodGet,
		fault{status: 401, body: echo},
		fault{status: 401, body: echo},
		fault{status: 500, body: "upstream said Authorization: Bearer " + testToken},
		fault{status: 500}, fault{status: 500}, fault{status: 500},
	)
	// DELETE, because net/http itself resends a GET whose reused
	// connection drops.
	tgt.script(http.MethodDelete, fault{hangup: true}, fault{hangup: true}, fault{hangup: true}, fault{hangup: true})
	tgt.script(http.MethodPost, fault{status: 409, body: echo})
	c, _, logs := newTestClient(t, tgt.base())

	var errs []error
	_, err := c.Get(t.Context(), "Users", id, ReadOptions{})
	errs = append(errs, err, c.TestConnection(t.Context()))
	_, err = c.Get(t.Context(), "Users", id, ReadOptions{})
	errs = append(errs, err)
	errs = append(errs, c.Delete(t.Context(), "Users", id))
	_, _, err = c.Create(t.Context(), "Users", resource.Document{"userName": "x@example.com"},
		func(context.Context) (resource.Document, bool, error) { return nil, false, nil })
	errs = append(errs, err)
	_, err = c.Get(t.Context(), "Users", "nope", ReadOptions{})
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded; every call here should fail", i)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%+v", err), testToken) {
			t.Errorf("error %d leaks the token: %v", i, err)
		}
	}
	if !strings.Contains(errs[0].Error(), "bad credentials: Bearer [REDACTED]") {
		t.Errorf("echoed token not redacted as expected: %v", errs[0])
	}
	out := logs.String()
	if !strings.Contains(out, `"status":401`) {
		t.Fatalf("debug log looks empty:\n%s", out)
	}
	if strings.Contains(out, testToken) {
		t.Errorf("log leaks the token:\n%s", out)
	}
}

// observed records what an Observer is told.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) TargetRequest(method string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", method, status))
}

// TestObserver checks that every attempt is observed, a retried one's too.
func TestObserver(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	tgt.script(http.MethodGet, fault{status: 503, header: map[string]string{"Retry-After": "0"}})
	obs := &observed{}
	c, _, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.Observer = obs })
	if _, err := c.Get(t.Context(), "Users", id, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(obs.calls, ", "), "GET 503, GET 200"; got != want {
		t.Fatalf("observed %q, want %q", got, want)
	}
}
