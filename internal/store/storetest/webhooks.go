package storetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/store"
)

// The tests of store.Webhooks: the records, their lease, and the
// delivery log.

func createWebhook(t *testing.T, s store.Store, tenantID, url string, types ...string) *store.Webhook {
	t.Helper()
	w := &store.Webhook{TenantID: tenantID, URL: url, Types: types, Secret: []byte("sealed"), Enabled: true}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", url, err)
	}
	return w
}

// testWebhooks creates, reads, lists and deletes webhooks: a new one
// starts after the tenant's last change, tenants do not see each
// other's, and a deleted one takes its delivery log with it.
func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	first := createWebhook(t, s, a, "https://a.example/one")
	if first.Cursor != "0" || first.Version != 1 || first.ID == "" || first.Created.IsZero() {
		t.Errorf("a webhook of a tenant without changes: %+v, want cursor 0, version 1, an id and a time", first)
	}
	create(t, s, a, store.UserType, user(t, "alice"))
	create(t, s, b, store.UserType, user(t, "bob"))
	changes, err := s.Changes(ctx, a, 0, 10)
	if err != nil || len(changes) != 1 {
		t.Fatalf("Changes: %v, %v", changes, err)
	}
	second := createWebhook(t, s, a, "https://a.example/two", "user.*", "group.created")
	if want := strconv.FormatInt(changes[0].Seq, 10); second.Cursor != want {
		t.Errorf("cursor of a webhook created after a change = %q, want %q (after the tenant's last change)", second.Cursor, want)
	}
	other := createWebhook(t, s, b, "https://b.example/")

	got, err := s.Webhook(ctx, a, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != second.URL || len(got.Types) != 2 || got.Types[0] != "user.*" || string(got.Secret) != "sealed" ||
		!got.Enabled || got.Cursor != second.Cursor || !got.Created.Equal(second.Created) {
		t.Errorf("Webhook = %+v, want %+v", got, second)
	}
	if _, err := s.Webhook(ctx, b, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's webhook: %v, want ErrNotFound", err)
	}
	list, err := s.Webhooks(ctx, a)
	if err != nil || len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID || list[0].Types == nil {
		t.Errorf("Webhooks(a) = %v, %v; want first, second", list, err)
	}
	all, err := s.Webhooks(ctx, "")
	if err != nil || len(all) != 3 {
		t.Errorf("Webhooks(every tenant) = %d, %v; want 3", len(all), err)
	}
	if err := s.CreateWebhook(ctx, &store.Webhook{TenantID: "nobody", URL: "https://x.example/"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateWebhook of an unknown tenant: %v, want ErrNotFound", err)
	}

	if err := s.AppendWebhookDelivery(ctx, &store.WebhookDelivery{WebhookID: second.ID, EventID: "ping",
		EventType: "ping", Attempt: 1, Status: 204, Outcome: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, b, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWebhook of another tenant's: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, a, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhook(ctx, a, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted webhook: %v, want ErrNotFound", err)
	}
	if _, err := s.WebhookDeliveries(ctx, a, second.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deliveries of a deleted webhook: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, a, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWebhook again: %v, want ErrNotFound", err)
	}
	if _, err := s.Webhook(ctx, b, other.ID); err != nil {
		t.Errorf("the other tenant's webhook: %v", err)
	}
}

// testWebhookLeases holds a webhook's lease to one owner until it
// expires or is released, and writes its state only under the lease.
func testWebhookLeases(t *testing.T, s store.Store, c *clocktest.Clock) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	w := createWebhook(t, s, a, "https://a.example/")
	got, held, err := s.ClaimWebhook(ctx, w.ID, "one", time.Minute)
	if err != nil || !held || got.LeaseOwner != "one" || !got.LeaseExpires.Equal(c.Now().Add(time.Minute)) {
		t.Fatalf("first claim = %+v, %v, %v; want one's until a minute from now", got, held, err)
	}
	if _, held, err := s.ClaimWebhook(ctx, w.ID, "two", time.Minute); err != nil || held {
		t.Errorf("claim of a held lease = %v, %v; want not held", held, err)
	}
	st := store.WebhookState{Cursor: "7.1", Attempts: 2, FirstFailed: c.Now().Add(-time.Hour).Truncate(time.Millisecond),
		NextAttempt: c.Now().Add(time.Hour).Truncate(time.Millisecond), LastError: "the receiver answered 500"}
	d := &store.WebhookDelivery{WebhookID: w.ID, EventID: "7.1", EventType: "user.updated", Attempt: 2, Status: 500,
		Error: "the receiver answered 500", Duration: 1500 * time.Millisecond, Outcome: store.DeliveryRetrying}
	if err := s.PutWebhookState(ctx, w.ID, "one", st, d); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhookState(ctx, w.ID, "two", store.WebhookState{Cursor: "9"}, d); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("PutWebhookState by another owner: %v, want ErrLeaseLost", err)
	}
	got, err = s.Webhook(ctx, a, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WebhookState != st || got.Version != 2 {
		t.Errorf("state = %+v (version %d), want %+v (version 2)", got.WebhookState, got.Version, st)
	}

	c.Advance(time.Minute) // one's lease expires
	if err := s.PutWebhookState(ctx, w.ID, "one", store.WebhookState{Cursor: "9"}, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("PutWebhookState after the lease expired: %v, want ErrLeaseLost", err)
	}
	if got, held, err := s.ClaimWebhook(ctx, w.ID, "two", time.Minute); err != nil || !held || got.Cursor != "7.1" {
		t.Errorf("claim of an expired lease = %+v, %v, %v; want held, at cursor 7.1", got, held, err)
	}
	if err := s.ReleaseWebhook(ctx, w.ID, "one"); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := s.ClaimWebhook(ctx, w.ID, "one", time.Minute); held {
		t.Error("a release by a former owner freed the lease")
	}
	if err := s.ReleaseWebhook(ctx, w.ID, "two"); err != nil {
		t.Fatal(err)
	}
	if _, held, err := s.ClaimWebhook(ctx, w.ID, "one", time.Minute); err != nil || !held {
		t.Errorf("claim after a release = %v, %v; want held", held, err)
	}
	if _, _, err := s.ClaimWebhook(ctx, "nope", "one", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claim of no webhook: %v, want ErrNotFound", err)
	}

	log, err := s.WebhookDeliveries(ctx, a, w.ID, 0)
	if err != nil || len(log) != 1 {
		t.Fatalf("WebhookDeliveries = %v, %v; want the one delivery", log, err)
	}
	if l := log[0]; l.EventID != d.EventID || l.EventType != d.EventType || l.Attempt != 2 || l.Status != 500 ||
		l.Error != d.Error || l.Duration != d.Duration || l.Outcome != store.DeliveryRetrying || l.At.IsZero() || l.Seq == 0 {
		t.Errorf("delivery = %+v, want %+v", l, d)
	}
}

// testWebhookDeliveries lists a delivery log newest first, bounded, and
// prunes it by time.
func testWebhookDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	w := createWebhook(t, s, a, "https://a.example/")
	for i := range 5 {
		if err := s.AppendWebhookDelivery(ctx, &store.WebhookDelivery{WebhookID: w.ID, EventID: strconv.Itoa(i),
			EventType: "ping", Attempt: 1, Status: 200, Outcome: store.DeliveryDelivered}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := s.WebhookDeliveries(ctx, a, w.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range log {
		ids = append(ids, d.EventID)
	}
	if len(ids) != 3 || ids[0] != "4" || ids[1] != "3" || ids[2] != "2" {
		t.Errorf("the 3 newest deliveries = %v, want [4 3 2]", ids)
	}

	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.AppendWebhookDelivery(ctx, &store.WebhookDelivery{WebhookID: w.ID, EventID: "old", EventType: "ping",
		Attempt: 1, At: old, Outcome: store.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneWebhookDeliveries(ctx, old.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("PruneWebhookDeliveries = %d, %v; want the old one", n, err)
	}
	if log, err := s.WebhookDeliveries(ctx, a, w.ID, 0); err != nil || len(log) != 5 {
		t.Errorf("after the prune: %d deliveries, %v; want the 5 recent ones", len(log), err)
	}
}
