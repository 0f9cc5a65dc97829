package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

// receiver is a webhook's receiver: it verifies every request's
// signature with the secret and records the events, and answers with the
// status its answer function gives (200 when nil).
type receiver struct {
	t      *testing.T
	clock  *clocktest.Clock
	url    string
	secret string // set once the webhook is created

	mu     sync.Mutex
	got    []events.Event // the events it acknowledged, in order
	tries  int            // every request
	answer func(e events.Event) int
}

func newReceiver(t *testing.T, c *clocktest.Clock) *receiver {
	rc := &receiver{t: t, clock: c}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tries++
		if err := notify.Verify(rc.secret, r.Header.Get(notify.SignatureHeader), body, rc.clock.Now(), 0); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e events.Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		if r.Header.Get(notify.EventIDHeader) != e.ID || r.Header.Get(notify.EventTypeHeader) != e.Type ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v for event %s %s", r.Header, e.ID, e.Type)
		}
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(e)
		}
		if status/100 == 2 {
			rc.got = append(rc.got, e)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(hs.Close)
	rc.url = hs.URL + "/hook?token=x"
	return rc
}

// received lists the acknowledged events as "type object-id".
func (rc *receiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.got {
		out = append(out, e.Type+" "+e.Object.ID)
	}
	return out
}

func (rc *receiver) setAnswer(f func(events.Event) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

// fixture is a store with a tenant, a webhook service on a test clock and
// a receiver subscribed to the tenant's events.
type fixture struct {
	t      *testing.T
	path   string
	st     store.Store
	sealer *seal.Sealer
	tenant string
	clock  *clocktest.Clock
	svc    *Service
	rc     *receiver
	hook   *View
}

func newFixture(t *testing.T, types ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "ferry.db"),
		clock: clocktest.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))}
	f.open()
	tn, err := f.st.EnsureTenant(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = tn.ID
	key := make([]byte, seal.KeySize)
	if f.sealer, err = seal.New(key); err != nil {
		t.Fatal(err)
	}
	f.svc = f.service("one")
	f.rc = newReceiver(t, f.clock)
	f.hook, err = f.svc.Create(context.Background(), f.tenant, NewWebhook{URL: f.rc.url, Events: types})
	if err != nil {
		t.Fatal(err)
	}
	f.rc.secret = f.hook.Secret
	return f
}

