// Package egress decides which addresses Ferry's outbound connections may
// reach, and enforces it on every connection as it is dialled.
//
// A tenant administrator chooses where the provisioning engine connects (an
// application's Tenant URL, a notification webhook) and the engine sends
// the application's secret there. Unguarded, that is server-side request
// forgery: the administrator could point it at Ferry's own host, at services
// on the internal network, or at the cloud metadata service. A Policy
// refuses loopback, private, link-local, unspecified, multicast, broadcast
// and reserved addresses unless the operator allows them (ferry serve
// --egress-allow). The check runs when a connection is dialled, on the IP
// address actually dialled, after DNS resolution: no spelling of an address
// (localhost, 2130706433, 0x7f.1, ::ffff:127.0.0.1) and no DNS answer that
// changes between a check and the connection (DNS rebinding) gets past it.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Flag and Env name the operator's setting in messages.
const (
	Flag = "--egress-allow"
	Env  = "FERRY_EGRESS_ALLOW"
)

// Classes of addresses a Policy refuses unless allowed; the Class of a
// RefusedError.
const (
	Loopback    = "loopback"
	Private     = "private"
	LinkLocal   = "link-local"
	Metadata    = "cloud metadata"
	Unspecified = "unspecified"
	Multicast   = "multicast"
	Broadcast   = "broadcast"
	Reserved    = "reserved"
)

// metadata are the cloud instance metadata services, which hand out the
// machine's credentials. Two lie in ranges the word "private" allows, so
// they are a class of their own that only a CIDR or a host allows.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, Azure, GCP, Oracle, OpenStack
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// classes maps the special ranges to their class; the first that contains
// an address decides.
var classes = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified}, // "this network": 0.0.0.0 reaches the host itself
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("10.0.0.0/8"), Private},
	{netip.MustParsePrefix("172.16.0.0/12"), Private},
	{netip.MustParsePrefix("192.168.0.0/16"), Private},
	{netip.MustParsePrefix("100.64.0.0/10"), Private}, // RFC 6598 shared space: carrier NAT, cloud and VPN internals
	{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
	{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
	{netip.MustParsePrefix("255.255.255.255/32"), Broadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
	{netip.MustParsePrefix("::/128"), Unspecified},
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("fc00::/7"), Private}, // unique local addresses
	{netip.MustParsePrefix("fe80::/10"), LinkLocal},
	{netip.MustParsePrefix("ff00::/8"), Multicast},
}

// embedding are IPv6 ranges whose last 32 bits are an IPv4 address the
// connection may end up at: NAT64's well-known prefix and the deprecated
// IPv4-compatible addresses.
var embedding = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("::/96"),
}

// Policy says which addresses outbound connections may reach beyond the
// public internet. The nil *Policy and the zero Policy refuse every class
// of address; a Policy is read-only once made and safe for concurrent use.
type Policy struct {
	loopback, private bool
	prefixes          []netip.Prefix
	hosts             []string // lower case, without a trailing dot
	entries           []string // as written, normalised, for String
}

// Parse reads a comma-separated allow list: CIDRs and IP addresses
// (10.1.0.0/16, 192.168.1.10, fd12::/64), host names (scim.internal.example:
// a connection to that name is allowed whatever it resolves to), and the
// words "loopback" (127.0.0.0/8, ::1) and "private" (RFC 1918, RFC 6598's
// 100.64.0.0/10, IPv6 unique local fc00::/7; not the cloud metadata
// addresses in them). An empty list is the default policy.
func Parse(list string) (*Policy, error) {
	p := &Policy{}
	for raw := range strings.SplitSeq(list, ",") {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		switch strings.ToLower(s) {
		case Loopback:
			p.loopback = true
			p.entries = append(p.entries, Loopback)
			continue
		case Private:
			p.private = true
			p.entries = append(p.entries, Private)
			continue
		}
		if strings.Contains(s, "/") && !strings.Contains(s, "://") {
			pf, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("egress allow list: %q is not a CIDR such as 10.1.0.0/16 or fd12::/64", s)
			}
			p.addPrefix(pf)
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil {
			ip = ip.WithZone("")
			p.addPrefix(netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		host, err := hostName(s)
		if err != nil {
			return nil, err
		}
		p.hosts = append(p.hosts, host)
		p.entries = append(p.entries, host)
	}
	return p, nil
}

func (p *Policy) addPrefix(pf netip.Prefix) {
	if pf.Addr().Is4In6() && pf.Bits() >= 96 {
		pf = netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-96)
	}
	pf = pf.Masked()
	p.prefixes = append(p.prefixes, pf)
	p.entries = append(p.entries, pf.String())
}

// hostName checks a host name of an allow list and returns it in the form
// Check compares.
func hostName(s string) (string, error) {
	if strings.Contains(s, "://") || strings.ContainsAny(s, ":[]@?#") {
		return "", fmt.Errorf("egress allow list: %q is neither a CIDR, an IP address, a host name nor one of the words loopback and private (write a host without scheme or port)", s)
	}
	host := strings.TrimSuffix(strings.ToLower(s), ".")
	labels := strings.Split(host, ".")
	if len(host) > 253 {
		return "", fmt.Errorf("egress allow list: the host name %q is longer than 253 characters", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.IndexFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
			return "", fmt.Errorf("egress allow list: %q is neither a CIDR, an IP address, a host name nor one of the words loopback and private", s)
		}
	}
	// Resolvers read 2130706433 or 0x7f.1 as IPv4 addresses; an entry like
	// that is an address written in a form this list does not take.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return "", fmt.Errorf("egress allow list: %q looks like an IP address; write it dotted (127.0.0.1) or as a CIDR (127.0.0.0/8)", s)
	}
	return host, nil
}

