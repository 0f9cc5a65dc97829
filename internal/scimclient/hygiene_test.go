package scimclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/egress"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, in, want string
	}{
		{name: "no token", token: "", in: "anything", want: "anything"},
		{name: "a long token anywhere", token: "s3cr3t-T0KEN", in: "Bearer s3cr3t-T0KEN;xs3cr3t-T0KENx", want: "Bearer [REDACTED];x[REDACTED]x"},
		{name: "a long token absent", token: "s3cr3t-T0KEN", in: "invalidSyntax", want: "invalidSyntax"},
		{name: "a one-letter token inside words stays", token: "x", in: "invalidSyntax: expected x, got xx", want: "invalidSyntax: expected [REDACTED], got xx"},
		{name: "a short token alone", token: "abc", in: "Bearer abc", want: "Bearer [REDACTED]"},
		{name: "a short token at both ends", token: "abc", in: "abc and abc", want: "[REDACTED] and [REDACTED]"},
		{name: "a short token inside words and numbers", token: "abc", in: "abcd xabc abc1 _abc", want: "abcd xabc abc1 _abc"},
		{name: "a short token between punctuation", token: "tok", in: `"tok",(tok)`, want: `"[REDACTED]",([REDACTED])`},
		{name: "a short token next to letters of other scripts", token: "ab", in: "éab abé ab", want: "éab abé [REDACTED]"},
		{name: "overlapping occurrences", token: "aa", in: "aaa aa", want: "aaa [REDACTED]"},
		{name: "a seven-character token is short", token: "1234567", in: "x12345678 1234567", want: "x12345678 [REDACTED]"},
		{name: "an eight-character token is long", token: "12345678", in: "x123456789", want: "x[REDACTED]9"},
	}
	for _, tc := range tests {
		c := &Client{token: tc.token}
		if got := c.redact(tc.in); got != tc.want {
			t.Errorf("%s: redact(%q) with token %q = %q; want %q", tc.name, tc.in, tc.token, got, tc.want)
		}
	}
}

// TestErrorBodies: what a target answers reaches the administrator only
// as a short SCIM error; anything else is described, not shown.
func TestErrorBodies(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d", 500)
	tests := []struct {
		name      string
		fault     fault
		want      string // the error's text after the status
		wantNever string
	}{
		{
			name:      "JSON that is not a SCIM error (no status)",
			fault:     fault{status: 422, header: map[string]string{"Content-Type": "application/json"}, body: `{"detail":"INTERNAL-SECRET=hunter2"}`},
			want:      "returned 422 Unprocessable Entity: the body is not a SCIM error (application/json, 36 bytes); it is not shown",
			wantNever: "hunter2",
		},
		{
			name:      "an internal service's page",
			fault:     fault{status: 403, header: map[string]string{"Content-Type": "text/html; charset=utf-8"}, body: "<h1>Admin console</h1><p>password: hunter2</p>"},
			want:      "returned 403 Forbidden: the body is not a SCIM error (text/html, 46 bytes); it is not shown",
			wantNever: "hunter2",
		},
		{
			name:  "no content type",
			fault: fault{status: 400, body: "x"},
			want:  "returned 400 Bad Request: the body is not a SCIM error (text/plain, 1 byte); it is not shown",
		},
		{
			name:  "a SCIM error's detail is cut to 200 characters, on one line",
			fault: fault{status: 400, body: scimError(400, "invalidValue", "bad\n\tvalue "+long)},
			want:  "returned 400 Bad Request: (invalidValue) bad value " + strings.Repeat("d", 190) + "…",
		},
		{
			name:  "a SCIM error's scimType is cut to 64 characters",
			fault: fault{status: 400, body: scimError(400, long, "bad")},
			want:  "returned 400 Bad Request: (" + strings.Repeat("d", 64) + "…) bad",
		},
		{
			name:      "a redirect shows where to, without the query",
			fault:     fault{status: 302, header: map[string]string{"Location": "https://login.example/sso?grant=hunter2"}},
			want:      "returned 302 Found: redirected to https://login.example/sso;",
			wantNever: "hunter2",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			tgt.script(http.MethodGet, tc.fault)
			c, _, _ := newTestClient(t, tgt.base())
			_, err := c.Get(t.Context(), "Users", "u-1", ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			if tc.wantNever != "" && strings.Contains(err.Error(), tc.wantNever) {
				t.Errorf("the error shows the body: %v", err)
			}
		})
	}
}

// TestEgressRefused: a client on a guarded HTTP client fails at once on a
// refused address, sends nothing, and says why.
func TestEgressRefused(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	c, clock, _ := newTestClient(t, tgt.base(), func(cfg *Config) { cfg.HTTPClient = (*egress.Policy)(nil).Client() })
	err := c.TestConnection(t.Context())
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeEgressRefused || e.Retryable || e.Attempts != 1 {
		t.Fatalf("TestConnection: %#v; want one attempt refused as EgressRefused, not retryable", err)
	}
	if !egress.IsRefused(err) {
		t.Errorf("the error does not wrap the refusal: %v", err)
	}
	for _, want := range []string{"127.0.0.1", "--egress-allow", "FERRY_EGRESS_ALLOW"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}
	if n := len(tgt.requests()); n != 0 || len(clock.Slept()) != 0 {
		t.Errorf("the target received %d requests and the client slept %v; want none", n, clock.Slept())
	}
}
