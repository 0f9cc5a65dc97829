package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Email and webhook of one event, end to end through the Notifier: a 451 is retried on the
// injected clock, and the SMTP password never reaches the log.
func TestNotifierEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		serverPass string
		failData   int
		delivered  bool
		attempts   int
		sleeps     []time.Duration
	}{
		{"delivered", testPassword, 0, true, 1, nil},
		{"451 then delivered", testPassword, 1, true, 2, []time.Duration{DefaultBackoff(1)}},
		{"password refused", "another-password", 0, false, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, smtpServerOptions{user: "ops", pass: tt.serverPass, insecureAuth: true, failData: tt.failData})
			cfg, err := ParseSMTPURL(fmt.Sprintf("smtp://ops:%s@127.0.0.1:%d", testPassword, srv.Port))
			if err != nil {
				t.Fatal(err)
			}
			clock := newFakeClock()
			var logs logBuffer
			n := New(Options{Mailer: mustMailer(t, cfg), Logger: logs.logger(), Now: clock.Now, Sleep: clock.Sleep})
			to := []string{"ops@example.com", "jane@example.org"}
			if err := n.Notify(testEvent(), Route{Email: to}); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if err := n.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			msgs := srv.messages()
			if tt.delivered != (len(msgs) == 1) {
				t.Fatalf("server received %d messages; delivered = %v", len(msgs), tt.delivered)
			}
			if tt.delivered {
				if !slices.Equal(msgs[0].To, to) {
					t.Errorf("RCPT TO = %v, want %v", msgs[0].To, to)
				}
				if got := parseMail(t, msgs[0].Data).decoded(t, "Subject"); got != testEvent().Subject {
					t.Errorf("Subject = %q", got)
				}
			}
			if got := clock.Slept(); !slices.Equal(got, tt.sleeps) {
				t.Errorf("slept %v, want %v", got, tt.sleeps)
			}
			out := logs.String()
			want := `msg="notification delivered"`
			if !tt.delivered {
				want = `msg="notification failed"`
			}
			if !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("attempts=%d", tt.attempts)) ||
				!strings.Contains(out, "channel=email") || !strings.Contains(out, `to="ops@example.com, jane@example.org"`) {
				t.Errorf("log lacks %s with attempts=%d:\n%s", want, tt.attempts, out)
			}
			if strings.Contains(out, testPassword) {
				t.Errorf("log shows the SMTP password:\n%s", out)
			}
		})
	}
}

