// Package scimclient is the provisioning engine's outbound SCIM 2.0 client:
// it reads, matches, creates, patches and deletes objects in one
// application's SCIM endpoint, sending what Microsoft Entra ID's provisioning
// service sends, paced by a token bucket and retried the way the target's
// failures allow. Entra's requests are documented in
// https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
// and, for their aadOptscim062020 forms,
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility.
//
// A Client is made for one application and is safe for concurrent use; its
// rate limit is shared by every call. A call whose context is done sends
// nothing more, but a request already sent is completed (within the
// timeout) whatever its context: its outcome decides what the engine
// records. Failures are *Error values carrying an
// Entra provisioning-log Code. The token is sent only in the Authorization
// header: it appears in no error and no log line.
package scimclient

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/scim"
)

// Profile selects how PATCH requests are written on the wire. Other requests
// are the same under every profile.
type Profile string

const (
	// RFC7644 writes PATCH as RFC 7644 §3.5.2 specifies and as Entra does
	// with its aadOptscim062020 flag: lower-case ops, JSON booleans, and
	// member removal as one "members[value eq \"id\"]" op per member.
	RFC7644 Profile = "rfc7644"
	// Entra writes PATCH as Entra ID does by default today, for targets
	// built and tested against it: "Add"/"Replace"/"Remove", booleans as
	// the strings "True"/"False", member removal as a "members" op with a
	// value array, and "$ref": null in added members.
	Entra Profile = "entra"
)

// The query flags an Entra Tenant URL may carry; see
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility#flags-to-alter-the-scim-behavior.
// Accepting them lets an administrator paste the URL they used with Entra.
const (
	flagCompliant = "aadOptscim062020"     // means RFC7644
	flagLegacy    = "AzureAdScimPatch2017" // means Entra
)

// Defaults for the zero values of Config and RetryPolicy.
const (
	// DefaultRateLimit is the rate Entra requires gallery apps to support,
	// in requests per second; see
	// https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#gallery-onboarding-checklist.
	DefaultRateLimit rate.Limit = 25
	// DefaultTimeout bounds one attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultMemberChunk is how many members Entra puts in one PATCH.
	DefaultMemberChunk = 50
	// DefaultMaxResponseBytes is enough for a page of a few hundred large
	// users.
	DefaultMaxResponseBytes = 16 << 20
	// DefaultMaxAttempts, DefaultBaseDelay and DefaultMaxDelay make the
	// default RetryPolicy: waits of at most 0.5 s, 1 s and 2 s between four
	// attempts, or what Retry-After says up to a minute.
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 60 * time.Second
)

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the application's SCIM base, Entra's "Tenant URL", e.g.
	// https://platform.ringcentral.com/scim/v2. A trailing slash is
	// ignored. It may not carry credentials or a query, except Entra's
	// ?aadOptscim062020 or ?AzureAdScimPatch2017 flag, which selects the
	// matching Profile when Profile is empty.
	BaseURL string
	// Token is the bearer token (Entra's "Secret Token"); empty sends no
	// Authorization header.
	Token string
	// Profile is the PATCH wire format; empty means RFC7644.
	Profile Profile
	// RateLimit is the sustained request rate in requests per second, over
	// all calls and attempts; 0 means DefaultRateLimit, rate.Inf no limit.
	RateLimit rate.Limit
	// Burst is how many requests may go out at once after a quiet spell; 0
	// means 1, which spaces requests evenly and so never exceeds RateLimit
	// in any window a target might measure.
	Burst int
	// HTTPClient sends the requests. nil means a client with a connection
	// pool of its own (a clone of http.DefaultTransport, so that nothing
	// else closing the shared pool breaks a Client's requests) that does not
	// follow redirects (a redirected POST would turn into a GET). The
	// provisioning engine passes an egress.Policy's client, which also
	// refuses addresses the operator did not allow (CodeEgressRefused).
	HTTPClient *http.Client
	// Timeout bounds each attempt, from sending the request to reading the
	// whole response; 0 means DefaultTimeout.
	Timeout time.Duration
	// Retry says how transient failures are retried.
	Retry RetryPolicy
	// MemberChunk is the most members one membership PATCH carries; 0 means
	// DefaultMemberChunk, as Entra sends.
	MemberChunk int
	// MaxResponseBytes caps how much of a response body is read; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Clock tells the time and waits (rate limit, backoff, Retry-After);
	// nil means the real clock. Tests pass a fake one.
	Clock Clock
	// Rand draws backoff jitter and Test Connection's random GUID; nil
	// means a source seeded from crypto/rand. The Client serialises its use.
	Rand *rand.Rand
	// Logger receives one debug line per attempt and notes about retries;
	// nil discards them.
	Logger *slog.Logger
	// Observer is told of every attempt sent, for metrics; nil tells no
	// one.
	Observer Observer
}

