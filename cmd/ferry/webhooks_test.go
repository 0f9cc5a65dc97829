package main

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/schema"
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
	srv := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(&stubAdmin{})
	srv.EnableWebhooks(ferrytest.Webhooks(t, st))
	as := ferrytest.Serve(t, st, srv.Handler())

	receiver := ferrytest.NewReceiver(t)

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
	secret := lines[0]
	receiver.SetSecret(secret)

	out, _ = ferry(0, "list")
	if !strings.Contains(squash(out), receiver.URL+"/ferry user.*,group.deleted") || strings.Contains(out, secret) {
		t.Errorf("list:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]

	out, _ = ferry(0, "test", id)
	if got := receiver.Got(); !strings.Contains(out, "answered 204 to a signed ping") || len(got) != 1 || !strings.HasPrefix(got[0], "ping ping-") {
		t.Errorf("test: %q (received %q)", out, got)
	}
	out, _ = ferry(0, "deliveries", id)
	if !strings.Contains(squash(out), "ping 1 204 delivered") {
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
