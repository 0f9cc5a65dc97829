package ldapsource

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Defaults applied to a Config's zero fields.
const (
	DefaultPageSize         = 500 // within Active Directory's MaxPageSize (1000)
	DefaultTimeout          = time.Minute
	DefaultInterval         = 5 * time.Minute
	DefaultFullInterval     = time.Hour
	DefaultMaxShrinkPercent = 20
)

// Config is one LDAP source: where the directory is, how to bind, what to
// read and how to map it. The scheduler stores it; Validate checks it.
type Config struct {
	// Name names the source. It is part of the externalId of every object
	// the source creates (see the package documentation), so it must not
	// change once the source has run: 1 to 64 letters, digits, '.', '_'
	// or '-'.
	Name string
	// URL is ldap://host[:port], ldaps://host[:port] or
	// ldapi://%2Fpath%2Fto%2Fsocket (RFC 4516 syntax; the socket path
	// percent-encoded in the host part).
	URL string
	// StartTLS upgrades an ldap:// connection with the StartTLS extended
	// operation (RFC 4511 §4.14) before binding.
	StartTLS bool
	// CAFile is a PEM file of the certificate authorities that ldaps:// and
	// StartTLS trust; the system's roots when empty.
	CAFile string
	// BindDN and BindPassword are the simple bind's credentials (RFC 4513
	// §5.1). The password is a secret: Config's LogValue leaves it out.
	BindDN       string
	BindPassword string
	// BaseDN is where users and groups are searched, subtree.
	BaseDN string
	// UserFilter and GroupFilter select the users and the groups (RFC 4515);
	// the preset's when empty.
	UserFilter  string
	GroupFilter string
	// Preset is PresetOpenLDAP (when empty) or PresetActiveDirectory.
	Preset string
	// UserMapping and GroupMapping change the preset's mapping: a rule
	// replaces every preset rule for its SCIM path, and a rule with an
	// empty Attribute removes that path.
	UserMapping  []Rule
	GroupMapping []Rule
	// MemberAttribute holds a group's member DNs; the preset's ("member")
	// when empty.
	MemberAttribute string
	// PageSize is the RFC 2696 page size; DefaultPageSize when zero.
	PageSize int
	// SizeLimit, when positive, is the most users, and the most groups, a
	// pass may read; a directory that holds more ends the pass with
	// ErrSizeLimit, as a server's own size limit does. Zero: no limit of
	// our own.
	SizeLimit int
	// Timeout bounds each LDAP request, the dial and the bind included;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Interval is how often the scheduler runs an incremental pass, and
	// FullInterval how often a full one, which alone finds deletions;
	// DefaultInterval and DefaultFullInterval when zero.
	Interval     time.Duration
	FullInterval time.Duration
	// MaxShrinkPercent is the read guard's threshold: a full pass that
	// finds more than this share of the source's users, or of its groups,
	// gone disables and deletes nothing. DefaultMaxShrinkPercent when zero;
	// 100 turns the guard off.
	MaxShrinkPercent int
}

// LogValue is the configuration as log lines show it: no password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name), slog.String("url", c.URL), slog.Bool("start_tls", c.StartTLS),
		slog.String("bind_dn", c.BindDN), slog.String("base_dn", c.BaseDN), slog.String("preset", c.preset()),
	)
}

func (c Config) preset() string {
	if c.Preset == "" {
		return PresetOpenLDAP
	}
	return c.Preset
}

// withDefaults returns c with its zero fields given their defaults.
func (c Config) withDefaults() Config {
	c.Preset = c.preset()
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.FullInterval == 0 {
		c.FullInterval = DefaultFullInterval
	}
	if c.MaxShrinkPercent == 0 {
		c.MaxShrinkPercent = DefaultMaxShrinkPercent
	}
	return c
}