// Observer is told of every request a Client sends, each attempt of a
// retried one included.
type Observer interface {
	// TargetRequest is one attempt: its method, the response's status (0
	// when none came: a timeout, a refused connection) and how long it
	// took on the Client's clock.
	TargetRequest(method string, status int, elapsed time.Duration)
}

// RetryPolicy says how a Client retries transient failures (network errors,
// timeouts, 429 and 5xx but 501): exponential backoff with full jitter,
// BaseDelay·2ⁿ⁻¹ at most after the n-th attempt, never more than MaxDelay.
// A Retry-After header on 429 or 503 replaces the backoff, capped at MaxDelay.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most, the first
	// included; 0 means DefaultMaxAttempts, 1 no retries.
	MaxAttempts int
	// BaseDelay is the backoff bound after the first attempt; 0 means
	// DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps every wait; 0 means DefaultMaxDelay.
	MaxDelay time.Duration
}

// Clock is the time source a Client waits on.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the system's clock. Its Now is time.Now, whose readings
// carry the monotonic clock: the time between two of them is the time that
// passed, whatever is done to the wall clock in between.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done, returning ctx.Err() then.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Client talks to one application's SCIM endpoint. It is safe for
// concurrent use.
type Client struct {
	base        string // scheme://host/path, no trailing slash
	token       string
	profile     Profile
	hc          *http.Client
	limiter     *rate.Limiter
	timeout     time.Duration
	retry       RetryPolicy
	memberChunk int
	maxBody     int64
	clock       Clock
	log         *slog.Logger
	obs         Observer // nil: none

	mu  sync.Mutex
	rnd *rand.Rand
	// holdUntil is when the target, through a Retry-After, allowed requests
	// again. It holds back every call, not only the one that was told, as
	// the target's budget is per client.
	holdUntil time.Time
}

