package scimclient

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// testTimeout is the attempt timeout of tests whose target blocks. It is
// long enough for a request to reach the handler on a loaded machine (under
// -race), so that what the target saw is certain, and short enough to keep
// the suite fast; the blocked tests run in parallel.
const testTimeout = 250 * time.Millisecond

// TestRetries drives idempotent requests through the fake target's faults
// and checks what was retried, what the client waited (on the fake clock)
// and how the outcome is classified.
func TestRetries(t *testing.T) {
	t.Parallel()
	start := newFakeClock().Now()
	get := func(ctx context.Context, c *Client, id string) error {
		_, err := c.Get(ctx, "Users", id, ReadOptions{})
		return err
	}
	patchActive := func(ctx context.Context, c *Client, id string) error {
		_, err := c.Patch(ctx, "Users", id, []Operation{{Op: patch.Replace, Path: "active", Value: false}})
		return err
	}
	del := func(ctx context.Context, c *Client, id string) error { return c.Delete(ctx, "Users", id) }
	find := func(ctx context.Context, c *Client, _ string) error {
		_, err := c.FindBy(ctx, "Users", "userName", "someone@example.com")
		return err
	}
	tests := []struct {
		name    string
		method  string
		faults  []fault
		timeout time.Duration
		call    func(context.Context, *Client, string) error
		// missing addresses an id the target does not have.
		missing bool

		wantCode      Code // "" for success
		wantRetryable bool
		wantSent      int
		// wantSleeps are the exact waits; sleepBounds, when set instead,
		// are exclusive upper bounds of jittered ones.
		wantSleeps  []time.Duration
		sleepBounds []time.Duration
		wantInError []string
	}{
		{
			name:       "429 with Retry-After in seconds waits that long",
			method:     http.MethodGet,
			faults:     []fault{{status: 429, header: map[string]string{"Retry-After": "7"}}},
			call:       get,
			wantSent:   2,
			wantSleeps: []time.Duration{7 * time.Second},
		},
		{
			name:   "429 with Retry-After as an HTTP-date waits until then",
			method: http.MethodGet,
			faults: []fault{{status: 429, header: map[string]string{
				"Retry-After": start.Add(9 * time.Second).Format(http.TimeFormat)}}},
			call:       get,
			wantSent:   2,
			wantSleeps: []time.Duration{9 * time.Second},
		},
		{
			name:       "Retry-After beyond the policy's MaxDelay is capped",
			method:     http.MethodPatch,
			faults:     []fault{{status: 429, header: map[string]string{"Retry-After": "3600"}}},
			call:       patchActive,
			wantSent:   2,
			wantSleeps: []time.Duration{testRetry.MaxDelay},
		},
		{
			name:       "503 with Retry-After is honoured too",
			method:     http.MethodDelete,
			faults:     []fault{{status: 503, header: map[string]string{"Retry-After": "2"}}},
			call:       del,
			wantSent:   2,
			wantSleeps: []time.Duration{2 * time.Second},
		},
		{
			name:        "503 twice is retried with growing jittered backoff",
			method:      http.MethodPatch,
			faults:      []fault{{status: 503}, {status: 503}},
			call:        patchActive,
			wantSent:    3,
			sleepBounds: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond},
		},
		{
			name:          "500 on every attempt gives up after MaxAttempts",
			method:        http.MethodGet,
			faults:        []fault{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}},
			call:          get,
			wantCode:      CodeInternalServerError,
			wantRetryable: true,
			wantSent:      4,
			sleepBounds:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
			wantInError:   []string{"returned 500 Internal Server Error", "(after 4 attempts)"},
		},
		{
			name:        "GET timeout is retried",
			method:      http.MethodGet,
			faults:      []fault{{block: true}},
			timeout:     testTimeout,
			call:        get,
			wantSent:    2,
			sleepBounds: []time.Duration{100 * time.Millisecond},
		},
		{
			name:        "PATCH timeout is retried",
			method:      http.MethodPatch,
			faults:      []fault{{block: true, applied: true}},
			timeout:     testTimeout,
			call:        patchActive,
			wantSent:    2,
			sleepBounds: []time.Duration{100 * time.Millisecond},
		},
		{
			name:          "timeouts on every attempt are code Timeout",
			method:        http.MethodGet,
			faults:        []fault{{block: true}, {block: true}, {block: true}, {block: true}},
			timeout:       testTimeout,
			call:          get,
			wantCode:      CodeTimeout,
			wantRetryable: true,
			wantSent:      4,
			sleepBounds:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
			wantInError:   []string{"timed out", "no complete response within 250ms"},
		},
		{
			name:        "a dropped connection is retried",
			method:      http.MethodGet,
			faults:      []fault{{hangup: true}},
			call:        get,
			wantSent:    2,
			sleepBounds: []time.Duration{100 * time.Millisecond},
		},
		{
			name:          "a connection dropped every time is WebExceptionProtocolError",
			method:        http.MethodDelete,
			faults:        []fault{{hangup: true}, {hangup: true}, {hangup: true}, {hangup: true}},
			call:          del,
			wantCode:      CodeWebExceptionProtocolError,
			wantRetryable: true,
			wantSent:      4,
			sleepBounds:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
		},
		{
			name:        "401 is not retried",
			method:      http.MethodGet,
			faults:      []fault{{status: 401, body: scimError(401, "", "Bearer token is invalid")}},
			call:        get,
			wantCode:    CodeUnauthorized,
			wantSent:    1,
			wantInError: []string{"returned 401 Unauthorized: Bearer token is invalid"},
		},
		{
			name:     "403 is InsufficientRights",
			method:   http.MethodPatch,
			faults:   []fault{{status: 403}},
			call:     patchActive,
			wantCode: CodeInsufficientRights,
			wantSent: 1,
		},
		{
			name:     "405 is MethodNotAllowed",
			method:   http.MethodDelete,
			faults:   []fault{{status: 405}},
			call:     del,
			wantCode: CodeMethodNotAllowed,
			wantSent: 1,
		},
		{
			name:     "501 is NotImplemented and not retried",
			method:   http.MethodPatch,
			faults:   []fault{{status: 501}},
			call:     patchActive,
			wantCode: CodeNotImplemented,
			wantSent: 1,
		},
		{
			name:        "409 on PATCH is EntryConflict with the target's scimType",
			method:      http.MethodPatch,
			faults:      []fault{{status: 409, body: scimError(409, scim.Uniqueness, "duplicate email")}},
			call:        patchActive,
			wantCode:    CodeEntryConflict,
			wantSent:    1,
			wantInError: []string{"returned 409 Conflict: (uniqueness) duplicate email"},
		},
		{
			name:        "400 names the rejected value",
			method:      http.MethodPatch,
			faults:      []fault{{status: 400, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidValue","detail":"locality is not supported"}`}},
			call:        patchActive,
			wantCode:    CodeBadRequest,
			wantSent:    1,
			wantInError: []string{"(invalidValue) locality is not supported"},
		},
		{
			name:          "a proxy's HTML error page is not shown, only its type and length",
			method:        http.MethodGet,
			faults:        []fault{{status: 502}, {status: 502}, {status: 502}, {status: 502, body: "<html>\n  <body>Bad   gateway</body>\n</html>"}},
			call:          get,
			wantCode:      CodeInternalServerError,
			wantRetryable: true,
			wantSent:      4,
			sleepBounds:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
			// The last attempt's body is what the error shows.
			wantInError: []string{"returned 502 Bad Gateway: the body is not a SCIM error (text/html, 43 bytes); it is not shown (after 4 attempts)"},
		},
		{
			name:        "404 on GET by id is InvalidAnchor",
			call:        get,
			missing:     true,
			wantCode:    CodeInvalidAnchor,
			wantSent:    1,
			wantInError: []string{"returned 404 Not Found: Resource nope not found"},
		},
		{name: "404 on PATCH is InvalidAnchor", call: patchActive, missing: true, wantCode: CodeInvalidAnchor, wantSent: 1},
		{name: "404 on DELETE is InvalidAnchor", call: del, missing: true, wantCode: CodeInvalidAnchor, wantSent: 1},
		{
			name:        "404 to a query is not InvalidAnchor",
			method:      http.MethodGet,
			faults:      []fault{{status: 404}},
			call:        find,
			wantCode:    CodeServiceIncompatible,
			wantSent:    1,
			wantInError: []string{`/Users?filter=userName eq "someone@example.com" returned 404 Not Found`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			id := seedUser(tgt)
			if tc.missing {
				id = "nope"
			}
			tgt.script(tc.method, tc.faults...)
			c, clock, logs := newTestClient(t, tgt.base(), func(cfg *Config) {
				if tc.timeout > 0 {
					cfg.Timeout = tc.timeout
				}
			})
			defer func() {
				if t.Failed() {
					t.Logf("client log:\n%s", logs)
				}
			}()
			err := tc.call(t.Context(), c, id)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
			} else {
				e := asError(t, err)
				if e.Code != tc.wantCode || e.Retryable != tc.wantRetryable {
					t.Errorf("Code, Retryable = %s, %v; want %s, %v (%v)", e.Code, e.Retryable, tc.wantCode, tc.wantRetryable, err)
				}
				if e.Attempts != tc.wantSent {
					t.Errorf("Attempts = %d, want %d", e.Attempts, tc.wantSent)
				}
				if got := IsNotFound(err); got != (tc.wantCode == CodeInvalidAnchor) {
					t.Errorf("IsNotFound = %v", got)
				}
				for _, s := range tc.wantInError {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			}
			if n := tgt.settled("", tc.wantSent); n != tc.wantSent {
				t.Errorf("target received %d requests, want %d", n, tc.wantSent)
			}
			checkSleeps(t, clock.Slept(), tc.wantSleeps, tc.sleepBounds)
		})
	}
}

