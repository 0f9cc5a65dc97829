package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Errors of Notify when it cannot take a delivery.
var (
	ErrQueueFull = errors.New("notification queue is full")
	ErrClosed    = errors.New("notifier is closed")
)

// Defaults of Options.
const (
	DefaultQueueSize      = 256
	DefaultWorkers        = 4
	DefaultMaxAttempts    = 6
	DefaultAttemptTimeout = 30 * time.Second
)

// DefaultBackoff waits 10 s before the second attempt and doubles each time, up to 10 min:
// with DefaultMaxAttempts a delivery is tried for about five minutes.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// Options configure a Notifier. The zero value works: no email, webhooks with a standard client.
type Options struct {
	// Mailer sends email; nil refuses routes with email addresses.
	Mailer *Mailer
	// HTTPClient posts webhooks; nil means a client with the default transport. Redirects are
	// never followed, whatever its CheckRedirect says.
	HTTPClient *http.Client
	// Logger receives one line per outcome and per failed attempt; nil means slog.Default().
	Logger *slog.Logger

	// QueueSize bounds the deliveries not yet finished (waiting, being sent, or waiting to be
	// retried); Notify drops deliveries beyond it. Default DefaultQueueSize.
	QueueSize int
	// Workers is how many deliveries are sent at once. Default DefaultWorkers.
	Workers int
	// MaxAttempts bounds the attempts of one delivery. Default DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after attempt n failed. Default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// AttemptTimeout bounds one attempt. Default DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	// Now stamps webhook signatures and events without a time; default time.Now.
	Now func() time.Time
	// Sleep waits between attempts and returns early with an error when ctx ends; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// A Route says where one application's notifications go.
type Route struct {
	// Email lists the recipients (see ParseAddresses); empty sends no email.
	Email []string
	// WebhookURL receives the signed JSON (see ParseWebhookURL); empty sends no webhook.
	WebhookURL string
	// WebhookSecret keys the signature; required with WebhookURL.
	WebhookSecret string `json:"-"`
	// Check, when set, is called right before each attempt; an error abandons the delivery.
	// The engine uses it to confirm the application still wants the notification (it still
	// exists, its notification settings and lease are those the event was routed with).
	Check func(ctx context.Context) error `json:"-"`
}

// A Notifier delivers events in the background. It is safe for concurrent use.
type Notifier struct {
	mailer   *Mailer
	webhook  *webhook
	log      *slog.Logger
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	backoff  func(int) time.Duration
	attempts int
	timeout  time.Duration

	queue  chan *delivery
	ctx    context.Context // ends when Close gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	capacity  int
	pending   int // admitted and not finished
	closed    bool
	drained   chan struct{}
	abandoned int
}

// delivery is one event on one channel.
type delivery struct {
	ev       Event
	channel  string // "email" or "webhook"
	to       string // for logs: recipients, or the redacted URL
	check    func(context.Context) error
	send     func(ctx context.Context) error
	attempts int
}

// New starts a Notifier; Close stops it.
func New(opts Options) *Notifier {
	n := &Notifier{
		mailer:   opts.Mailer,
		log:      opts.Logger,
		now:      opts.Now,
		sleep:    opts.Sleep,
		backoff:  opts.Backoff,
		attempts: opts.MaxAttempts,
		timeout:  opts.AttemptTimeout,
		capacity: opts.QueueSize,
		drained:  make(chan struct{}),
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.sleep == nil {
		n.sleep = sleep
	}
	if n.backoff == nil {
		n.backoff = DefaultBackoff
	}
	if n.attempts <= 0 {
		n.attempts = DefaultMaxAttempts
	}
	if n.timeout <= 0 {
		n.timeout = DefaultAttemptTimeout
	}
	if n.capacity <= 0 {
		n.capacity = DefaultQueueSize
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	n.webhook = newWebhook(opts.HTTPClient, n.now)
	// Every admitted delivery fits in the channel, so a retry can always go back in.
	n.queue = make(chan *delivery, n.capacity)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(workers)
	for range workers {
		go n.work()
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Notify queues ev for every channel of r and returns at once. It returns the joined errors of
// what it could not queue: an invalid event or route, ErrQueueFull (also logged), ErrClosed.
// Channels that were valid are queued even when another was not.
func (n *Notifier) Notify(ev Event, r Route) error {
	if err := ev.validate(); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if ev.At.IsZero() {
		ev.At = n.now()
	}
	ev.At = ev.At.UTC()
	var ds []*delivery
	var errs []error
	if len(r.Email) > 0 {
		d, err := n.emailDelivery(ev, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify %s by email: %w", ev.ID, err))
		} else {
			ds = append(ds, d)
		}
	}
	if r.WebhookURL != "" {
		d, err := n.webhookDelivery(ev, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify %s by webhook: %w", ev.ID, err))
		} else {
			ds = append(ds, d)
		}
	}
	for _, d := range ds {
		if err := n.enqueue(d); err != nil {
			errs = append(errs, fmt.Errorf("notify %s by %s: %w", ev.ID, d.channel, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Notifier) emailDelivery(ev Event, r Route) (*delivery, error) {
	if n.mailer == nil {
		return nil, errors.New("no SMTP server is configured: start ferry serve with --smtp-url and --smtp-from (or FERRY_SMTP_URL and FERRY_SMTP_FROM)")
	}
	if len(r.Email) > MaxRecipients {
		return nil, fmt.Errorf("%d recipients; at most %d are allowed", len(r.Email), MaxRecipients)
	}
	for _, a := range r.Email {
		if err := validAddress(a); err != nil {
			return nil, err
		}
	}
	to := append([]string(nil), r.Email...)
	m := n.mailer
	return &delivery{
		ev: ev, channel: "email", to: strings.Join(to, ", "), check: r.Check,
		send: func(ctx context.Context) error { return m.Send(ctx, to, ev) },
	}, nil
}

func (n *Notifier) webhookDelivery(ev Event, r Route) (*delivery, error) {
	u, err := ParseWebhookURL(r.WebhookURL)
	if err != nil {
		return nil, err
	}
	if r.WebhookSecret == "" {
		return nil, errors.New("the webhook has no secret to sign with")
	}
	// Encoded now, so that every attempt signs the same bytes and later changes to ev.Data by
	// the caller do not race with the sender.
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event as JSON: %w", err)
	}
	secret, w := r.WebhookSecret, n.webhook
	return &delivery{
		ev: ev, channel: "webhook", to: redactURL(u), check: r.Check,
		send: func(ctx context.Context) error { return w.post(ctx, u, secret, ev, body) },
	}, nil
}

func (n *Notifier) enqueue(d *delivery) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if n.pending >= n.capacity {
		n.log.Error("notification dropped: the queue is full", append(d.attrs(), slog.Int("queue_size", n.capacity))...)
		return ErrQueueFull
	}
	n.pending++
	n.queue <- d
	return nil
}

func (d *delivery) attrs() []any {
	return []any{
		slog.String("event_id", d.ev.ID), slog.String("event_type", d.ev.Type),
		slog.String("tenant", d.ev.Tenant), slog.String("app", d.ev.App),
		slog.String("channel", d.channel), slog.String("to", d.to),
	}
}

func (n *Notifier) work() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case d := <-n.queue:
			n.attempt(d)
		}
	}
}

func (n *Notifier) attempt(d *delivery) {
	if n.ctx.Err() != nil {
		n.abandon(d, "the notifier was closed before it was sent")
		return
	}
	d.attempts++
	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	if d.check != nil {
		if err := d.check(ctx); err != nil {
			if n.ctx.Err() != nil {
				n.abandon(d, "the notifier was closed before it was sent")
				return
			}
			n.log.Info("notification abandoned: no longer wanted", append(d.attrs(), slog.Int("attempts", d.attempts-1), slog.String("reason", err.Error()))...)
			n.finish()
			return
		}
	}
	err := d.send(ctx)
	switch {
	case err == nil:
		n.log.Info("notification delivered", append(d.attrs(), slog.Int("attempts", d.attempts))...)
		n.finish()
	case n.ctx.Err() != nil:
		n.abandon(d, "the notifier was closed while it was being sent")
	case isPermanent(err) || d.attempts >= n.attempts:
		n.log.Error("notification failed", append(d.attrs(), slog.Int("attempts", d.attempts), slog.Bool("retryable", !isPermanent(err)), slog.String("error", err.Error()))...)
		n.finish()
	default:
		wait := n.backoff(d.attempts)
		n.log.Warn("notification attempt failed; will retry", append(d.attrs(), slog.Int("attempt", d.attempts), slog.Duration("retry_in", wait), slog.String("error", err.Error()))...)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if n.sleep(n.ctx, wait) != nil || n.ctx.Err() != nil {
				n.abandon(d, "the notifier was closed while it waited to retry")
				return
			}
			n.queue <- d
		}()
	}
}

func (n *Notifier) abandon(d *delivery, why string) {
	n.log.Error("notification not sent: "+why, append(d.attrs(), slog.Int("attempts", d.attempts))...)
	n.mu.Lock()
	n.abandoned++
	n.mu.Unlock()
	n.finish()
}

func (n *Notifier) finish() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending--
	if n.closed && n.pending == 0 {
		close(n.drained)
	}
}

// Close stops taking events and waits until every queued delivery is finished or ctx ends;
// then it cancels what is still being sent or waiting to be retried, logs each of those as not
// sent, and returns ctx's error. It returns once the background goroutines have stopped.
// Calling Close again returns nil at once.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	if n.pending == 0 {
		close(n.drained)
	}
	n.mu.Unlock()

	var err error
	select {
	case <-n.drained:
	case <-ctx.Done():
		err = ctx.Err()
	}
	n.cancel()
	n.wg.Wait()
	for empty := false; !empty; {
		select {
		case d := <-n.queue:
			n.abandon(d, "the notifier was closed before it was sent")
		default:
			empty = true
		}
	}
	if err != nil {
		n.mu.Lock()
		lost := n.abandoned
		n.mu.Unlock()
		return fmt.Errorf("notify: closed with %d deliveries not sent: %w", lost, err)
	}
	return nil
}
