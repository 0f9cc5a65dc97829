package notify

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testSecret = "whsec-0123456789abcdef"

// newFakeClock is the injected clock: Sleep moves it forward at once.
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 4, 5, 10, 0, 0, time.UTC))
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// hookRequest is one request a test receiver got.
type hookRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is a webhook endpoint that answers with the given statuses in turn (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	reqs     []hookRequest
	other    int // hits on /other, the target of redirects
}

func startReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	mux := http.NewServeMux()
	mux.HandleFunc("/other", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		r.other++
		r.mu.Unlock()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, hookRequest{Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/other")
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"detail":"INTERNAL-SECRET=do-not-echo"}`)
	})
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) otherHits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.other
}

func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

func TestWebhookDelivered(t *testing.T) {
	t.Parallel()
	recv := startReceiver(t)
	clock := newFakeClock()
	var logs logBuffer
	n := New(Options{Logger: logs.logger(), Now: clock.Now, Sleep: clock.Sleep})
	ev := testEvent()
	route := Route{WebhookURL: recv.URL + "/hooks/ferry?token=query-token-1234", WebhookSecret: testSecret}
	if err := n.Notify(ev, route); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if err := n.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	golden(t, "webhook_event.json", req.Body)
	if err := Verify(testSecret, req.Header.Get(SignatureHeader), req.Body, clock.Now(), time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	wantSig := Sign(testSecret, clock.Now(), req.Body)
	for k, want := range map[string]string{
		"Content-Type":  "application/json",
		EventIDHeader:   "evt-0001",
		EventTypeHeader: "quarantine",
		SignatureHeader: wantSig,
		"User-Agent":    "Ferry-Webhook/1",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(wantSig, "t="+strconv.FormatInt(clock.Now().Unix(), 10)+",v1=") {
		t.Errorf("signature header %q does not start with the timestamp", wantSig)
	}
	out := logs.String()
	if !strings.Contains(out, `msg="notification delivered"`) || !strings.Contains(out, "event_id=evt-0001") ||
		!strings.Contains(out, "channel=webhook") || !strings.Contains(out, "attempts=1") {
		t.Errorf("log does not report the delivery:\n%s", out)
	}
	for _, secret := range []string{testSecret, "query-token-1234", "INTERNAL-SECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(bytes.TrimSpace(got), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s differs:\ngot  %s\nwant %s", path, got, want)
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	const maxAttempts = 3
	tests := []struct {
		name      string
		statuses  []int
		requests  int
		delivered bool
		logWant   string
	}{
		{"500 then success", []int{500}, 2, true, "attempts=2"},
		{"429 and 503 then success", []int{429, 503}, 3, true, "attempts=3"},
		{"408 then success", []int{408}, 2, true, "attempts=2"},
		{"400 is final", []int{400}, 1, false, "400 Bad Request"},
		{"410 is final", []int{410}, 1, false, "410 Gone"},
		{"redirect is not followed", []int{302}, 1, false, "redirects are not followed"},
		{"attempts are bounded", []int{503, 503, 503, 503}, maxAttempts, false, "retryable=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := startReceiver(t, tt.statuses...)
			clock := newFakeClock()
			var logs logBuffer
			n := New(Options{Logger: logs.logger(), Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: maxAttempts})
			if err := n.Notify(testEvent(), Route{WebhookURL: recv.URL + "/hook", WebhookSecret: testSecret}); err != nil {
				t.Fatal(err)
			}
			if err := n.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			reqs := recv.requests()
			if len(reqs) != tt.requests {
				t.Fatalf("receiver got %d requests, want %d", len(reqs), tt.requests)
			}
			var wantSleeps []time.Duration
			start := newFakeClock().Now()
			for i, req := range reqs {
				// Each attempt is signed at its own time: the start plus the backoffs so far.
				at := start
				for _, d := range wantSleeps {
					at = at.Add(d)
				}
				if err := Verify(testSecret, req.Header.Get(SignatureHeader), req.Body, at, time.Second); err != nil {
					t.Errorf("attempt %d: %v", i+1, err)
				}
				if !bytes.Equal(req.Body, reqs[0].Body) || req.Header.Get(EventIDHeader) != "evt-0001" {
					t.Errorf("attempt %d sent another body or event ID", i+1)
				}
				if i < len(reqs)-1 {
					wantSleeps = append(wantSleeps, DefaultBackoff(i+1))
				}
			}
			if got := clock.Slept(); !slices.Equal(got, wantSleeps) {
				t.Errorf("slept %v, want %v", got, wantSleeps)
			}
			out := logs.String()
			msg := `msg="notification failed"`
			if tt.delivered {
				msg = `msg="notification delivered"`
			}
			if !strings.Contains(out, msg) || !strings.Contains(out, tt.logWant) {
				t.Errorf("log lacks %s and %q:\n%s", msg, tt.logWant, out)
			}
			if recv.otherHits() != 0 {
				t.Errorf("the redirect was followed")
			}
			if strings.Contains(out, "INTERNAL-SECRET") {
				t.Errorf("log echoes the receiver's answer:\n%s", out)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt-1"}`)
	good := Sign(testSecret, now, body)
	v1 := strings.TrimPrefix(good, "t=1800000000,")
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   string // "" for success
	}{
		{"valid", testSecret, good, body, now, ""},
		{"valid within tolerance", testSecret, good, body, now.Add(4 * time.Minute), ""},
		{"second of two signatures", testSecret, "t=1800000000,v1=00ff," + v1, body, now, ""},
		{"spaces after commas", testSecret, "t=1800000000, " + v1, body, now, ""},
		{"wrong secret", "another-secret", good, body, now, "no v1 signature matches"},
		{"changed body", testSecret, good, []byte(`{"id":"evt-2"}`), now, "no v1 signature matches"},
		{"replayed later", testSecret, good, body, now.Add(6 * time.Minute), "more than the tolerance"},
		{"from the future", testSecret, good, body, now.Add(-6 * time.Minute), "more than the tolerance"},
		{"changed timestamp", testSecret, "t=1800000001," + v1, body, now, "no v1 signature matches"},
		{"no timestamp", testSecret, v1, body, now, "no timestamp"},
		{"no signature", testSecret, "t=1800000000", body, now, "no hexadecimal v1"},
		{"not hex", testSecret, "t=1800000000,v1=zz", body, now, "no hexadecimal v1"},
		{"bad timestamp", testSecret, "t=soon," + v1, body, now, "not a number"},
		{"two timestamps", testSecret, "t=1,t=1800000000," + v1, body, now, "more than one t"},
		{"garbage", testSecret, "garbage", body, now, "not key=value"},
		{"empty", testSecret, "", body, now, "not key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.secret, tt.header, tt.body, tt.now, 0)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Verify = %v, want an error containing %q", err, tt.want)
			case tt.want != "" && !errors.Is(err, ErrInvalidSignature):
				t.Errorf("Verify = %v, which does not wrap ErrInvalidSignature", err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign(testSecret, now, []byte("{}")), []byte("{}"))
	f.Add("t=1800000000,v1=00,v1=", []byte(""))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if Verify(testSecret, header, body, now, time.Minute) != nil {
			return
		}
		// Only a header carrying the MAC of its own t and this body may pass.
		var ts string
		var sigs []string
		for part := range strings.SplitSeq(header, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				sigs = append(sigs, strings.ToLower(v))
			}
		}
		if !slices.Contains(sigs, hex.EncodeToString(mac(testSecret, ts, body))) {
			t.Fatalf("Verify accepted %q for %q", header, body)
		}
	})
}

func TestParseWebhookURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string // want "" for valid
	}{
		{"https://hooks.example.com/ferry", ""},
		{"http://127.0.0.1:8080/hook?token=abc", ""},
		{"ftp://hooks.example.com/", `scheme "ftp"`},
		{"hooks.example.com/ferry", `scheme ""`},
		{"https:///path", "has no host"},
		{"https://user:pw-secret@hooks.example.com/", "user name or password"},
		{"https://hooks.example.com/#frag", "fragment"},
		{"https://hooks.example.com/%zz", "not a valid URL"},
	}
	for _, tt := range tests {
		_, err := ParseWebhookURL(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ParseWebhookURL(%q) = %v, want nil", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseWebhookURL(%q) = %v, want an error containing %q", tt.url, err, tt.want)
		case err != nil && strings.Contains(err.Error(), "pw-secret"):
			t.Errorf("ParseWebhookURL(%q) = %v shows the password", tt.url, err)
		}
	}
}
