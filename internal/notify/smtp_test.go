package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

const testPassword = "s3cr3t-Pa55word"

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		want SMTPConfig
	}{
		{"submission with auth", "smtp://user:pass@mail.example.com:587",
			SMTPConfig{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass"}},
		{"default port smtp", "smtp://mail.example.com", SMTPConfig{Host: "mail.example.com", Port: 587}},
		{"default port smtps", "smtps://mail.example.com", SMTPConfig{Host: "mail.example.com", Port: 465, ImplicitTLS: true}},
		{"trailing slash", "smtp://mail.example.com:25/", SMTPConfig{Host: "mail.example.com", Port: 25}},
		{"scheme case", "SMTPS://mail.example.com:2465", SMTPConfig{Host: "mail.example.com", Port: 2465, ImplicitTLS: true}},
		{"percent-encoded", "smtp://ops%40example.com:p%2Fa%3Ass@mail.example.com:587",
			SMTPConfig{Host: "mail.example.com", Port: 587, Username: "ops@example.com", Password: "p/a:ss"}},
		{"at sign in password", "smtp://u:p@ss@h:25", SMTPConfig{Host: "h", Port: 25, Username: "u", Password: "p@ss"}},
		{"ipv6", "smtp://[::1]:2525", SMTPConfig{Host: "::1", Port: 2525}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSMTPURL(tt.url)
			if err != nil {
				t.Fatalf("ParseSMTPURL(%q): %v", tt.url, err)
			}
			if got.Host != tt.want.Host || got.Port != tt.want.Port || got.ImplicitTLS != tt.want.ImplicitTLS ||
				got.Username != tt.want.Username || got.Password != tt.want.Password {
				t.Errorf("ParseSMTPURL(%q) = %+v, want %+v (passwords %q, %q)", tt.url, got, tt.want, got.Password, tt.want.Password)
			}
		})
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, want string
	}{
		{"no scheme", "mail.example.com:587", "does not start with smtp://"},
		{"no scheme with password", "ops:" + testPassword + "@mail.example.com:587", "does not start with smtp://"},
		{"http", "http://mail.example.com", `has scheme "http"`},
		{"no host", "smtp://", "has no host"},
		{"opaque", "smtp:mail.example.com", "does not start with smtp://"},
		{"empty scheme", "://h", "does not start with smtp://"},
		{"port zero", "smtp://h:0", `port "0"`},
		{"port too big", "smtp://h:70000", `port "70000"`},
		{"path", "smtp://u:" + testPassword + "@h/x", "path, query or fragment"},
		{"query", "smtp://h?starttls=no", "path, query or fragment"},
		{"empty query", "smtp://h?", "path, query or fragment"},
		{"hash in password", "smtp://u:" + testPassword + "#0@h:25", "%3F, %23"},
		{"question mark in password", "smtp://u:" + testPassword + "?0@h:25", "%3F, %23"},
		{"slash in password and bad scheme", "http://u:" + testPassword + "/0@h:25", `has scheme "http"`},
		{"scheme separator in password", "u:" + testPassword + "://0@h:25", "does not start with smtp://"},
		{"user without password", "smtp://u@h", "user name but no password"},
		{"password without user", "smtp://:" + testPassword + "@h", "password but no user name"},
		{"slash in password", "smtp://u:" + testPassword + "/x@h:25", "not a valid URL"},
		{"bad escape in password", "smtp://u:" + testPassword + "%zz@h", "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSMTPURL(tt.url)
			if err == nil {
				t.Fatalf("ParseSMTPURL(%q) = nil error, want one containing %q", tt.url, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSMTPURL(%q) = %q, want it to contain %q", tt.url, err, tt.want)
			}
			for _, leak := range []string{testPassword, testPassword[:6]} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q shows (part of) the password", err)
				}
			}
		})
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	for _, pw := range []string{testPassword, "pa/ss", "p@ss", "pa ss%", "pass#word", "x?y=z"} {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 6 || strings.Contains("smtp://user:@mail.example.com:587 the SMTP URL xxxxx", pw) {
			return
		}
		cfg, err := ParseSMTPURL("smtp://user:" + pw + "@mail.example.com:587")
		if err != nil {
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("error %q shows the password", err)
			}
			return
		}
		for _, s := range []string{cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg)} {
			if cfg.Password != "" && strings.Contains(s, cfg.Password) {
				t.Fatalf("%q shows the password", s)
			}
		}
	})
}

func TestSMTPConfigHidesPassword(t *testing.T) {
	t.Parallel()
	cfg, err := ParseSMTPURL("smtps://ops:" + testPassword + "@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.String(), "smtps://ops:xxxxx@mail.example.com:465"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("smtp", "config", cfg)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMailer(cfg, "ferry@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%v of pointer": fmt.Sprintf("%v", &cfg), "slog": logged.String(), "json": string(js),
		"Mailer": m.String(), "%+v of Mailer": fmt.Sprintf("%+v", m),
	} {
		if strings.Contains(s, testPassword) {
			t.Errorf("%s shows the password: %s", name, s)
		}
	}
}