func checkSleeps(t *testing.T, got, exact, bounds []time.Duration) {
	t.Helper()
	if bounds == nil {
		if len(got) != len(exact) {
			t.Fatalf("slept %v, want %v", got, exact)
		}
		for i := range got {
			if got[i] != exact[i] {
				t.Errorf("slept %v, want %v", got, exact)
			}
		}
		return
	}
	if len(got) != len(bounds) {
		t.Fatalf("slept %v, want %d waits below %v", got, len(bounds), bounds)
	}
	for i, d := range got {
		if d < 0 || d >= bounds[i] {
			t.Errorf("wait %d = %v, want in [0, %v)", i+1, d, bounds[i])
		}
	}
}

// TestRetryAfterHoldsBackOtherCalls: a 429's Retry-After applies to the
// Client, so the next call waits even though it was not the one told.
func TestRetryAfterHoldsBackOtherCalls(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	id := seedUser(tgt)
	tgt.script(http.MethodGet, fault{status: 429, header: map[string]string{"Retry-After": "5"}})
	c, clock, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })

	_, err := c.Get(t.Context(), "Users", id, ReadOptions{})
	if e := asError(t, err); e.Code != CodeTooManyRequests || !e.Retryable {
		t.Fatalf("first call: %v (code %s)", err, e.Code)
	}
	if got := clock.Slept(); len(got) != 0 {
		t.Fatalf("with MaxAttempts 1 the failing call slept %v", got)
	}
	if _, err := c.Get(t.Context(), "Users", id, ReadOptions{}); err != nil {
		t.Fatalf("second call: %v", err)
	}
	checkSleeps(t, clock.Slept(), []time.Duration{5 * time.Second}, nil)
}