// open opens the store on the fixture's database file (again, for a
// restart).
func (f *fixture) open() {
	st, err := sqlite.Open(context.Background(), f.path, schema.Builtin(), sqlite.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.st = st
	f.t.Cleanup(func() { st.Close() })
}

func (f *fixture) service(owner string) *Service {
	return New(Options{Store: f.st, Sealer: f.sealer, Now: f.clock.Now, Owner: owner})
}

func (f *fixture) deliver() {
	f.t.Helper()
	if err := f.svc.DeliverAll(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) createUser(name string) string {
	f.t.Helper()
	d, err := resource.Decode(fmt.Appendf(nil, `{"userName":%q,"active":true}`, name))
	if err != nil {
		f.t.Fatal(err)
	}
	r := &store.Resource{TenantID: f.tenant, Type: store.UserType, Doc: d}
	if err := f.st.Create(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

func (f *fixture) updateUser(id string, change func(resource.Document)) {
	f.t.Helper()
	if _, err := f.st.Update(context.Background(), f.tenant, store.UserType, id, 0, func(r *store.Resource) error {
		change(r.Doc)
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) deliveries() []string {
	f.t.Helper()
	log, err := f.svc.Deliveries(context.Background(), f.tenant, f.hook.ID, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, d := range slices.Backward(log) {
		out = append(out, fmt.Sprintf("%s %s #%d %d %s", d.EventType, d.EventID, d.Attempt, d.Status, d.Outcome))
	}
	return out
}

func (f *fixture) state() *View {
	f.t.Helper()
	v, err := f.svc.Get(context.Background(), f.tenant, f.hook.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestDeliverInOrder delivers a user's life, in order, each request
// signed; an idle webhook costs no write.
func TestDeliverInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deliver() // nothing to deliver: the webhook is not even claimed
	if h, err := f.st.Webhook(context.Background(), f.tenant, f.hook.ID); err != nil || h.LeaseOwner != "" {
		t.Errorf("an idle webhook: %+v, %v; want it never claimed", h, err)
	}
	ann := f.createUser("ann")
	f.updateUser(ann, func(d resource.Document) { d["title"] = "CEO" })
	f.updateUser(ann, func(d resource.Document) { d["active"] = false })
	f.deliver()
	equal(t, "received", f.rc.received(), []string{"user.created " + ann, "user.updated " + ann, "user.deactivated " + ann})
	if v := f.state(); v.Attempts != 0 || v.Cursor == f.hook.Cursor {
		t.Errorf("after delivery: %+v, want no attempts and the cursor moved", v)
	}
	f.deliver() // caught up: nothing is sent again
	if f.rc.tries != 3 {
		t.Errorf("%d requests, want 3", f.rc.tries)
	}
}

// TestRetryAfter500 holds a failed event and the events after it until
// its backoff has passed, then delivers them in order.
func TestRetryAfter500(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "user.*")
	ann := f.createUser("ann")
	failures := 1
	f.rc.setAnswer(func(events.Event) int {
		if failures > 0 {
			failures--
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	f.updateUser(ann, func(d resource.Document) { d["title"] = "CEO" })
	f.updateUser(ann, func(d resource.Document) { d["active"] = false })
	f.deliver()
	if got := f.rc.received(); len(got) != 0 {
		t.Fatalf("received %q after a 500, want nothing (the events after it wait)", got)
	}
	v := f.state()
	if v.Attempts != 1 || v.NextAttempt == nil || !v.NextAttempt.Equal(f.clock.Now().Add(30*time.Second)) ||
		v.LastError != "the receiver answered 500 Internal Server Error" || v.Cursor != f.hook.Cursor {
		t.Errorf("after a 500: %+v, want 1 attempt, the next 30 s later, the cursor where it was", v)
	}
	f.clock.Advance(29 * time.Second)
	f.deliver()
	if f.rc.tries != 1 {
		t.Errorf("%d requests before the backoff passed, want 1", f.rc.tries)
	}
	f.clock.Advance(time.Second)
	f.deliver()
	equal(t, "received", f.rc.received(), []string{"user.created " + ann, "user.updated " + ann, "user.deactivated " + ann})
	log := f.deliveries()
	if len(log) != 4 || log[0] != "user.created "+f.rc.got[0].ID+" #1 500 retrying" ||
		log[1] != "user.created "+f.rc.got[0].ID+" #2 204 delivered" {
		t.Errorf("delivery log %q: want the 500, then its retry delivered, then the other two", log)
	}
	if v := f.state(); v.Attempts != 0 || v.NextAttempt != nil || v.LastError != "" {
		t.Errorf("after the retry: %+v, want the failure state cleared", v)
	}
}

// TestGiveUp gives up on an event that fails for three days, and
// delivers the next.
func TestGiveUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ann := f.createUser("ann")
	bob := f.createUser("bob")
	f.rc.setAnswer(func(e events.Event) int {
		if e.Object.ID == ann {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	f.deliver()
	var waits []time.Duration
	for range 100 {
		v := f.state()
		if v.Attempts == 0 {
			break
		}
		wait := v.NextAttempt.Sub(f.clock.Now())
		waits = append(waits, wait)
		f.clock.Advance(wait)
		f.deliver()
	}
	equal(t, "received", f.rc.received(), []string{"user.created " + bob})
	if want := []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour}; !slices.Equal(waits[:6], want) {
		t.Errorf("backoff %v, want %v then every 2h", waits[:6], want)
	}
	log, err := f.svc.Deliveries(context.Background(), f.tenant, f.hook.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: bob's delivery, then the last attempt at ann.
	last := log[1]
	if last.Outcome != store.DeliveryGaveUp || last.Status != 503 || last.Attempt != len(log)-1 || log[0].Outcome != store.DeliveryDelivered {
		t.Errorf("the last attempt at ann: %+v, want a 503 given up on, its attempts counted, then bob delivered", last)
	}
	// 30s + 2m + 10m + 30m + 1h, then every 2h: the 42nd attempt comes
	// 73h42m30s after the first: the first attempt at or after three days.
	if n := len(log) - 1; n != 42 {
		t.Errorf("%d attempts at ann, want 42 (three days of backoff)", n)
	}
	if age := last.At.Sub(log[len(log)-1].At); age < GiveUpAfter || age >= GiveUpAfter+2*time.Hour {
		t.Errorf("gave up %s after the first failure, want within 2h after %s", age, GiveUpAfter)
	}
}

// TestAtLeastOnceAcrossRestart: a deliverer that stops after sending an
// event but before recording it leaves the cursor where it was, and the
// next delivers the event again, with the same id.
func TestAtLeastOnceAcrossRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ann := f.createUser("ann")
	ctx, cancel := context.WithCancel(context.Background())
	f.rc.setAnswer(func(events.Event) int {
		cancel() // the process stops while the receiver answers
		return http.StatusOK
	})
	f.svc.DeliverAll(ctx)
	first := f.rc.received()
	equal(t, "received before the stop", first, []string{"user.created " + ann})
	if v := f.state(); v.Cursor != f.hook.Cursor {
		t.Fatalf("cursor %q after a delivery whose answer was not recorded, want %q", v.Cursor, f.hook.Cursor)
	}

	f.st.Close()
	f.open()
	f.rc.setAnswer(nil)
	f.svc = f.service("two")
	f.deliver()
	got := f.rc.got
	if len(got) != 2 || got[0].ID != got[1].ID || got[1].Type != events.UserCreated {
		t.Fatalf("received %v, want ann's user.created twice with one id", f.rc.received())
	}
	equal(t, "delivery log", f.deliveries(), []string{"user.created " + got[0].ID + " #1 200 delivered"})
}

// TestLease: a webhook whose lease another process holds is not
// delivered.
func TestLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createUser("ann")
	if _, held, err := f.st.ClaimWebhook(context.Background(), f.hook.ID, "other", time.Minute); err != nil || !held {
		t.Fatal(held, err)
	}
	f.deliver()
	if f.rc.tries != 0 {
		t.Errorf("%d requests while another process holds the lease, want none", f.rc.tries)
	}
}

// TestPing sends a signed test event, logs it, and moves no cursor.
func TestPing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var pings int
	f.rc.setAnswer(func(e events.Event) int {
		if e.Type == PingType {
			pings++
		}
		return http.StatusAccepted
	})
	res, err := f.svc.Test(context.Background(), f.tenant, f.hook.ID)
	if err != nil || !res.Delivered || res.Status != http.StatusAccepted || pings != 1 {
		t.Fatalf("Test = %+v, %v (%d pings), want delivered with 202", res, err, pings)
	}
	if log := f.deliveries(); len(log) != 1 || log[0][:5] != "ping " {
		t.Errorf("delivery log %q, want the ping", log)
	}
	if v := f.state(); v.Cursor != f.hook.Cursor {
		t.Errorf("cursor %q after a ping, want %q", v.Cursor, f.hook.Cursor)
	}
}

// TestCreateChecks refuses what a webhook cannot be.
func TestCreateChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name string
		in   NewWebhook
	}{
		{"scheme", NewWebhook{URL: "ftp://example.com/"}},
		{"userinfo", NewWebhook{URL: "https://user:pass@example.com/"}},
		{"no host", NewWebhook{URL: "https:///path"}},
		{"type", NewWebhook{URL: "https://example.com/", Events: []string{"user.exploded"}}},
	} {
		if _, err := f.svc.Create(context.Background(), f.tenant, tt.in); err == nil {
			t.Errorf("%s: Create(%+v) succeeded", tt.name, tt.in)
		}
	}
}

// TestRedirectNotFollowed: a 3xx is a failed attempt that says why.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createUser("ann")
	f.rc.setAnswer(func(events.Event) int { return http.StatusFound })
	f.deliver()
	if v := f.state(); v.Attempts != 1 || !strings.Contains(v.LastError, "redirects are not followed") {
		t.Errorf("after a 302: %+v, want a failed attempt that says redirects are not followed", v)
	}
}

// TestRun delivers as events come, prunes the delivery log of entries
// older than the retention, and stops when its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if err := f.st.AppendWebhookDelivery(ctx, &store.WebhookDelivery{WebhookID: f.hook.ID, EventID: "old", EventType: PingType,
		Attempt: 1, At: f.clock.Now().Add(-DefaultLogRetention - time.Second), Outcome: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	delivered := make(chan string, 2)
	f.rc.setAnswer(func(e events.Event) int {
		delivered <- e.Object.ID
		return http.StatusOK
	})
	svc := New(Options{Store: f.st, Sealer: f.sealer, Now: f.clock.Now, PollInterval: 10 * time.Millisecond})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(runCtx) }()
	ann, bob := f.createUser("ann"), f.createUser("bob")
	// bob's event is sent once ann's delivery is recorded.
	if got := []string{<-delivered, <-delivered}; got[0] != ann || got[1] != bob {
		t.Errorf("delivered %q, want ann's event then bob's", got)
	}
	stop()
	<-done
	if log := f.deliveries(); len(log) == 0 || !strings.HasPrefix(log[0], "user.created ") || strings.Contains(log[0], "old") {
		t.Errorf("delivery log %q: want the old entry pruned, ann's delivery first", log)
	}
}

// TestEventsLostToRetention: a webhook whose next events the change
// feed's retention deleted records the loss, naming the events lost, in
// its last error and its delivery log, and goes on with the oldest event
// kept.
func TestEventsLostToRetention(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ann := f.createUser("ann")
	f.deliver()
	equal(t, "received", f.rc.received(), []string{"user.created " + ann})
	f.updateUser(ann, func(d resource.Document) { d["title"] = "CEO" })
	f.updateUser(ann, func(d resource.Document) { d["title"] = "CTO" })
	cs, err := f.st.Changes(ctx, f.tenant, 0, 100)
	if err != nil || len(cs) != 3 {
		t.Fatalf("changes: %v, %v", cs, err)
	}
	// The cutoff is after the last write's time on the store's clock.
	if n, err := f.st.PruneChanges(ctx, cs[2].At.Add(time.Second)); err != nil || n != 3 {
		t.Fatalf("PruneChanges = %d, %v; want 3", n, err)
	}
	horizon := strconv.FormatInt(cs[2].Seq, 10)
	f.deliver()
	if got := f.rc.received(); len(got) != 1 {
		t.Errorf("received %q, want nothing more: the events are gone", got)
	}
	v := f.state()
	if v.Cursor != horizon || v.Attempts != 0 || !strings.Contains(v.LastError, "deleted by the server's event retention") ||
		!strings.Contains(v.LastError, "up to "+horizon) {
		t.Errorf("after the loss: %+v; want the cursor at %s and the loss in the last error", v, horizon)
	}
	log := f.deliveries()
	equal(t, "delivery log", log[1:], []string{" " + horizon + " #0 0 lost"})
	bob := f.createUser("bob")
	f.deliver()
	equal(t, "received", f.rc.received(), []string{"user.created " + ann, "user.created " + bob})
	if v := f.state(); v.LastError != "" {
		t.Errorf("after the next delivery: last error %q, want none", v.LastError)
	}
}
