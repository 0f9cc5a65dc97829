package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// Default ports of the two URL schemes: mail submission with STARTTLS (RFC 6409) and with
// implicit TLS (RFC 8314).
const (
	DefaultSMTPPort  = 587
	DefaultSMTPSPort = 465
)

// defaultSMTPTimeout bounds one send when the context has no deadline.
const defaultSMTPTimeout = 30 * time.Second

// DialFunc dials an outbound connection; (*net.Dialer).DialContext is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// SMTPConfig says how to reach the SMTP server. ParseSMTPURL fills in the first five fields; the
// others are for the caller to set. Its String, GoString and LogValue never show the password.
type SMTPConfig struct {
	Host string
	Port int
	// ImplicitTLS is set by smtps://: TLS from the first byte. Otherwise STARTTLS is used when
	// the server offers it.
	ImplicitTLS bool
	// Username and Password, when set, authenticate with AUTH PLAIN or LOGIN, whichever the
	// server offers, and only over TLS or to localhost.
	Username string
	Password string `json:"-"`

	// TLSConfig verifies the server (e.g. RootCAs for a private CA). nil means the system
	// roots; ServerName defaults to Host.
	TLSConfig *tls.Config `json:"-"`
	// DialContext opens the TCP connection; nil means a net.Dialer.
	DialContext DialFunc `json:"-"`
}

// ParseSMTPURL reads smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]. Special
// characters in the user name and password are percent-encoded (%40 for @, %2F for /).
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	const (
		form   = "expected smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]"
		escape = "write /, ?, # and % in the user name or password as %2F, %3F, %23 and %25"
	)
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "smtp://") && !strings.HasPrefix(lower, "smtps://") {
		// "user:pass@host" parses as scheme "user", so only a plain scheme is shown.
		if scheme, _, ok := strings.Cut(raw, "://"); ok && scheme != "" && strings.Trim(lower[:len(scheme)], "abcdefghijklmnopqrstuvwxyz0123456789+.-") == "" {
			return SMTPConfig{}, fmt.Errorf("the SMTP URL has scheme %q: %s", scheme, form)
		}
		return SMTPConfig{}, fmt.Errorf("the SMTP URL does not start with smtp:// or smtps://: %s", form)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message can quote part of the password (a "/" in it ends the host early),
		// so it is not passed on.
		return SMTPConfig{}, fmt.Errorf("the SMTP URL is not a valid URL: %s (%s)", form, escape)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// A /, ? or # in the password ends the host early and puts the rest of the password
		// here, so nothing of the URL is shown.
		return SMTPConfig{}, fmt.Errorf("the SMTP URL has a path, query or fragment: %s (%s)", form, escape)
	}
	// Now the user information is all before the host and Redacted hides the password.
	shown := u.Redacted()
	var cfg SMTPConfig
	cfg.Port = DefaultSMTPPort
	if strings.EqualFold(u.Scheme, "smtps") {
		cfg.Port, cfg.ImplicitTLS = DefaultSMTPSPort, true
	}
	if u.Host == "" {
		return SMTPConfig{}, fmt.Errorf("the SMTP URL %s has no host: %s", shown, form)
	}
	cfg.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("the SMTP URL %s has port %q; a port is 1 to 65535", shown, p)
		}
		cfg.Port = n
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		pass, hasPass := u.User.Password()
		cfg.Password = pass
		switch {
		case cfg.Username == "" && cfg.Password != "":
			return SMTPConfig{}, fmt.Errorf("the SMTP URL %s has a password but no user name: %s", shown, form)
		case cfg.Username != "" && (!hasPass || pass == ""):
			return SMTPConfig{}, fmt.Errorf("the SMTP URL %s has a user name but no password: %s", shown, form)
		}
	}
	return cfg, nil
}

// String returns the configuration as a URL with the password replaced by xxxxx.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	return u.String()
}

// GoString keeps the password out of %#v.
func (c SMTPConfig) GoString() string { return "notify.SMTPConfig(" + c.String() + ")" }

// LogValue keeps the password out of log lines.
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// A Mailer sends events as plain-text email through one SMTP server. Each Send opens its own
// connection, so a Mailer is safe for concurrent use.
type Mailer struct {
	cfg  SMTPConfig
	tls  *tls.Config
	from *mail.Address
}

