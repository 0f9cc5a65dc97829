// Package webhooks delivers the directory's events (internal/events) to a
// tenant's webhooks as signed HTTP POSTs, and holds the operations the
// admin API offers on them (create, list, delete, test, the delivery log).
//
// A delivery is a POST of one event's JSON, as GET /api/v1/events answers
// it, with the headers of internal/notify's webhooks: Ferry-Event-Id (the
// event's id, stable across retries and replicas: receivers drop
// duplicates by it), Ferry-Event-Type and Ferry-Signature
// (t=UNIX-SECONDS,v1=HEX(HMAC-SHA256(secret, t + "." + body)); see
// notify.Verify). Delivery is at least once and in the events' order: a
// webhook's cursor moves past an event only once the receiver answered it
// 2xx (or it was given up on), and until then the events after it wait,
// so that a user's user.deactivated never arrives before its earlier
// user.updated. A failed attempt is tried again after a backoff (Backoff);
// an event that still fails three days (GiveUpAfter) after its first
// failure is logged as given up and passed over. Events the change
// feed's retention deleted before they were delivered are logged as lost
// (DeliveryLost, naming them) and the webhook goes on with the oldest
// event kept. Redirects are not followed. Every attempt goes to the
// webhook's delivery log.
//
// One process at a time delivers a webhook: it holds the webhook's lease
// in the store, checks on its own monotonic clock that the lease is still
// good before each request, and the store writes the webhook's progress
// only while the lease holds (store.Webhooks.PutWebhookState).
package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// GiveUpAfter is how long after an event's first failed attempt the
// webhook gives up on it.
const GiveUpAfter = 72 * time.Hour

// backoff is the wait before each retry: after the first failure, the
// second, ...; then the last, until GiveUpAfter.
var backoff = [...]time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour}

// Backoff is the wait after the attempts-th failed attempt at an event.
func Backoff(attempts int) time.Duration {
	return backoff[min(max(attempts, 1), len(backoff))-1]
}

// Defaults of Options.
const (
	DefaultPollInterval = time.Second
	DefaultLeaseTTL     = 30 * time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultLogRetention = 30 * 24 * time.Hour
)

// pageSize is how many events a webhook reads at a time.
const pageSize = 100

// Options configure a Service. Store and Sealer are required.
type Options struct {
	Store  store.Store
	Sealer *seal.Sealer // seals the signing secrets, bound to the webhook's id
	// Client sends the deliveries; ferry serve gives the egress guard's.
	// Its redirects are never followed. http.DefaultClient's transport
	// when nil.
	Client *http.Client
	// Now is the clock of backoffs and signatures; time.Now when nil.
	Now func() time.Time
	// Owner names this process in the webhooks' leases; a random name
	// when empty.
	Owner        string
	Logger       *slog.Logger
	PollInterval time.Duration // how often Run looks for events; DefaultPollInterval when 0
	LeaseTTL     time.Duration // DefaultLeaseTTL when 0
	Timeout      time.Duration // of one delivery; DefaultTimeout when 0
	// LogRetention is how long the delivery log is kept;
	// DefaultLogRetention when 0.
	LogRetention time.Duration
}

