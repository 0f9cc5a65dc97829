package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/webhooks"
)

// TestWebhooksCommands creates a webhook with ferry webhooks create (its
// secret alone on the last line), pings it with test (the receiver
// verifies the signature with that secret), reads the delivery log, lists
// and deletes it.
func TestWebhooksCommands(t *testing.T) {
	t.Parallel()
	catalog := schema.Builtin()
	st := openSQLite(t, "ferry.db", catalog)
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(&stubAdmin{})
	srv.EnableWebhooks(webhooks.New(webhooks.Options{Store: st, Sealer: sealer}))
	as := ferrytest.Serve(t, st, srv.Handler())

	var mu sync.Mutex
	var secret string
	pings := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := notify.Verify(secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), 0); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		pings++
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()

	ferry := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCommand(t, "", append([]string{"webhooks", args[0], "--server", as.URL, "--token", as.AdminToken}, args[1:]...)...)
		if code != wantCode {
			t.Fatalf("ferry webhooks %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return stdout, stderr
	}
	if _, stderr := ferry(1, "create", "--url", "https://example.com/", "--events", "user.nope"); !strings.Contains(stderr, `"user.nope" is no event type`) {
		t.Errorf("an unknown type: %s", stderr)
	}
	out, notes := ferry(0, "create", "--url", receiver.URL+"/ferry", "--events", "user.*,group.deleted")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "fwhsec_") || !strings.Contains(notes, "shown only now") {
		t.Fatalf("create: stdout %q, stderr %q: want the secret alone, and a note", out, notes)
	}
	mu.Lock()
	secret = lines[0]
	mu.Unlock()

	out, _ = ferry(0, "list")
	if !strings.Contains(squash(out), receiver.URL+"/ferry user.*,group.deleted") || strings.Contains(out, secret) {
		t.Errorf("list:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]

	out, _ = ferry(0, "test", id)
	if !strings.Contains(out, "answered 200 to a signed ping") || pings != 1 {
		t.Errorf("test: %q (%d pings)", out, pings)
	}
	out, _ = ferry(0, "deliveries", id)
	if !strings.Contains(squash(out), "ping 1 200 delivered") {
		t.Errorf("deliveries:\n%s", out)
	}
	out, _ = ferry(0, "deliveries", id, "--limit", "5", "--json")
	var log []webhooks.Delivery
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log) != 1 || log[0].EventType != "ping" {
		t.Errorf("deliveries --json: %s", out)
	}
	if _, stderr := ferry(1, "deliveries", id, "--limit", "5000"); !strings.Contains(stderr, "--limit 5000") {
		t.Errorf("a limit too large: %s", stderr)
	}
	ferry(0, "delete", id)
	if _, stderr := ferry(1, "test", id); !strings.Contains(stderr, "not found") {
		t.Errorf("test of a deleted webhook: %s", stderr)
	}
}
