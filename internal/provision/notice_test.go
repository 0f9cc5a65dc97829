package provision_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ferryid/ferry/internal/notify"
	. "github.com/ferryid/ferry/internal/provision"
)

// inbox is a real SMTP server (emersion/go-smtp) in the test process: each
// message it accepts arrives on its channel.
type inbox struct {
	addr string
	mail chan string
}

func newInbox(t *testing.T) *inbox {
	t.Helper()
	in := &inbox{mail: make(chan string, 16)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &inboxSession{in: in}, nil }))
	s.Domain = "localhost"
	s.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelError)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	in.addr = l.Addr().String()
	return in
}

type inboxSession struct {
	in *inbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.in.mail <- "To: " + strings.Join(s.to, ",") + "\n" + string(b)
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

// notifier returns a notifier that mails through the inbox's server.
func (in *inbox) notifier(t *testing.T) *notify.Notifier {
	t.Helper()
	cfg, err := notify.ParseSMTPURL("smtp://" + in.addr)
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := notify.NewMailer(cfg, "ferry@example.com")
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(notify.Options{Mailer: mailer, Logger: discardLogger()})
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// next returns the next message, failing the test when none comes within
// a bound far beyond a delivery's time.
func (in *inbox) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-in.mail:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no mail arrived")
		return ""
	}
}

// TestQuarantineEmail: a target that refuses the token quarantines the
// job at once, and the application's notification address gets an email
// with the reason, on a real SMTP server.
func TestQuarantineEmail(t *testing.T) {
	ctx := context.Background()
	in := newInbox(t)
	n := in.notifier(t)
	d := newDirectoryWith(t, func(o *Options) { o.Notifier = n })
	tg := newTarget(t)
	d.seedUsers(t, 3, "Engineer")
	const name = "mailed"
	if _, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "ringcentral", TenantURL: tg.url, SecretToken: "not-the-token", Scope: ScopeAll}); err != nil {
		t.Fatal(err)
	}
	v, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	cfgApp := v.Config
	cfgApp.NotificationEmail = "not-an-email"
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfgApp}); err == nil || !strings.Contains(err.Error(), "notificationEmail") {
		t.Errorf("a notificationEmail that is not an address was accepted: %v", err)
	}
	cfgApp.NotificationEmail = "ops@example.com, it@example.com"
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfgApp}); err != nil {
		t.Fatal(err)
	}
	d.cycle(t, name, true)
	m := in.next(t)
	for _, want := range []string{"ops@example.com", "it@example.com", "mailed is quarantined", "EncounteredQuarantineException", "/Users"} {
		if !strings.Contains(m, want) {
			t.Errorf("the email lacks %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "not-the-token") {
		t.Error("the email holds the secret token")
	}
}

// TestFailureDigest: with notifyOnFailure, a cycle in which objects
// failed sends a digest that says how many and what to run.
func TestFailureDigest(t *testing.T) {
	ctx := context.Background()
	in := newInbox(t)
	n := in.notifier(t)
	d := newDirectoryWith(t, func(o *Options) { o.Notifier = n })
	base := newTarget(t)
	d.seedUsers(t, 3, "Engineer")
	tg := base.inject(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == "POST" {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"title is not allowed"}`)
			return true
		}
		return false
	})
	const name = "digest"
	d.newApp(t, tg, name, "ringcentral")
	v, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	c := v.Config
	c.NotificationEmail, c.NotifyOnFailure = "ops@example.com", true
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &c}); err != nil {
		t.Fatal(err)
	}
	d.cycle(t, name, true)
	m := in.next(t)
	for _, want := range []string{"digest: 3 objects failed", "ferry apps failures digest"} {
		if !strings.Contains(m, want) {
			t.Errorf("the digest lacks %q:\n%s", want, m)
		}
	}
}

// TestQuarantineWebhook: the application's notification webhook gets the
// quarantine as signed JSON, which its receiver can check with the
// application's webhook secret.
func TestQuarantineWebhook(t *testing.T) {
	ctx := context.Background()
	const secret = "a-webhook-secret-of-some-length"
	got := make(chan error, 1)
	var body []byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = b
		got <- notify.Verify(secret, r.Header.Get(notify.SignatureHeader), b, time.Now(), 0)
	}))
	t.Cleanup(recv.Close)
	n := notify.New(notify.Options{Logger: discardLogger()})
	t.Cleanup(func() { n.Close(ctx) })
	d := newDirectoryWith(t, func(o *Options) { o.Notifier = n })
	tg := newTarget(t)
	d.seedUsers(t, 2, "Engineer")
	const name = "hooked"
	v, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "ringcentral", TenantURL: tg.url, SecretToken: "not-the-token", Scope: ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.Config
	cfg.NotificationWebhook = recv.URL + "/ferry"
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfg}); err == nil {
		t.Error("a notification webhook without a webhook secret was accepted")
	}
	s := secret
	if _, err := d.m.UpdateApp(ctx, d.tenant, name, 0, AppChange{Config: &cfg, WebhookSecret: &s}); err != nil {
		t.Fatal(err)
	}
	if v, err := d.m.App(ctx, d.tenant, name); err != nil || !v.HasWebhookSecret {
		t.Errorf("the application does not say it has a webhook secret: %v", err)
	}
	// The target still accepts nothing with this token: the job is
	// quarantined, and the receiver told.
	d.cycle(t, name, true)
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("the webhook's signature does not verify: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook arrived")
	}
	for _, want := range []string{`"type":"quarantine"`, `"EncounteredQuarantineException"`, `"app":"hooked"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the webhook body lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "not-the-token") || strings.Contains(string(body), secret) {
		t.Error("the webhook body holds a secret")
	}
}
