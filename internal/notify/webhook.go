package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers; the package documentation describes the signature.
const (
	SignatureHeader = "Ferry-Signature"
	EventIDHeader   = "Ferry-Event-Id"
	EventTypeHeader = "Ferry-Event-Type"
)

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// ErrInvalidSignature is wrapped by every error of Verify.
var ErrInvalidSignature = errors.New("invalid webhook signature")

// Sign returns the Ferry-Signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Ferry-Signature header against the raw request body: one v1 must be the
// HMAC-SHA256 of "t.body" under secret, and t must be within tolerance of now (DefaultTolerance
// when tolerance is not positive). Its errors wrap ErrInvalidSignature.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %s header element %q is not key=value", ErrInvalidSignature, SignatureHeader, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: %s header has more than one t", ErrInvalidSignature, SignatureHeader)
			}
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if ts == "" {
		return fmt.Errorf("%w: %s header has no timestamp t=", ErrInvalidSignature, SignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp t=%q is not a number of seconds", ErrInvalidSignature, ts)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: %s header has no hexadecimal v1= signature", ErrInvalidSignature, SignatureHeader)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: timestamp %s is %s away from now, more than the tolerance of %s (a replay, or a clock off)",
			ErrInvalidSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), age.Abs().Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches the body (wrong secret, or the body was changed)", ErrInvalidSignature)
}

// ParseWebhookURL validates an application's webhook URL: http or https, with a host, without
// user information or fragment. A query is allowed but never logged.
func ParseWebhookURL(raw string) (*url.URL, error) {
	const form = "expected https://host[:port]/path"
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the webhook URL is not a valid URL (%s)", form)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("the webhook URL %s has scheme %q: %s", redactURL(u), u.Scheme, form)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("the webhook URL %s has no host: %s", redactURL(u), form)
	}
	if u.User != nil {
		return nil, fmt.Errorf("the webhook URL %s has a user name or password; remove it: requests are authenticated by their %s header", redactURL(u), SignatureHeader)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("the webhook URL %s has a fragment (#...); remove it", redactURL(u))
	}
	return u, nil
}

// redactURL shows a URL in logs and errors: scheme, host and path, without user information
// or query, which can carry credentials.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.RawQuery != "" {
		r.RawQuery = "..."
	}
	return r.String()
}

// webhook sends signed event bodies; redirects are never followed.
type webhook struct {
	client *http.Client
	now    func() time.Time
}

func newWebhook(c *http.Client, now func() time.Time) *webhook {
	var cc http.Client
	if c != nil {
		cc = *c
	}
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &webhook{client: &cc, now: now}
}

// post makes one attempt to deliver body to u.
func (w *webhook) post(ctx context.Context, u *url.URL, secret string, ev Event, body []byte) error {
	what := "post webhook to " + redactURL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ferry-Webhook/1")
	req.Header.Set(EventIDHeader, ev.ID)
	req.Header.Set(EventTypeHeader, ev.Type)
	req.Header.Set(SignatureHeader, Sign(secret, w.now(), body))
	resp, err := w.client.Do(req)
	if err != nil {
		// The client's error quotes the URL, query included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	// Drain a little so the connection can be reused; the answer is not echoed anywhere.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code >= 300 && code < 400:
		return permanent(fmt.Errorf("%s: the receiver answered %s; redirects are not followed: configure the final URL", what, resp.Status))
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return fmt.Errorf("%s: the receiver answered %s", what, resp.Status)
	default:
		return permanent(fmt.Errorf("%s: the receiver answered %s", what, resp.Status))
	}
}

// permanentError marks a failure that a retry cannot mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}