// Validate reports every mistake in c, each naming its field and what to
// do about it; nil when the source can run.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !validName(c.Name) {
		bad("Name", "%q is not a source name: use 1 to 64 letters, digits, '.', '_' or '-'", c.Name)
	}
	scheme := ""
	if c.URL == "" {
		bad("URL", "missing: give ldap://host:port, ldaps://host:port or ldapi://%%2Fpath%%2Fto%%2Fsocket")
	} else if u, err := parseURL(c.URL); err != nil {
		bad("URL", "%v", err)
	} else {
		scheme = u.Scheme
	}
	if c.StartTLS && scheme != "" && scheme != "ldap" {
		bad("StartTLS", "applies to ldap:// URLs only; %s:// is already encrypted or local", scheme)
	}
	if c.CAFile != "" {
		if err := checkCAFile(c.CAFile); err != nil {
			bad("CAFile", "%v", err)
		}
	}
	if c.BindDN != "" {
		if _, err := ldap.ParseDN(c.BindDN); err != nil {
			bad("BindDN", "%q is not a DN: %v", c.BindDN, err)
		}
		if c.BindPassword == "" {
			// RFC 4513 §5.1.2: a DN with an empty password is an
			// unauthenticated bind, which servers accept and then
			// answer as anonymous.
			bad("BindPassword", "empty; a bind DN with no password would bind anonymously")
		}
	}
	if c.BaseDN == "" {
		bad("BaseDN", "missing: give the DN to search under, e.g. dc=example,dc=com")
	} else if _, err := ldap.ParseDN(c.BaseDN); err != nil {
		bad("BaseDN", "%q is not a DN: %v", c.BaseDN, err)
	}
	for _, f := range []struct{ field, value string }{{"UserFilter", c.UserFilter}, {"GroupFilter", c.GroupFilter}} {
		if f.value == "" {
			continue
		}
		if _, err := ldap.CompileFilter(f.value); err != nil {
			bad(f.field, "%q is not an LDAP filter (RFC 4515), e.g. (objectClass=inetOrgPerson): %v", f.value, err)
		}
	}
	if _, err := presetNamed(c.preset()); err != nil {
		bad("Preset", "%v", err)
	} else if _, err := Compile(c); err != nil {
		errs = append(errs, err)
	}
	if c.PageSize < 0 || c.PageSize > 1000 {
		bad("PageSize", "%d is out of range: use 1 to 1000 (Active Directory's MaxPageSize is 1000), or 0 for %d", c.PageSize, DefaultPageSize)
	}
	if c.SizeLimit < 0 {
		bad("SizeLimit", "%d is negative: use 0 for no limit", c.SizeLimit)
	}
	if c.Timeout < 0 {
		bad("Timeout", "%s is negative", c.Timeout)
	}
	if c.Interval != 0 && c.Interval < time.Minute {
		bad("Interval", "%s is too short: passes every minute or less would keep the directory server busy; use 1m or more", c.Interval)
	}
	if c.FullInterval != 0 && c.FullInterval < c.withDefaults().Interval {
		bad("FullInterval", "%s is shorter than Interval (%s)", c.FullInterval, c.withDefaults().Interval)
	}
	if c.MaxShrinkPercent < 0 || c.MaxShrinkPercent > 100 {
		bad("MaxShrinkPercent", "%d is out of range: use 1 to 100, or 0 for %d", c.MaxShrinkPercent, DefaultMaxShrinkPercent)
	}
	return errors.Join(errs...)
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// parseURL checks an LDAP URL the way go-ldap's DialURL will read it.
func parseURL(s string) (*url.URL, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, fmt.Errorf("%q is not a URL: give ldap://host:port, ldaps://host:port or ldapi://%%2Fpath%%2Fto%%2Fsocket", s)
	}
	switch strings.ToLower(scheme) {
	case "ldap", "ldaps":
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a URL: %v", s, err)
		}
		if u.Hostname() == "" {
			return nil, fmt.Errorf("%q names no host", s)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return nil, fmt.Errorf("%q has a DN or query part; give the base DN and filters in their own fields", s)
		}
		u.Scheme = strings.ToLower(scheme)
		return u, nil
	case "ldapi":
		host, _, _ := strings.Cut(rest, "/")
		path, err := url.PathUnescape(host)
		if err != nil || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("%q does not name a socket: give the absolute path percent-encoded, e.g. ldapi://%%2Fvar%%2Frun%%2Fslapd%%2Fldapi", s)
		}
		return &url.URL{Scheme: "ldapi", Host: path}, nil
	}
	return nil, fmt.Errorf("%q: the scheme must be ldap, ldaps or ldapi, not %q", s, scheme)
}

func checkCAFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return fmt.Errorf("%s holds no PEM certificate", path)
	}
	return nil
}
