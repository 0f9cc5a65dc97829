package webhooks

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// What the admin API answers about webhooks, and the operations it calls.

// View is a webhook as the admin API shows it.
type View struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events are the event types (or families, "user.*") it receives;
	// empty for all.
	Events  []string `json:"events"`
	Enabled bool     `json:"enabled"`
	// Cursor is the id of the last event delivered or given up on.
	Cursor string `json:"cursor"`
	// Attempts, FirstFailed, NextAttempt and LastError describe the
	// failures of the event after Cursor, when it is failing.
	Attempts     int        `json:"attempts"`
	FirstFailed  *time.Time `json:"firstFailed,omitempty"`
	NextAttempt  *time.Time `json:"nextAttempt,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
	Created      time.Time  `json:"created"`
	LastModified time.Time  `json:"lastModified"`
	// Secret is the signing secret, in the answer to the webhook's
	// creation only.
	Secret string `json:"secret,omitempty"`
}

// Delivery is an entry of a webhook's delivery log.
type Delivery struct {
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	Attempt   int    `json:"attempt"`
	// Status is the receiver's HTTP status; 0 when it did not answer.
	Status     int       `json:"status"`
	Error      string    `json:"error,omitempty"`
	DurationMs int64     `json:"durationMs"`
	At         time.Time `json:"at"`
	// Outcome is delivered, retrying, gave-up, failed (a test), or lost
	// (events deleted by retention before delivery; Error names them).
	Outcome string `json:"outcome"`
}

// TestResult is what a test delivery met.
type TestResult struct {
	Delivered  bool   `json:"delivered"`
	Status     int    `json:"status"`
	Error      string `json:"error,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

// NewWebhook is what creates a webhook.
type NewWebhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// PingType is the type of a test delivery's event.
const PingType = "ping"

// Ping is the event of a test delivery.
type Ping struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"` // PingType
	Time    time.Time `json:"time"`
	Webhook string    `json:"webhook"` // the webhook's id
}

func view(h *store.Webhook) *View {
	v := &View{ID: h.ID, URL: h.URL, Events: h.Types, Enabled: h.Enabled, Cursor: h.Cursor, Attempts: h.Attempts,
		LastError: h.LastError, Created: h.Created.UTC(), LastModified: h.LastModified.UTC()}
	if v.Events == nil {
		v.Events = []string{}
	}
	if !h.FirstFailed.IsZero() {
		t := h.FirstFailed.UTC()
		v.FirstFailed = &t
	}
	if !h.NextAttempt.IsZero() {
		t := h.NextAttempt.UTC()
		v.NextAttempt = &t
	}
	return v
}

// Create creates a webhook of the tenant that receives the events after
// now, and returns it with its signing secret, which is shown this once.
func (s *Service) Create(ctx context.Context, tenantID string, in NewWebhook) (*View, error) {
	u, err := notify.ParseWebhookURL(in.URL)
	if err != nil {
		return nil, scim.BadRequest(scim.InvalidValue, "url: %v", err)
	}
	if err := events.CheckTypes(in.Events); err != nil {
		return nil, err
	}
	secret := "fwhsec_" + randomHex(32)
	h := &store.Webhook{ID: store.NewID(), TenantID: tenantID, URL: u.String(), Types: in.Events, Enabled: true}
	h.Secret = s.o.Sealer.Seal([]byte(secret), []byte(h.ID))
	if err := s.o.Store.CreateWebhook(ctx, h); err != nil {
		return nil, err
	}
	v := view(h)
	v.Secret = secret
	return v, nil
}

// Get reads one of the tenant's webhooks.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*View, error) {
	h, err := s.o.Store.Webhook(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return view(h), nil
}

// List lists the tenant's webhooks, oldest first.
func (s *Service) List(ctx context.Context, tenantID string) ([]*View, error) {
	hooks, err := s.o.Store.Webhooks(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*View, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, view(h))
	}
	return out, nil
}

// Delete deletes one of the tenant's webhooks and its delivery log.
func (s *Service) Delete(ctx context.Context, tenantID, id string) error {
	return s.o.Store.DeleteWebhook(ctx, tenantID, id)
}

// MaxDeliveries bounds a page of the delivery log.
const MaxDeliveries = 1000

// Deliveries lists the newest entries of a webhook's delivery log, newest
// first: limit of them, 100 when 0.
func (s *Service) Deliveries(ctx context.Context, tenantID, id string, limit int) ([]Delivery, error) {
	if limit < 0 || limit > MaxDeliveries {
		return nil, scim.BadRequest(scim.InvalidValue, "limit must be between 1 and %d", MaxDeliveries)
	}
	log, err := s.o.Store.WebhookDeliveries(ctx, tenantID, id, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(log))
	for _, d := range log {
		out = append(out, Delivery{EventID: d.EventID, EventType: d.EventType, Attempt: d.Attempt, Status: d.Status,
			Error: d.Error, DurationMs: d.Duration.Milliseconds(), At: d.At.UTC(), Outcome: d.Outcome})
	}
	return out, nil
}

// Test sends a signed ping event to one of the tenant's webhooks now, logs
// it, and reports what the receiver answered. It moves no cursor and is
// not retried.
func (s *Service) Test(ctx context.Context, tenantID, id string) (*TestResult, error) {
	h, err := s.o.Store.Webhook(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	secret, err := s.o.Sealer.Open(h.Secret, []byte(h.ID))
	if err != nil {
		return nil, err
	}
	ping := Ping{ID: "ping-" + randomHex(8), Type: PingType, Time: s.o.Now().UTC(), Webhook: h.ID}
	body, err := json.Marshal(ping)
	if err != nil {
		return nil, err
	}
	res := s.post(ctx, h.URL, string(secret), ping.ID, ping.Type, body)
	d := &store.WebhookDelivery{WebhookID: h.ID, EventID: ping.ID, EventType: ping.Type, Attempt: 1, Status: res.Status,
		Error: res.Error, Duration: res.Duration, At: s.o.Now(), Outcome: store.DeliveryFailed}
	if res.Delivered {
		d.Outcome = store.DeliveryDelivered
	}
	if err := s.o.Store.AppendWebhookDelivery(ctx, d); err != nil {
		return nil, err
	}
	return &TestResult{Delivered: res.Delivered, Status: res.Status, Error: res.Error, DurationMs: res.Duration.Milliseconds()}, nil
}