// testEvent is the event most tests send.
func testEvent() Event {
	return Event{
		ID:      "evt-0001",
		Type:    TypeQuarantine,
		Tenant:  "acme",
		App:     "github",
		At:      time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Subject: "Ferry: github is in quarantine (CredentialsRefused)",
		Text:    "The target refused Ferry's credentials (401).\nFix the secret token, then run:\n\n  ferry apps restart github\n",
		Data:    map[string]any{"reason": "CredentialsRefused", "status": 401},
	}
}

func mustMailer(t *testing.T, cfg SMTPConfig) *Mailer {
	t.Helper()
	m, err := NewMailer(cfg, "Ferry <ferry@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMailerSend(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t, "mail.example.test")
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	to := []string{"ops@example.com", "jane@example.org"}

	tests := []struct {
		name    string
		server  smtpServerOptions
		url     string            // %d is the server's port
		setup   func(*SMTPConfig) // adds TLS roots, dialers
		wantTLS bool
		auth    bool
	}{
		{
			name:   "plain PLAIN auth on localhost",
			server: smtpServerOptions{user: "ops", pass: testPassword, insecureAuth: true},
			url:    "smtp://ops:" + testPassword + "@127.0.0.1:%d", auth: true,
		},
		{
			name:   "LOGIN when PLAIN is not offered",
			server: smtpServerOptions{user: "ops", pass: testPassword, mechs: []string{"LOGIN"}, tls: serverTLS},
			url:    "smtp://ops:" + testPassword + "@127.0.0.1:%d",
			setup:  func(c *SMTPConfig) { c.TLSConfig = &tls.Config{RootCAs: roots} },
			auth:   true, wantTLS: true,
		},
		{
			name:   "no auth",
			server: smtpServerOptions{},
			url:    "smtp://127.0.0.1:%d",
		},
		{
			name:   "STARTTLS offered is used",
			server: smtpServerOptions{user: "ops", pass: testPassword, tls: serverTLS},
			url:    "smtp://ops:" + testPassword + "@127.0.0.1:%d",
			setup:  func(c *SMTPConfig) { c.TLSConfig = &tls.Config{RootCAs: roots} },
			auth:   true, wantTLS: true,
		},
		{
			name:   "implicit TLS",
			server: smtpServerOptions{user: "ops", pass: testPassword, tls: serverTLS, implicit: true},
			url:    "smtps://ops:" + testPassword + "@127.0.0.1:%d",
			setup:  func(c *SMTPConfig) { c.TLSConfig = &tls.Config{RootCAs: roots} },
			auth:   true, wantTLS: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, tt.server)
			cfg, err := ParseSMTPURL(fmt.Sprintf(tt.url, srv.Port))
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(&cfg)
			}
			ev := testEvent()
			if err := mustMailer(t, cfg).Send(t.Context(), to, ev); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.From != "ferry@example.com" {
				t.Errorf("MAIL FROM = %q, want ferry@example.com", got.From)
			}
			if strings.Join(got.To, ",") != strings.Join(to, ",") {
				t.Errorf("RCPT TO = %v, want %v", got.To, to)
			}
			if got.TLS != tt.wantTLS || got.Authed != tt.auth {
				t.Errorf("TLS = %v, authenticated = %v; want %v, %v", got.TLS, got.Authed, tt.wantTLS, tt.auth)
			}
			p := parseMail(t, got.Data)
			checks := map[string]string{
				"From":           `"Ferry" <ferry@example.com>`,
				"To":             "<ops@example.com>, <jane@example.org>",
				"Subject":        ev.Subject,
				"Message-Id":     "<ferry.evt-0001@example.com>",
				"Date":           "Wed, 04 Mar 2026 05:06:07 +0000",
				"Auto-Submitted": "auto-generated",
				"Content-Type":   "text/plain; charset=UTF-8",
			}
			for k, want := range checks {
				if v := p.decoded(t, k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			if p.Body != ev.Text {
				t.Errorf("body = %q, want %q", p.Body, ev.Text)
			}
		})
	}
}

// A configured dialer opens the connection, and the certificate is checked against the host of
// the URL, not the address dialled.
func TestMailerDialContextAndServerName(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t, "mail.example.test")
	srv := startSMTP(t, smtpServerOptions{tls: &tls.Config{Certificates: []tls.Certificate{cert}}})
	var mu sync.Mutex
	var dialed []string
	cfg, err := ParseSMTPURL("smtp://mail.example.test:25")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = &tls.Config{RootCAs: roots}
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, network+" "+addr)
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
	}
	if err := mustMailer(t, cfg).Send(t.Context(), []string{"ops@example.com"}, testEvent()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(dialed) != 1 || dialed[0] != "tcp mail.example.test:25" {
		t.Errorf("dialed %v, want [tcp mail.example.test:25]", dialed)
	}
	if msgs := srv.messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Errorf("received %+v, want one message over TLS", msgs)
	}
}