// String returns the allow list in the form Parse reads, "" for the
// default policy.
func (p *Policy) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.entries, ",")
}

// Check returns nil when a connection to addr may be made, and a
// *RefusedError otherwise. host is the name the connection was asked for,
// before resolution (an IP literal, or "" when unknown): a host name the
// policy lists allows its connections whatever address it resolves to.
func (p *Policy) Check(host string, addr netip.Addr) error {
	ip := addr.WithZone("").Unmap()
	if p != nil {
		if host != "" {
			h := strings.TrimSuffix(strings.ToLower(host), ".")
			for _, allowed := range p.hosts {
				if h == allowed {
					return nil
				}
			}
		}
		for _, pf := range p.prefixes {
			if pf.Contains(ip) {
				return nil
			}
		}
	}
	class := Classify(ip)
	if class == "" {
		return nil
	}
	if p != nil && (class == Loopback && p.loopback || class == Private && p.private) {
		return nil
	}
	return &RefusedError{Host: host, Addr: ip, Class: class}
}

// Classify returns the class of a special address, or "" for a public
// one. An IPv6 address that embeds an IPv4 one (IPv4-mapped, NAT64,
// IPv4-compatible) has the class of the IPv4 address.
func Classify(addr netip.Addr) string {
	ip := addr.WithZone("").Unmap()
	for _, m := range metadata {
		if ip == m {
			return Metadata
		}
	}
	if ip.Is6() && !ip.IsUnspecified() && !ip.IsLoopback() {
		for _, pf := range embedding {
			if pf.Contains(ip) {
				b := ip.As16()
				if c := Classify(netip.AddrFrom4([4]byte(b[12:]))); c != "" {
					return c
				}
			}
		}
	}
	for _, c := range classes {
		if c.prefix.Contains(ip) {
			return c.class
		}
	}
	return ""
}

// RefusedError is a connection a Policy refused.
type RefusedError struct {
	Host  string     // the name asked for, when it was not the address itself
	Addr  netip.Addr // the address refused
	Class string     // Loopback, Private, ...
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("connection to ")
	if e.Host != "" && e.Host != e.Addr.String() {
		fmt.Fprintf(&b, "%s (%s)", e.Host, e.Addr)
	} else {
		b.WriteString(e.Addr.String())
	}
	single := netip.PrefixFrom(e.Addr, e.Addr.BitLen()).String()
	switch e.Class {
	case Metadata:
		fmt.Fprintf(&b, " refused: it is the cloud metadata service, which hands out this machine's credentials; "+
			"only an explicit ferry serve %s %s allows it", Flag, single)
	case Loopback, Private:
		fmt.Fprintf(&b, " refused: it is a %s address, which Ferry connects to only when the operator allows it "+
			"with ferry serve %s %s (or %s %s for this address alone)", e.Class, Flag, e.Class, Flag, single)
	default:
		article := "a"
		if e.Class != "" && strings.IndexByte("aeiou", e.Class[0]) >= 0 {
			article = "an"
		}
		fmt.Fprintf(&b, " refused: it is %s %s address, which Ferry connects to only when the operator allows it "+
			"with ferry serve %s %s", article, e.Class, Flag, single)
	}
	fmt.Fprintf(&b, " (env %s)", Env)
	return b.String()
}

// IsRefused reports whether err is or wraps a *RefusedError.
func IsRefused(err error) bool {
	var e *RefusedError
	return errors.As(err, &e)
}

// DialContext dials address (host:port) as (*net.Dialer).DialContext does,
// checking every address it connects to, after resolution, with p. Only
// TCP and UDP are dialled. Non-HTTP clients (SMTP) take it as their dial
// function.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("egress: network %q is not allowed, only tcp and udp", network)}
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		// Called for each address the dialer tries, with the address as
		// resolved, before the socket connects.
		ControlContext: func(_ context.Context, _, dialled string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(dialled)
			if err != nil {
				return fmt.Errorf("egress: cannot read the address dialled, %q: %w", dialled, err)
			}
			return p.Check(host, ap.Addr())
		},
	}
	return d.DialContext(ctx, network, address)
}

// Client returns an HTTP client whose connections p checks. It has a
// connection pool of its own (a clone of http.DefaultTransport), connects
// directly (an environment proxy would make the check see only the
// proxy's address, and the proxy would reach any address), and never
// follows redirects: a redirect would take the request, and its
// credentials, to where the target says.
func (p *Policy) Client() *http.Client {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ExpectContinueTimeout: time.Second}
	}
	t.Proxy = nil
	t.DialContext = p.DialContext
	t.DialTLSContext = nil
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