// TestCreate proves that a POST is never resent blindly: after an ambiguous
// failure or a conflict the object is re-matched, and only re-created when
// it is not there.
func TestCreate(t *testing.T) {
	t.Parallel()
	const userName = "ada@example.com"
	tests := []struct {
		name    string
		faults  []fault
		exists  bool // the user is in the target before the POST
		noMatch bool // pass a nil rematch

		wantCode    Code // "" for success
		wantMatched bool
		wantPOSTs   int
		wantMatches int
	}{
		{name: "201 creates", wantPOSTs: 1},
		{
			name:        "503 after creating: re-match finds it, no second POST",
			faults:      []fault{{status: 503, applied: true}},
			wantMatched: true, wantPOSTs: 1, wantMatches: 1,
		},
		{
			name:        "timeout after creating: re-match finds it, no second POST",
			faults:      []fault{{block: true, applied: true}},
			wantMatched: true, wantPOSTs: 1, wantMatches: 1,
		},
		{
			name:      "503 before creating: re-match finds nothing, POST again",
			faults:    []fault{{status: 503}},
			wantPOSTs: 2, wantMatches: 1,
		},
		{
			name:      "timeout before creating: re-match finds nothing, POST again",
			faults:    []fault{{block: true}},
			wantPOSTs: 2, wantMatches: 1,
		},
		{
			name:      "429 twice, then created",
			faults:    []fault{{status: 429, header: map[string]string{"Retry-After": "1"}}, {status: 429}},
			wantPOSTs: 3, wantMatches: 2,
		},
		{
			name:        "409 re-matches and links the existing object",
			exists:      true,
			wantMatched: true, wantPOSTs: 1, wantMatches: 1,
		},
		{
			name:      "409 with nothing to re-match is the conflict",
			faults:    []fault{{status: 409, body: scimError(409, scim.Uniqueness, "email taken")}},
			wantCode:  CodeEntryConflict,
			wantPOSTs: 1, wantMatches: 1,
		},
		{
			name:      "without rematch a 503 is returned after one POST",
			faults:    []fault{{status: 503, applied: true}},
			noMatch:   true,
			wantCode:  CodeInternalServerError,
			wantPOSTs: 1,
		},
		{
			name:      "400 is not re-matched",
			faults:    []fault{{status: 400, body: scimError(400, scim.InvalidValue, "bad email")}},
			wantCode:  CodeBadRequest,
			wantPOSTs: 1,
		},
		{
			name:      "201 without an id is ServiceIncompatible",
			faults:    []fault{{status: 201, body: `{"userName":"ada@example.com"}`}},
			wantCode:  CodeServiceIncompatible,
			wantPOSTs: 1,
		},
		{
			name:      "201 with a body that is not JSON is ServiceIncompatible",
			faults:    []fault{{status: 201, body: `Created`}},
			wantCode:  CodeServiceIncompatible,
			wantPOSTs: 1,
		},
		{
			name:        "503 on every POST gives up after MaxAttempts",
			faults:      []fault{{status: 503}, {status: 503}, {status: 503}, {status: 503}},
			wantCode:    CodeInternalServerError,
			wantPOSTs:   4,
			wantMatches: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			if tc.exists {
				tgt.put("Users", resource.Document{"userName": userName})
			}
			tgt.script(http.MethodPost, tc.faults...)
			c, _, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.Timeout = testTimeout })
			matches := 0
			rematch := func(ctx context.Context) (resource.Document, bool, error) {
				matches++
				return c.Match(ctx, "Users", "userName", userName)
			}
			if tc.noMatch {
				rematch = nil
			}
			doc, matched, err := c.Create(t.Context(), "Users", resource.Document{
				"schemas": []any{scim.UserURN}, "userName": userName, "active": true}, rematch)
			if tc.wantCode != "" {
				if e := asError(t, err); e.Code != tc.wantCode {
					t.Errorf("Code = %s, want %s (%v)", e.Code, tc.wantCode, err)
				}
			} else {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if id, _ := doc.String("id"); id == "" || matched != tc.wantMatched {
					t.Errorf("Create = id %q, matched %v; want an id, matched %v", id, matched, tc.wantMatched)
				}
			}
			if n := tgt.settled(http.MethodPost, tc.wantPOSTs); n != tc.wantPOSTs {
				t.Errorf("target received %d POSTs, want %d", n, tc.wantPOSTs)
			}
			if matches != tc.wantMatches {
				t.Errorf("rematch called %d times, want %d", matches, tc.wantMatches)
			}
			if tc.wantCode == "" {
				if n := len(tgt.objects["Users"]); n != 1 {
					t.Errorf("target holds %d users, want 1", n)
				}
			}
		})
	}
}