func TestMailerSendErrors(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t, "mail.example.test")
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	tests := []struct {
		name      string
		server    smtpServerOptions
		url       string // %d is the server's port
		remote    bool   // dial the server under the name mail.example.test
		to        []string
		want      string
		permanent bool
		noAuth    bool // the password must not even be offered
	}{
		{
			name:   "wrong password",
			server: smtpServerOptions{user: "ops", pass: "other-password", insecureAuth: true},
			url:    "smtp://ops:" + testPassword + "@127.0.0.1:%d",
			want:   "refused the user name and password", permanent: true,
		},
		{
			name:   "no STARTTLS on a remote server keeps the password",
			server: smtpServerOptions{user: "ops", pass: testPassword, insecureAuth: true},
			url:    "smtp://ops:" + testPassword + "@mail.example.test:%d", remote: true,
			want: "did not offer STARTTLS", permanent: true, noAuth: true,
		},
		{
			name:   "untrusted certificate",
			server: smtpServerOptions{tls: serverTLS},
			url:    "smtp://127.0.0.1:%d",
			want:   "certificate", permanent: true,
		},
		{
			name:   "recipient refused",
			server: smtpServerOptions{rejectRcpt: "gone@example.com"},
			url:    "smtp://127.0.0.1:%d", to: []string{"gone@example.com"},
			want: "550", permanent: true,
		},
		{
			name:   "temporary failure",
			server: smtpServerOptions{failData: 1},
			url:    "smtp://127.0.0.1:%d",
			want:   "451", permanent: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, tt.server)
			cfg, err := ParseSMTPURL(fmt.Sprintf(tt.url, srv.Port))
			if err != nil {
				t.Fatal(err)
			}
			if tt.remote {
				cfg.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
				}
			}
			to := tt.to
			if to == nil {
				to = []string{"ops@example.com"}
			}
			err = mustMailer(t, cfg).Send(t.Context(), to, testEvent())
			if err == nil {
				t.Fatalf("Send succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send = %q, want it to contain %q", err, tt.want)
			}
			if isPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", isPermanent(err), tt.permanent, err)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
			if tt.noAuth && srv.authAttempts() != 0 {
				t.Errorf("the client sent AUTH %d times over a cleartext connection", srv.authAttempts())
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestNewMailerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  SMTPConfig
		from string
		want string
	}{
		{"no host", SMTPConfig{Port: 25}, "ferry@example.com", "no host"},
		{"bad port", SMTPConfig{Host: "h", Port: 0}, "ferry@example.com", "out of range"},
		{"no from", SMTPConfig{Host: "h", Port: 25}, " ", "--smtp-from"},
		{"bad from", SMTPConfig{Host: "h", Port: 25}, "not-an-email", `"not-an-email" is not an email address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewMailer(tt.cfg, tt.from)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewMailer = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, from, want string }{
		{"evt-1", "ferry@example.com", "ferry.evt-1@example.com"},
		{"a b<c>@d", "ferry@example.com", "ferry.a=20b=3Cc=3E=40d@example.com"},
		{"é", "nodomain", "ferry.=C3=A9@ferry.invalid"},
	}
	for _, tt := range tests {
		if got := messageID(tt.id, tt.from); got != tt.want {
			t.Errorf("messageID(%q, %q) = %q, want %q", tt.id, tt.from, got, tt.want)
		}
	}
}

func TestMailerHeadersAndText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, subject, text, wantSubject string
	}{
		{"line break in subject", "app x\r\nBcc: victim@example.com", "body\n", "app x Bcc: victim@example.com"},
		{"non-ASCII", "Ferry: café is in quarantine", "Naïve résumé — 日本語\n" + strings.Repeat("long line ", 20) + "\n", "Ferry: café is in quarantine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, smtpServerOptions{})
			ev := testEvent()
			ev.Subject, ev.Text = tt.subject, tt.text
			if err := mustMailer(t, SMTPConfig{Host: "127.0.0.1", Port: srv.Port}).Send(t.Context(), []string{"ops@example.com"}, ev); err != nil {
				t.Fatal(err)
			}
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("received %d messages", len(msgs))
			}
			p := parseMail(t, msgs[0].Data)
			if got := p.decoded(t, "Subject"); got != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", got, tt.wantSubject)
			}
			if p.Body != tt.text {
				t.Errorf("body = %q, want %q", p.Body, tt.text)
			}
			if p.Header.Get("Bcc") != "" || len(msgs[0].To) != 1 {
				t.Errorf("the subject added a header or recipient: %v %v", p.Header, msgs[0].To)
			}
		})
	}
}
