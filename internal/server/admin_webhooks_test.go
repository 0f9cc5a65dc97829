package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/webhooks"
)

// TestAdminWebhooks creates a webhook through the admin API, pings it,
// delivers an event to it, reads its delivery log and deletes it; the
// receiver verifies every signature with the secret the creation showed.
func TestAdminWebhooks(t *testing.T) {
	t.Parallel()
	catalog := schema.Builtin()
	st := openTestStore(t, catalog)
	hooks := ferrytest.Webhooks(t, st)
	srv := New(DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(&recordingAdmin{})
	srv.EnableWebhooks(hooks)
	as := &adminServer{Server: ferrytest.Serve(t, st, srv.Handler())}

	receiver := ferrytest.NewReceiver(t)

	tok := as.AdminToken
	as.call(t, tok, "POST", "/api/v1/webhooks", `{"url":"ftp://example.com/"}`).wantError(t, 400, "invalidValue", "scheme")
	as.call(t, tok, "POST", "/api/v1/webhooks", `{"url":"https://example.com/","events":["user.nope"]}`).
		wantError(t, 400, "invalidValue", "user.nope")
	as.call(t, tok, "POST", "/api/v1/webhooks", `{"url":"https://example.com/","extra":1}`).wantError(t, 400, "invalidValue", "extra")

	created := as.call(t, tok, "POST", "/api/v1/webhooks", `{"url":"`+receiver.URL+`/hook","events":["user.*"]}`)
	var v webhooks.View
	if created.Status != http.StatusCreated || json.Unmarshal([]byte(created.Raw), &v) != nil || v.Secret == "" ||
		created.Header.Get("Location") != "/api/v1/webhooks/"+v.ID || len(v.Events) != 1 || !v.Enabled {
		t.Fatalf("create: %d %s (Location %q)", created.Status, created.Raw, created.Header.Get("Location"))
	}
	receiver.SetSecret(v.Secret)

	list := as.call(t, tok, "GET", "/api/v1/webhooks", "")
	if list.Status != 200 || !strings.Contains(list.Raw, v.ID) || strings.Contains(list.Raw, v.Secret) {
		t.Errorf("list: %d %s: want the webhook, without its secret", list.Status, list.Raw)
	}
	if r := as.call(t, tok, "GET", "/api/v1/webhooks/"+v.ID, ""); r.Status != 200 || strings.Contains(r.Raw, v.Secret) {
		t.Errorf("get: %d %s", r.Status, r.Raw)
	}
	as.call(t, tok, "GET", "/api/v1/webhooks/nope", "").wantError(t, 404, "", "nope")
	other := as.token(t, "other", store.ScopeAdmin)
	as.call(t, other, "GET", "/api/v1/webhooks/"+v.ID, "").wantError(t, 404, "", v.ID)

	test := as.call(t, tok, "POST", "/api/v1/webhooks/"+v.ID+"/test", "")
	if test.Status != 200 || !strings.Contains(test.Raw, `"delivered":true`) || !strings.Contains(test.Raw, `"status":204`) {
		t.Errorf("test: %d %s", test.Status, test.Raw)
	}

	doc, _ := resource.Decode([]byte(`{"userName":"ann"}`))
	if err := st.Create(context.Background(), &store.Resource{TenantID: as.Tenant, Type: store.UserType, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	if err := hooks.DeliverAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := receiver.Got(); len(got) != 2 || !strings.HasPrefix(got[0], "ping ping-") || !strings.HasPrefix(got[1], "user.created ") {
		t.Errorf("received %q, want the ping, then ann's user.created", got)
	}

	var log []webhooks.Delivery
	deliveries := as.call(t, tok, "GET", "/api/v1/webhooks/"+v.ID+"/deliveries?limit=1", "")
	if deliveries.Status != 200 || json.Unmarshal([]byte(deliveries.Raw), &log) != nil || len(log) != 1 ||
		log[0].EventType != "user.created" || log[0].Outcome != store.DeliveryDelivered || log[0].Status != 204 {
		t.Errorf("deliveries?limit=1: %d %s: want ann's user.created, delivered", deliveries.Status, deliveries.Raw)
	}
	as.call(t, tok, "GET", "/api/v1/webhooks/"+v.ID+"/deliveries?limit=1001", "").wantError(t, 400, "invalidValue", "1000")

	if r := as.call(t, tok, "DELETE", "/api/v1/webhooks/"+v.ID, ""); r.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.Status, r.Raw)
	}
	as.call(t, tok, "GET", "/api/v1/webhooks/"+v.ID+"/deliveries", "").wantError(t, 404, "", v.ID)
}

// TestAdminWebhooksNotEnabled: a server without EnableWebhooks answers 404.
func TestAdminWebhooksNotEnabled(t *testing.T) {
	t.Parallel()
	as := newAdminTestServer(t, true)
	as.call(t, as.AdminToken, "GET", "/api/v1/webhooks", "").wantError(t, 404, "", "webhooks are not enabled")
}