// Service delivers webhooks (Run) and is what the admin API calls.
type Service struct {
	o      Options
	client *http.Client
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Owner == "" {
		o.Owner = "webhooks-" + randomHex(8)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LogRetention <= 0 {
		o.LogRetention = DefaultLogRetention
	}
	var c http.Client
	if o.Client != nil {
		c = *o.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Service{o: o, client: &c}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Run delivers every tenant's webhooks, looking for new events every
// PollInterval, and prunes the delivery log every hour, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.o.PollInterval)
	defer t.Stop()
	var lastPrune time.Time
	for {
		if now := s.o.Now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			s.prune(ctx)
		}
		if err := s.DeliverAll(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Error("webhooks: list webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune deletes the delivery log entries older than LogRetention.
func (s *Service) prune(ctx context.Context) {
	n, err := s.o.Store.PruneWebhookDeliveries(ctx, s.o.Now().Add(-s.o.LogRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.o.Logger.Error("webhooks: prune the delivery log", "err", err)
	case n > 0:
		s.o.Logger.Info("webhooks: pruned the delivery log", "entries", n, "olderThan", s.o.LogRetention)
	}
}

// DeliverAll makes one pass over every enabled webhook, each in its own
// goroutine, and returns when all are done: each delivers the events
// after its cursor until it is caught up, an attempt fails, or its lease
// runs short.
func (s *Service) DeliverAll(ctx context.Context) error {
	hooks, err := s.o.Store.Webhooks(ctx, "")
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, h := range hooks {
		if !h.Enabled {
			continue
		}
		wg.Go(func() {
			err := s.deliverIfDue(ctx, h)
			switch {
			case err == nil || ctx.Err() != nil:
			case errors.Is(err, store.ErrLeaseLost):
				// Deleted meanwhile, or taken over after a pause: the
				// other process, if any, goes on from the stored cursor.
				s.o.Logger.Info("webhooks: lease lost", "webhook", h.ID, "err", err)
			default:
				s.o.Logger.Error("webhooks: deliver", "webhook", h.ID, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// deliverIfDue delivers h's events when it has something to do, as h,
// read without its lease, says: an attempt whose backoff has passed, or
// events after its cursor. An idle webhook costs a read, not the writes
// of a claim and a release.
func (s *Service) deliverIfDue(ctx context.Context, h *store.Webhook) error {
	if h.Attempts > 0 {
		if s.o.Now().Before(h.NextAttempt) {
			return nil
		}
		return s.deliver(ctx, h.ID)
	}
	page, err := events.List(ctx, s.o.Store, h.TenantID, events.Query{After: h.Cursor, Types: h.Types, Limit: 1})
	if errors.Is(err, store.ErrChangesPruned) {
		return s.deliver(ctx, h.ID) // which records the loss and goes on
	}
	if err != nil {
		return fmt.Errorf("read events after %q: %w", h.Cursor, err)
	}
	if len(page.Events) == 0 && page.Next == h.Cursor {
		return nil
	}
	return s.deliver(ctx, h.ID)
}

// deliver delivers one webhook's events under its lease.
func (s *Service) deliver(ctx context.Context, id string) error {
	claimed := time.Now() // monotonic: the lease is counted from before the claim
	h, held, err := s.o.Store.ClaimWebhook(ctx, id, s.o.Owner, s.o.LeaseTTL)
	if err != nil || !held || !h.Enabled {
		return err
	}
	defer func() {
		if err := s.o.Store.ReleaseWebhook(context.WithoutCancel(ctx), id, s.o.Owner); err != nil {
			s.o.Logger.Warn("webhooks: release lease", "webhook", id, "err", err)
		}
	}()
	st := h.WebhookState
	if st.Attempts > 0 && s.o.Now().Before(st.NextAttempt) {
		return nil
	}
	secret, err := s.o.Sealer.Open(h.Secret, []byte(h.ID))
	if err != nil {
		return err
	}
	// A request is started only while the lease has at least a request's
	// time and a margin left, on this process's monotonic clock.
	leaseGood := func() bool { return time.Since(claimed) < s.o.LeaseTTL-s.o.Timeout-time.Second }
	put := func(next store.WebhookState, d *store.WebhookDelivery) error {
		if err := s.o.Store.PutWebhookState(ctx, id, s.o.Owner, next, d); err != nil {
			return err
		}
		st = next
		return nil
	}
	for {
		page, err := events.List(ctx, s.o.Store, h.TenantID, events.Query{After: st.Cursor, Types: h.Types, Limit: pageSize})
		if exp, ok := errors.AsType[*events.ExpiredError](err); ok {
			next := s.lost(id, exp)
			if err := put(next, &store.WebhookDelivery{WebhookID: id, EventID: exp.Oldest, At: s.o.Now(),
				Error: next.LastError, Outcome: store.DeliveryLost}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read events after %q: %w", st.Cursor, err)
		}
		for _, e := range page.Events {
			if !leaseGood() {
				return nil
			}
			body, err := json.Marshal(e)
			if err != nil {
				return err
			}
			res := s.post(ctx, h.URL, string(secret), e.ID, e.Type, body)
			if ctx.Err() != nil {
				return nil // shutting down: the attempt does not count
			}
			now := s.o.Now()
			d := &store.WebhookDelivery{WebhookID: id, EventID: e.ID, EventType: e.Type, Attempt: st.Attempts + 1,
				Status: res.Status, Error: res.Error, Duration: res.Duration, At: now}
			switch first := st.FirstFailed; {
			case res.Delivered:
				d.Outcome = store.DeliveryDelivered
				err = put(store.WebhookState{Cursor: e.ID}, d)
			case st.Attempts > 0 && now.Sub(first) >= GiveUpAfter:
				d.Outcome = store.DeliveryGaveUp
				s.o.Logger.Warn("webhooks: gave up on an event", "webhook", id, "event", e.ID, "attempts", d.Attempt, "err", res.Error)
				err = put(store.WebhookState{Cursor: e.ID}, d)
			default:
				if st.Attempts == 0 {
					first = now
				}
				d.Outcome = store.DeliveryRetrying
				return put(store.WebhookState{Cursor: st.Cursor, Attempts: d.Attempt, FirstFailed: first,
					NextAttempt: now.Add(Backoff(d.Attempt)), LastError: res.Error}, d)
			}
			if err != nil {
				return err
			}
		}
		// Events of other types passed over move the cursor too.
		if page.Next != st.Cursor {
			if err := put(store.WebhookState{Cursor: page.Next}, nil); err != nil {
				return err
			}
		}
		if len(page.Events) < pageSize {
			return nil
		}
	}
}

// lost is the state of a webhook whose next events the change feed's
// retention deleted before they were delivered: they cannot be, so the
// webhook goes on with the oldest event kept, after exp.Oldest, and says
// which events it lost in its last error and its delivery log. Stopping
// instead would stop it for good, as the events will not come back.
func (s *Service) lost(id string, exp *events.ExpiredError) store.WebhookState {
	msg := fmt.Sprintf("the events after %q, up to %s, were deleted by the server's event retention before they were delivered; delivery goes on with the oldest event kept",
		exp.After, exp.Oldest)
	s.o.Logger.Warn("webhooks: events lost to retention", "webhook", id, "after", exp.After, "upTo", exp.Oldest)
	return store.WebhookState{Cursor: exp.Oldest, LastError: msg}
}

// result is the outcome of one request.
type result struct {
	Delivered bool
	Status    int    // 0 when there was no answer
	Error     string // why it was not delivered
	Duration  time.Duration
}

// post makes one attempt to deliver body, signed with secret, to rawURL.
func (s *Service) post(ctx context.Context, rawURL, secret, eventID, eventType string, body []byte) result {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return result{Error: "the webhook URL does not make a request"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ferry-Webhook/1")
	req.Header.Set(notify.EventIDHeader, eventID)
	req.Header.Set(notify.EventTypeHeader, eventType)
	req.Header.Set(notify.SignatureHeader, notify.Sign(secret, s.o.Now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		// The client's error quotes the URL, whose query may carry a
		// credential.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return result{Error: "no answer: " + err.Error(), Duration: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	r := result{Status: resp.StatusCode, Duration: time.Since(start)}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		r.Delivered = true
	case code >= 300 && code < 400:
		r.Error = "the receiver answered " + resp.Status + "; redirects are not followed: configure the final URL"
	default:
		r.Error = "the receiver answered " + resp.Status
	}
	return r
}