// New returns a Client for cfg, or an error when cfg cannot work.
func New(cfg Config) (*Client, error) {
	base, profile, err := parseBase(cfg.BaseURL, cfg.Profile)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:        base,
		token:       cfg.Token,
		profile:     profile,
		hc:          cfg.HTTPClient,
		timeout:     cfg.Timeout,
		retry:       cfg.Retry,
		memberChunk: cfg.MemberChunk,
		maxBody:     cfg.MaxResponseBytes,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		obs:         cfg.Observer,
		rnd:         cfg.Rand,
	}
	limit, burst := cfg.RateLimit, cfg.Burst
	switch {
	case limit == 0:
		limit = DefaultRateLimit
	case limit < 0:
		return nil, fmt.Errorf("scim client: rate limit %v is negative", float64(limit))
	}
	if burst == 0 {
		burst = 1
	}
	if burst < 0 {
		return nil, fmt.Errorf("scim client: burst %d is negative", burst)
	}
	c.limiter = rate.NewLimiter(limit, burst)
	if c.hc == nil {
		c.hc = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retry.MaxAttempts <= 0 {
		c.retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.retry.BaseDelay <= 0 {
		c.retry.BaseDelay = DefaultBaseDelay
	}
	if c.retry.MaxDelay <= 0 {
		c.retry.MaxDelay = DefaultMaxDelay
	}
	if c.memberChunk <= 0 {
		c.memberChunk = DefaultMemberChunk
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.clock == nil {
		c.clock = RealClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.rnd == nil {
		var seed [16]byte
		_, _ = crand.Read(seed[:]) // never fails (Go 1.24+)
		c.rnd = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	return c, nil
}

// parseBase checks the Tenant URL and reads an Entra flag from its query.
func parseBase(raw string, profile Profile) (string, Profile, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not echoed: a malformed one may hold a secret.
		return "", "", errors.New("scim client: base URL is not an absolute http(s) URL")
	}
	if u.User != nil {
		return "", "", fmt.Errorf("scim client: base URL %s must not carry credentials; set the token instead", u.Redacted())
	}
	if u.Fragment != "" {
		return "", "", fmt.Errorf("scim client: base URL %s must not have a fragment", u.Redacted())
	}
	var flagged Profile
	switch u.RawQuery {
	case "":
	case flagCompliant:
		flagged = RFC7644
	case flagLegacy:
		flagged = Entra
	default:
		// The query is not echoed: some targets take an API key there.
		u.RawQuery = ""
		return "", "", fmt.Errorf("scim client: base URL %s has a query; only ?%s or ?%s is understood", u.Redacted(), flagCompliant, flagLegacy)
	}
	switch {
	case profile == "" && flagged != "":
		profile = flagged
	case profile == "":
		profile = RFC7644
	case profile != RFC7644 && profile != Entra:
		return "", "", fmt.Errorf("scim client: unknown profile %q (want %q or %q)", profile, RFC7644, Entra)
	case flagged != "" && flagged != profile:
		return "", "", fmt.Errorf("scim client: base URL flag ?%s contradicts profile %q", u.RawQuery, profile)
	}
	u.RawQuery, u.ForceQuery = "", false
	return strings.TrimRight(u.String(), "/"), profile, nil
}

// Profile returns the PATCH wire profile the Client uses.
func (c *Client) Profile() Profile { return c.profile }

// request is one logical request; it may be sent several times.
type request struct {
	method string
	path   string // relative to the base, escaped, starting with "/"
	query  url.Values
	body   []byte
	// retry allows resending after a transient failure: the request is
	// idempotent. POST never sets it; Create decides instead.
	retry bool
	// byID says the path names one object, so that 404 means it is gone.
	byID bool
}

func (r *request) url(base string) string {
	u := base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	return u
}

// gateKey is the context key of a request gate.
type gateKey struct{}

// WithGate returns a context whose requests are sent only while gate
// returns nil for their method: it is called right before each attempt
// goes out, after the rate limit's wait. The engine's gate checks that its
// process still holds the job's lease by its own monotonic clock, so that a
// process paused past its lease sends nothing when it wakes, before any
// other goroutine of its own could notice; a plan's gate lets only reads
// through.
func WithGate(ctx context.Context, gate func(method string) error) context.Context {
	return context.WithValue(ctx, gateKey{}, gate)
}

// response is a response read in full.
type response struct {
	status   int
	header   http.Header
	body     []byte
	attempts int // how many times the request was sent
}

// do sends r, retrying transient failures when r allows it. A non-2xx
// status is an *Error.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	for n := 1; ; n++ {
		resp, err := c.attempt(ctx, r, n)
		if err == nil {
			return resp, nil
		}
		var e *Error
		if !r.retry || !errors.As(err, &e) || !e.Retryable || n >= c.retry.MaxAttempts {
			return nil, err
		}
		if err := c.backoff(ctx, e, n); err != nil {
			return nil, err
		}
	}
}

// attempt sends r once, after waiting for the rate limit, and classifies
// the outcome. n is the attempt number, recorded in an *Error.
func (c *Client) attempt(ctx context.Context, r *request, n int) (*response, error) {
	target := r.url(c.base)
	if err := c.wait(ctx); err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, target, err)
	}
	// A caller that gave up (provisioning turned Off, a shutdown) sends
	// nothing more; but a request once sent is always completed, within
	// the timeout: its outcome is what the caller records, and a write cut
	// off mid-way would leave the target in a state nobody knows.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s %s: not sent: %w", r.method, target, err)
	}
	if gate, ok := ctx.Value(gateKey{}).(func(string) error); ok {
		if err := gate(r.method); err != nil {
			return nil, fmt.Errorf("%s %s: not sent: %w", r.method, target, err)
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(actx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, target, err)
	}
	hr.Header.Set("Accept", "application/scim+json")
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	hr.Header.Set("User-Agent", "Ferry")

	start := c.clock.Now()
	resp, err := c.hc.Do(hr)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
		resp.Body.Close()
	}
	if c.obs != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.obs.TargetRequest(r.method, status, c.clock.Now().Sub(start))
	}
	if err != nil {
		e := &Error{Method: r.method, URL: target, Attempts: n, Retryable: true, Err: err}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			e.Code = CodeTimeout
			e.Detail = fmt.Sprintf("no complete response within %v", c.timeout)
		} else if egress.IsRefused(err) {
			// Nothing was sent, and nothing will be until the operator
			// allows the address: trying again cannot help.
			e.Code, e.Retryable = CodeEgressRefused, false
			var re *egress.RefusedError
			errors.As(err, &re)
			e.Detail = re.Error()
		} else {
			e.Code = CodeWebExceptionProtocolError
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // its message repeats the method and URL
			}
			e.Detail = c.redact(err.Error())
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "scim request failed",
			slog.String("method", r.method), slog.String("url", target), slog.Int("attempt", n),
			slog.String("code", string(e.Code)), slog.String("error", e.Detail))
		return nil, e
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "scim request",
		slog.String("method", r.method), slog.String("url", target), slog.Int("attempt", n),
		slog.Int("status", resp.StatusCode), slog.Duration("elapsed", c.clock.Now().Sub(start)))

	out := &response{status: resp.StatusCode, header: resp.Header, body: data, attempts: n}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if int64(len(data)) > c.maxBody {
			return nil, &Error{Method: r.method, URL: target, Status: resp.StatusCode, Attempts: n,
				Code:   CodeServiceIncompatible,
				Detail: fmt.Sprintf("the response body is larger than %d bytes", c.maxBody)}
		}
		return out, nil
	}
	e := c.statusError(r, target, out, n)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := c.retryAfter(resp.Header); ok {
			e.retryAfter = true
			c.hold(d)
		}
	}
	return nil, e
}