// NewMailer returns a Mailer that sends through cfg from the address from (--smtp-from, e.g.
// "Ferry <ferry@example.com>").
func NewMailer(cfg SMTPConfig, from string) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("SMTP server has no host: set --smtp-url smtp://[user:pass@]host[:port]")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("SMTP server port %d is out of range 1 to 65535", cfg.Port)
	}
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("no sender address: set --smtp-from (e.g. ferry@example.com)")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("sender address (--smtp-from) %q is not an email address (expected e.g. ferry@example.com)", from)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.MinVersion == 0 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	return &Mailer{cfg: cfg, tls: tc, from: addr}, nil
}

// String names the server and sender, without the password.
func (m *Mailer) String() string { return m.cfg.String() + " from " + m.from.Address }

// Send sends ev to the recipients in one message, in one attempt; the Notifier retries.
func (m *Mailer) Send(ctx context.Context, to []string, ev Event) error {
	if len(to) == 0 {
		return errors.New("send email: no recipients")
	}
	msg, err := m.message(to, ev)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send email via %s: %w", m.cfg, err)
	}
	timeout := defaultSMTPTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	dial, stop := m.dialer(ctx)
	defer stop()
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(m.tls),
		gomail.WithDialContextFunc(dial),
	}
	if m.cfg.ImplicitTLS {
		// The dialer has done TLS already.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.cfg.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	client, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("send email via %s: %w", m.cfg, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return m.sendError(to, err)
	}
	return nil
}

// dialer dials through the configured function and does the TLS of smtps:// itself (go-mail
// skips it with a custom dialer). Until stop is called, the end of ctx closes the connection, so
// that a server that stops answering cannot hold up Close.
func (m *Mailer) dialer(ctx context.Context) (dial gomail.DialContextFunc, stop func()) {
	next := m.cfg.DialContext
	if next == nil {
		next = (&net.Dialer{}).DialContext
	}
	var mu sync.Mutex
	var stops []func() bool
	dial = func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if m.cfg.ImplicitTLS {
			tc := tls.Client(conn, m.tls)
			if err := tc.HandshakeContext(dctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = tc
		}
		mu.Lock()
		stops = append(stops, context.AfterFunc(ctx, func() { conn.Close() }))
		mu.Unlock()
		return conn, nil
	}
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range stops {
			s()
		}
	}
	return dial, stop
}

func (m *Mailer) message(to []string, ev Event) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	for _, a := range to {
		if err := validAddress(a); err != nil {
			return nil, fmt.Errorf("send email: %w", err)
		}
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("send email: recipients %s: %w", strings.Join(to, ", "), err)
	}
	msg.Subject(oneLine(ev.Subject))
	msg.SetMessageIDWithValue(messageID(ev.ID, m.from.Address))
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	msg.SetDateWithValue(at)
	msg.SetUserAgent("Ferry")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Ferry-Event-Type", oneLine(ev.Type))
	msg.SetBodyString(gomail.TypeTextPlain, ev.Text)
	return msg, nil
}

// sendError says what failed and whether a retry can help.
func (m *Mailer) sendError(to []string, err error) error {
	what := fmt.Sprintf("send email to %s via %s", strings.Join(to, ", "), m.cfg)
	if errors.Is(err, gosmtp.ErrUnencrypted) {
		return permanent(fmt.Errorf("%s: refusing to send the password over an unencrypted connection: the server did not offer STARTTLS (use smtps:// or a server that offers STARTTLS)", what))
	}
	var tpe *textproto.Error
	var se *gomail.SendError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tpe):
		if tpe.Code == 535 {
			return permanent(fmt.Errorf("%s: the server refused the user name and password of --smtp-url: %w", what, err))
		}
		if tpe.Code >= 500 {
			return permanent(fmt.Errorf("%s: %w", what, err))
		}
	case errors.As(err, &se):
		if se.ErrorCode() >= 500 {
			return permanent(fmt.Errorf("%s: %w", what, err))
		}
	case errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cve):
		return permanent(fmt.Errorf("%s: the server's TLS certificate is not trusted: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// messageID builds a Message-ID from the event ID, so that a retry keeps it.
func messageID(id, from string) string {
	domain := "ferry.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var b strings.Builder
	b.WriteString("ferry.")
	for _, c := range []byte(id) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String() + "@" + domain
}

func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