func TestNotifyInvalid(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, smtpServerOptions{})
	mailer := mustMailer(t, SMTPConfig{Host: "127.0.0.1", Port: srv.Port})
	hook := func(r *Route) { r.WebhookURL, r.WebhookSecret = "https://hooks.example.com/ferry", testSecret }
	tests := []struct {
		name   string
		mailer *Mailer
		event  func(*Event)
		route  func(*Route)
		want   string
	}{
		{"no ID", mailer, func(e *Event) { e.ID = "" }, hook, "event has no ID"},
		{"no type", mailer, func(e *Event) { e.Type = "" }, hook, "event has no Type"},
		{"line break in ID", mailer, func(e *Event) { e.ID = "a\r\nX-Evil: 1" }, hook, "has a control character"},
		{"email without SMTP", nil, nil, func(r *Route) { r.Email = []string{"ops@example.com"} }, "--smtp-url and --smtp-from"},
		{"bad address", mailer, nil, func(r *Route) { r.Email = []string{"not-an-email"} }, `"not-an-email" is not an email address`},
		{"too many addresses", mailer, nil, func(r *Route) { r.Email = make([]string, MaxRecipients+1) }, "at most 20"},
		{"webhook without secret", mailer, nil, func(r *Route) { r.WebhookURL = "https://hooks.example.com/" }, "no secret"},
		{"bad webhook URL", mailer, nil, func(r *Route) { r.WebhookURL, r.WebhookSecret = "ftp://x/", testSecret }, `scheme "ftp"`},
		{"data not JSON-able", mailer, func(e *Event) { e.Data = func() {} }, hook, "encode event as JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := New(Options{Mailer: tt.mailer, Logger: new(logBuffer).logger()})
			defer n.Close(t.Context())
			ev, r := testEvent(), Route{}
			if tt.event != nil {
				tt.event(&ev)
			}
			tt.route(&r)
			if err := n.Notify(ev, r); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Notify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// A valid channel is delivered even when the other one is refused.
func TestNotifyPartlyInvalid(t *testing.T) {
	t.Parallel()
	recv := startReceiver(t)
	n := New(Options{Logger: new(logBuffer).logger()})
	ev := testEvent()
	ev.At = time.Time{}
	err := n.Notify(ev, Route{Email: []string{"ops@example.com"}, WebhookURL: recv.URL, WebhookSecret: testSecret})
	if err == nil || !strings.Contains(err.Error(), "by email") {
		t.Errorf("Notify = %v, want the email refused", err)
	}
	if err := n.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	var got Event
	if err := json.Unmarshal(reqs[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.At.IsZero() || got.At.Location() != time.UTC {
		t.Errorf("at = %v, want the time of Notify in UTC", got.At)
	}
}

// blockingReceiver holds every request until release is closed or the client gives up.
type blockingReceiver struct {
	*httptest.Server
	entered chan string // event IDs, as requests arrive
	release chan struct{}
	mu      sync.Mutex
	done    []string
}

func startBlockingReceiver(t *testing.T) *blockingReceiver {
	t.Helper()
	b := &blockingReceiver{entered: make(chan string, 16), release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice when the client gives up.
		io.Copy(io.Discard, r.Body)
		id := r.Header.Get(EventIDHeader)
		b.entered <- id
		select {
		case <-b.release:
			b.mu.Lock()
			b.done = append(b.done, id)
			b.mu.Unlock()
		case <-r.Context().Done():
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *blockingReceiver) delivered() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.done...)
}

func eventWithID(id string) Event {
	ev := testEvent()
	ev.ID = id
	return ev
}

func TestNotifyQueueFull(t *testing.T) {
	t.Parallel()
	recv := startBlockingReceiver(t)
	var logs logBuffer
	n := New(Options{Logger: logs.logger(), QueueSize: 2, Workers: 1})
	route := Route{WebhookURL: recv.URL, WebhookSecret: testSecret}

	if err := n.Notify(eventWithID("e1"), route); err != nil {
		t.Fatal(err)
	}
	<-recv.entered // e1 is being sent; the worker is busy
	if err := n.Notify(eventWithID("e2"), route); err != nil {
		t.Fatalf("Notify e2 = %v, want it queued", err)
	}
	err := n.Notify(eventWithID("e3"), route)
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Notify e3 = %v, want ErrQueueFull", err)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "queue is full") ||
		!strings.Contains(out, "event_id=e3") || !strings.Contains(out, "queue_size=2") {
		t.Errorf("the drop is not logged as an error:\n%s", out)
	}

	close(recv.release)
	if err := n.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := recv.delivered(); !slices.Equal(got, []string{"e1", "e2"}) {
		t.Errorf("delivered %v, want [e1 e2]", got)
	}
}

// Close gives up when its context ends: what is being sent, waiting in the queue, or waiting to
// be retried is cancelled and logged, and Close returns.
func TestCloseBounded(t *testing.T) {
	t.Parallel()
	t.Run("sending and queued", func(t *testing.T) {
		t.Parallel()
		recv := startBlockingReceiver(t)
		var logs logBuffer
		n := New(Options{Logger: logs.logger(), Workers: 1})
		route := Route{WebhookURL: recv.URL, WebhookSecret: testSecret}
		for _, id := range []string{"e1", "e2"} {
			if err := n.Notify(eventWithID(id), route); err != nil {
				t.Fatal(err)
			}
		}
		<-recv.entered // e1 is in flight; e2 waits for the only worker
		closeCanceled(t, n, &logs, 2, "e1", "e2")
		if got := recv.delivered(); len(got) != 0 {
			t.Errorf("delivered %v after Close", got)
		}
	})
	t.Run("waiting to retry", func(t *testing.T) {
		t.Parallel()
		recv := startReceiver(t, http.StatusServiceUnavailable)
		var logs logBuffer
		sleeping := make(chan time.Duration, 1)
		n := New(Options{Logger: logs.logger(), Sleep: func(ctx context.Context, d time.Duration) error {
			sleeping <- d
			<-ctx.Done()
			return ctx.Err()
		}})
		if err := n.Notify(eventWithID("e1"), Route{WebhookURL: recv.URL, WebhookSecret: testSecret}); err != nil {
			t.Fatal(err)
		}
		if d := <-sleeping; d != DefaultBackoff(1) {
			t.Errorf("waits %v before the retry, want %v", d, DefaultBackoff(1))
		}
		closeCanceled(t, n, &logs, 1, "e1")
		if got := len(recv.requests()); got != 1 {
			t.Errorf("receiver got %d requests, want 1", got)
		}
	})
}

// closeCanceled closes n with a context that has already ended and checks what it reports.
func closeCanceled(t *testing.T, n *Notifier, logs *logBuffer, lost int, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := n.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fmt.Sprintf("%d deliveries not sent", lost)) {
		t.Errorf("Close = %v, want context.Canceled and %d deliveries not sent", err, lost)
	}
	out := logs.String()
	for _, id := range ids {
		if !strings.Contains(out, "notification not sent") || !strings.Contains(out, "event_id="+id) {
			t.Errorf("log does not say %s was not sent:\n%s", id, out)
		}
	}
	if err := n.Notify(eventWithID("late"), Route{WebhookURL: "https://hooks.example.com/", WebhookSecret: testSecret}); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after Close = %v, want ErrClosed", err)
	}
	if err := n.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// Route.Check runs before each attempt and can call a delivery off.
func TestRouteCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failOn   int // the check fails on this call (0: never)
		requests int
		calls    int
		logWant  string
	}{
		{"wanted", 0, 2, 2, "notification delivered"},
		{"no longer wanted before the first attempt", 1, 0, 1, "no longer wanted"},
		{"no longer wanted before the retry", 2, 1, 2, "no longer wanted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := startReceiver(t, http.StatusInternalServerError)
			clock := newFakeClock()
			var logs logBuffer
			n := New(Options{Logger: logs.logger(), Now: clock.Now, Sleep: clock.Sleep})
			var mu sync.Mutex
			calls := 0
			check := func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == tt.failOn {
					return errors.New("the application's webhook changed")
				}
				return nil
			}
			if err := n.Notify(testEvent(), Route{WebhookURL: recv.URL, WebhookSecret: testSecret, Check: check}); err != nil {
				t.Fatal(err)
			}
			if err := n.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := len(recv.requests()); got != tt.requests {
				t.Errorf("receiver got %d requests, want %d", got, tt.requests)
			}
			if calls != tt.calls {
				t.Errorf("Check called %d times, want %d", calls, tt.calls)
			}
			if out := logs.String(); !strings.Contains(out, tt.logWant) {
				t.Errorf("log lacks %q:\n%s", tt.logWant, out)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := DefaultBackoff(i + 1); got != w {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}