// statusError builds the *Error for a non-2xx response.
func (c *Client) statusError(r *request, target string, resp *response, n int) *Error {
	code, retryable := classify(resp.status, r.byID)
	e := &Error{Method: r.method, URL: target, Status: resp.status, Code: code, Retryable: retryable, Attempts: n}
	body := resp.body
	if int64(len(body)) > c.maxBody {
		body = body[:c.maxBody]
	}
	var se scim.Error
	if err := se.UnmarshalJSON(body); err == nil && (se.Detail != "" || se.ScimType != "") {
		e.ScimType = clip(c.redact(se.ScimType), maxScimType)
		e.Detail = clip(c.redact(se.Detail), maxDetail)
		se.ScimType, se.Detail = e.ScimType, e.Detail
		e.Err = &se
	} else if len(body) > 0 {
		e.Detail = describe(resp.header, body)
	}
	if loc := resp.header.Get("Location"); loc != "" && resp.status >= 300 && resp.status <= 399 {
		if u, err := url.Parse(loc); err == nil {
			// Where to, not what with: a query may carry a grant.
			u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
			e.Detail = strings.TrimSpace("redirected to " + clip(c.redact(u.String()), maxDetail) + "; " + e.Detail)
		}
	}
	return e
}

// backoff waits before attempt n+1 after e: as long as the target's
// Retry-After said when it sent one (recorded as the hold, so "0" means at
// once), jittered exponential backoff otherwise; never less than a hold
// another call was given.
func (c *Client) backoff(ctx context.Context, e *Error, n int) error {
	var d time.Duration
	if !e.retryAfter {
		d = c.jitter(n)
	}
	d = max(d, c.holdRemaining())
	c.log.LogAttrs(ctx, slog.LevelInfo, "scim request will be retried",
		slog.String("method", e.Method), slog.String("url", e.URL), slog.Int("attempt", n),
		slog.String("code", string(e.Code)), slog.Duration("delay", d))
	if d <= 0 {
		return nil
	}
	if err := c.clock.Sleep(ctx, d); err != nil {
		return fmt.Errorf("%s %s: waiting to retry: %w", e.Method, e.URL, err)
	}
	return nil
}

