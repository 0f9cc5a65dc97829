package store

import (
	"context"
	"time"
)

// Webhooks are a tenant's subscriptions to the directory's events
// (internal/events), delivered as signed HTTP POSTs by internal/webhooks,
// and the log of those deliveries. The store keeps where each webhook's
// deliveries stand (its cursor in the events, the state of the event at
// its head) and a lease, so that one process at a time delivers a
// webhook and its events go out in order.
type Webhooks interface {
	// CreateWebhook stores a new webhook of w.TenantID and sets its ID
	// (when empty: the caller may choose it, to seal the secret to it),
	// Version, Created and LastModified. A webhook created with no Cursor
	// starts after the tenant's last change: it delivers what happens
	// from now on. An unknown tenant is ErrNotFound.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// Webhook reads one of the tenant's webhooks, or returns ErrNotFound.
	Webhook(ctx context.Context, tenantID, id string) (*Webhook, error)
	// Webhooks lists a tenant's webhooks, oldest first, or with tenantID
	// "" every tenant's.
	Webhooks(ctx context.Context, tenantID string) ([]*Webhook, error)
	// DeleteWebhook removes a webhook and its delivery log, or returns
	// ErrNotFound.
	DeleteWebhook(ctx context.Context, tenantID, id string) error

	// ClaimWebhook takes or renews owner's lease on a webhook until the
	// store's clock plus ttl (the database's clock, as ClaimJob's), and
	// returns the webhook as it stands after the claim and whether owner
	// holds it. A webhook that does not exist is ErrNotFound.
	ClaimWebhook(ctx context.Context, id, owner string, ttl time.Duration) (*Webhook, bool, error)
	// ReleaseWebhook gives up owner's lease on a webhook, if owner holds it.
	ReleaseWebhook(ctx context.Context, id, owner string) error
	// PutWebhookState records where a webhook's deliveries stand and, when
	// d is not nil, appends d to its delivery log, in one write, if owner
	// still holds the webhook's lease; otherwise it writes nothing and
	// returns an error wrapping ErrLeaseLost.
	PutWebhookState(ctx context.Context, id, owner string, st WebhookState, d *WebhookDelivery) error
	// AppendWebhookDelivery appends to a webhook's delivery log without a
	// lease: a test delivery, which moves no cursor. It sets d.At and d.Seq.
	AppendWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// WebhookDeliveries lists the newest entries of one of the tenant's
	// webhooks' delivery log, newest first: limit of them (100 when 0, at
	// most 1000). A webhook the tenant does not have is ErrNotFound.
	WebhookDeliveries(ctx context.Context, tenantID, id string, limit int) ([]*WebhookDelivery, error)
	// PruneWebhookDeliveries deletes the delivery log entries of every
	// webhook from before before, and returns how many.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error)
}

// Webhook is a tenant's subscription to the directory's events.
type Webhook struct {
	ID       string
	TenantID string
	URL      string
	// Types are the event types (or families, "user.*") it receives; all
	// when empty.
	Types []string
	// Secret is the signing secret, sealed by the caller; the store never
	// sees it in clear.
	Secret  []byte
	Enabled bool
	WebhookState
	// LeaseOwner is the process that holds or last held the webhook's
	// lease, until LeaseExpires; "" when nobody ever did or it was
	// released.
	LeaseOwner   string
	LeaseExpires time.Time
	Version      int64 // starts at 1, incremented by every write of the state
	Created      time.Time
	LastModified time.Time
}

// WebhookState is where a webhook's deliveries stand.
type WebhookState struct {
	// Cursor is the events cursor of the last event delivered or given
	// up on: the next delivery is of the first event after it.
	Cursor string
	// Attempts counts the failed attempts to deliver the event after
	// Cursor; 0 when it has not failed.
	Attempts int
	// FirstFailed is when its first attempt failed; NextAttempt when it
	// is tried again; LastError what the last attempt met. Zero and ""
	// when Attempts is 0.
	FirstFailed time.Time
	NextAttempt time.Time
	LastError   string
}

// The outcomes of a webhook delivery attempt.
const (
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryRetrying  = "retrying"  // it failed and is tried again later
	DeliveryGaveUp    = "gave-up"   // it failed for too long; the webhook moved past the event
	DeliveryFailed    = "failed"    // a test delivery failed; it is not tried again
	// DeliveryLost: events after the webhook's cursor were deleted by the
	// change feed's retention before they were delivered; EventID is the
	// last of them, and the webhook goes on after it.
	DeliveryLost = "lost"
)

// WebhookDelivery is one attempt to deliver an event to a webhook.
type WebhookDelivery struct {
	Seq       int64 // orders the log; set when it is read
	WebhookID string
	EventID   string
	EventType string
	Attempt   int // 1 for the first attempt at the event
	// Status is the receiver's HTTP status; 0 when there was no answer
	// (Error says why).
	Status   int
	Error    string
	Duration time.Duration
	At       time.Time // set by the store when zero
	Outcome  string    // one of the Delivery constants
}