// jitter returns the full-jitter backoff after attempt n: uniform in
// [0, min(MaxDelay, BaseDelay·2ⁿ⁻¹)).
func (c *Client) jitter(n int) time.Duration {
	bound := c.retry.MaxDelay
	if n-1 < 32 {
		if b := c.retry.BaseDelay << (n - 1); b > 0 && b < bound {
			bound = b
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.rnd.Int64N(int64(bound)))
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP-date,
// capped at the policy's MaxDelay.
func (c *Client) retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(c.retry.MaxDelay/time.Second)+1)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(c.clock.Now())
	} else {
		return 0, false
	}
	return max(0, min(d, c.retry.MaxDelay)), true
}

// hold keeps every request of the Client back for d from now.
func (c *Client) hold(d time.Duration) {
	until := c.clock.Now().Add(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.holdUntil) {
		c.holdUntil = until
	}
}

func (c *Client) holdRemaining() time.Duration {
	c.mu.Lock()
	until := c.holdUntil
	c.mu.Unlock()
	return until.Sub(c.clock.Now())
}

// wait blocks until a request may be sent: after any Retry-After hold, then
// a token from the shared bucket. Reservations are taken at the Client's
// clock so that a fake clock drives the limiter too.
func (c *Client) wait(ctx context.Context) error {
	if d := c.holdRemaining(); d > 0 {
		if err := c.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
	now := c.clock.Now()
	res := c.limiter.ReserveN(now, 1)
	if !res.OK() {
		return errors.New("rate limiter cannot grant a request")
	}
	if d := res.DelayFrom(now); d > 0 {
		if err := c.clock.Sleep(ctx, d); err != nil {
			res.CancelAt(c.clock.Now())
			return err
		}
	}
	return nil
}

// minWholeToken is the length from which redact replaces a token wherever
// it occurs. Ferry refuses shorter secret tokens, but a Client may be given
// one.
const minWholeToken = 8

// redact replaces the token in text that came from the target, in case a
// target echoes the request's headers back. A token of minWholeToken
// characters or more is replaced wherever it occurs; a shorter one only
// where it stands alone, not inside a longer word: a one-letter token must
// not turn "invalidSyntax" into "invalidSynta[REDACTED]".
func (c *Client) redact(s string) string {
	const mask = "[REDACTED]"
	t := c.token
	if t == "" || !strings.Contains(s, t) {
		return s
	}
	if utf8.RuneCountInString(t) >= minWholeToken {
		return strings.ReplaceAll(s, t, mask)
	}
	var b strings.Builder
	written := 0
	for at := 0; ; {
		i := strings.Index(s[at:], t)
		if i < 0 {
			break
		}
		i += at
		end := i + len(t)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (i == 0 || !isWordRune(before)) && (end == len(s) || !isWordRune(after)) {
			b.WriteString(s[written:i])
			b.WriteString(mask)
			written, at = end, end
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		at = i + n
	}
	b.WriteString(s[written:])
	return b.String()
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// How much of a target's SCIM error an *Error carries: enough to say what
// the target refused, not a channel for whatever else it wants to say.
const (
	maxDetail   = 200
	maxScimType = 64
)

// clip makes s one line of at most limit characters.
func clip(s string, limit int) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}

// describe says what a body that is not a SCIM error was, without its
// content: what a target answers is shown to the administrator, and a
// target that is not a SCIM endpoint (an internal service, a proxy's page)
// must not have its answers read through Ferry.
func describe(h http.Header, body []byte) string {
	ctype := "no content type"
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt != "" {
		ctype = clip(mt, 64)
	}
	size := fmt.Sprintf("%d bytes", len(body))
	if len(body) == 1 {
		size = "1 byte"
	}
	return fmt.Sprintf("the body is not a SCIM error (%s, %s); it is not shown", ctype, size)
}

// guid returns a random version 4 UUID.
func (c *Client) guid() string {
	c.mu.Lock()
	hi, lo := c.rnd.Uint64(), c.rnd.Uint64()
	c.mu.Unlock()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// resourcePath returns "/<type>" or "/<type>/<id>", escaped.
func resourcePath(resourceType string, id ...string) (string, error) {
	if resourceType == "" || strings.ContainsAny(resourceType, "/?#") {
		return "", fmt.Errorf("resource type %q is not an endpoint name such as Users", resourceType)
	}
	p := "/" + url.PathEscape(resourceType)
	for _, s := range id {
		if s == "" {
			return "", fmt.Errorf("%s: empty id", resourceType)
		}
		p += "/" + url.PathEscape(s)
	}
	return p, nil
}
