package egress

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, list string
		want       string // String() of the policy
		wantErr    string
	}{
		{name: "empty", list: "", want: ""},
		{name: "blanks and empty entries", list: " , ,", want: ""},
		{name: "words, any case", list: "Loopback, PRIVATE", want: "loopback,private"},
		{name: "the brief's example", list: "loopback,private,10.1.0.0/16,scim.internal.example", want: "loopback,private,10.1.0.0/16,scim.internal.example"},
		{name: "a CIDR is masked", list: "10.1.2.3/16", want: "10.1.0.0/16"},
		{name: "an address is a one-address CIDR", list: "192.168.1.10,fd12::1", want: "192.168.1.10/32,fd12::1/128"},
		{name: "a mapped CIDR is the IPv4 one", list: "::ffff:127.0.0.1/104", want: "127.0.0.0/8"},
		{name: "a zone is dropped", list: "fe80::1%eth0", want: "fe80::1/128"},
		{name: "host names in lower case, without the root dot", list: "SCIM.Example.COM.,svc_a", want: "scim.example.com,svc_a"},
		{name: "a bad CIDR", list: "10.1.0.0/33", wantErr: `"10.1.0.0/33" is not a CIDR`},
		{name: "a URL", list: "https://scim.example.com", wantErr: "without scheme or port"},
		{name: "a host with a port", list: "scim.example.com:443", wantErr: "without scheme or port"},
		{name: "a decimal IPv4 address", list: "2130706433", wantErr: "looks like an IP address"},
		{name: "a hex IPv4 address", list: "0x7f.1", wantErr: "looks like an IP address"},
		{name: "a short dotted IPv4 address", list: "127.1", wantErr: "looks like an IP address"},
		{name: "not a name", list: "scim example", wantErr: "neither a CIDR"},
		{name: "an empty label", list: "scim..example", wantErr: "neither a CIDR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.list)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) = %v, %v; want an error saying %q", tc.list, p, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.list, err)
			}
			if got := p.String(); got != tc.want {
				t.Errorf("Parse(%q) = %q; want %q", tc.list, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		allow string
		host  string // the name dialled; "" for the address itself
		addr  string // the address it resolved to
		want  string // the class refused, "" when allowed
	}{
		{name: "public IPv4", addr: "93.184.215.14"},
		{name: "public IPv6", addr: "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		{name: "public, by name", host: "scim.example.com", addr: "93.184.215.14"},

		{name: "loopback", addr: "127.0.0.1", want: Loopback},
		{name: "loopback, elsewhere in 127/8", addr: "127.45.6.7", want: Loopback},
		{name: "loopback IPv6", addr: "::1", want: Loopback},
		{name: "localhost resolved", host: "localhost", addr: "127.0.0.1", want: Loopback},
		{name: "decimal IPv4 2130706433 resolved", host: "2130706433", addr: "127.0.0.1", want: Loopback},
		{name: "hex IPv4 0x7f.1 resolved", host: "0x7f.1", addr: "127.0.0.1", want: Loopback},
		{name: "IPv4-mapped IPv6 loopback", addr: "::ffff:127.0.0.1", want: Loopback},
		{name: "NAT64 of loopback", addr: "64:ff9b::7f00:1", want: Loopback},
		{name: "IPv4-compatible loopback", addr: "::7f00:1", want: Loopback},
		{name: "DNS rebinding: a public name resolving to loopback", host: "rebind.example.com", addr: "127.0.0.1", want: Loopback},
		{name: "loopback allowed", allow: "loopback", addr: "127.0.0.1"},
		{name: "mapped loopback allowed", allow: "loopback", addr: "::ffff:127.0.0.1"},
		{name: "IPv6 loopback allowed", allow: "loopback", addr: "::1"},
		{name: "private does not allow loopback", allow: "private", addr: "127.0.0.1", want: Loopback},

		{name: "RFC 1918 10/8", addr: "10.1.2.3", want: Private},
		{name: "RFC 1918 172.16/12", addr: "172.31.255.1", want: Private},
		{name: "just outside 172.16/12", addr: "172.32.0.1"},
		{name: "RFC 1918 192.168/16", addr: "192.168.0.10", want: Private},
		{name: "RFC 6598 100.64/10", addr: "100.64.0.1", want: Private},
		{name: "ULA", addr: "fd12:3456::1", want: Private},
		{name: "mapped private", addr: "::ffff:10.0.0.1", want: Private},
		{name: "private allowed", allow: "private", addr: "192.168.0.10"},
		{name: "ULA allowed as private", allow: "private", addr: "fd12:3456::1"},
		{name: "loopback does not allow private", allow: "loopback", addr: "10.0.0.1", want: Private},

		{name: "link-local", addr: "169.254.1.1", want: LinkLocal},
		{name: "link-local IPv6", addr: "fe80::1", want: LinkLocal},
		{name: "link-local IPv6 with a zone", addr: "fe80::1%eth0", want: LinkLocal},
		{name: "private does not allow link-local", allow: "private,loopback", addr: "169.254.1.1", want: LinkLocal},
		{name: "link-local allowed by CIDR", allow: "169.254.0.0/16", addr: "169.254.1.1"},

		{name: "metadata", addr: "169.254.169.254", want: Metadata},
		{name: "metadata IPv6", addr: "fd00:ec2::254", want: Metadata},
		{name: "metadata mapped", addr: "::ffff:169.254.169.254", want: Metadata},
		{name: "metadata IPv6 refused though private is allowed", allow: "private", addr: "fd00:ec2::254", want: Metadata},
		{name: "Alibaba metadata refused though private is allowed", allow: "private", addr: "100.100.100.200", want: Metadata},
		{name: "metadata allowed by its CIDR", allow: "169.254.169.254/32", addr: "169.254.169.254"},
		{name: "metadata IPv6 allowed by a CIDR", allow: "fd00:ec2::/32", addr: "fd00:ec2::254"},
		{name: "metadata allowed by its host", allow: "metadata.google.internal", host: "metadata.google.internal", addr: "169.254.169.254"},

		{name: "unspecified", addr: "0.0.0.0", want: Unspecified},
		{name: "this network", addr: "0.1.2.3", want: Unspecified},
		{name: "unspecified IPv6", addr: "::", want: Unspecified},
		{name: "unspecified, all allowed but by CIDR", allow: "loopback,private", addr: "0.0.0.0", want: Unspecified},
		{name: "multicast", addr: "224.0.0.251", want: Multicast},
		{name: "multicast IPv6", addr: "ff02::1", want: Multicast},
		{name: "broadcast", addr: "255.255.255.255", want: Broadcast},
		{name: "reserved", addr: "240.0.0.1", want: Reserved},

		{name: "a CIDR allows inside it", allow: "10.1.0.0/16", addr: "10.1.200.3"},
		{name: "a CIDR refuses outside it", allow: "10.1.0.0/16", addr: "10.2.0.1", want: Private},
		{name: "a mapped address in an IPv4 CIDR", allow: "10.1.0.0/16", addr: "::ffff:10.1.0.1"},
		{name: "an address allows itself", allow: "127.0.0.1", addr: "127.0.0.1"},
		{name: "an address allows nothing else", allow: "127.0.0.1", addr: "127.0.0.2", want: Loopback},
		{name: "an IPv6 CIDR", allow: "fd12::/16", addr: "fd12:3456::1"},

		{name: "a host allows whatever it resolves to", allow: "scim.internal.example", host: "scim.internal.example", addr: "10.9.8.7"},
		{name: "a host, in any case and with the root dot", allow: "scim.internal.example", host: "SCIM.Internal.Example.", addr: "127.0.0.1"},
		{name: "a host allows only itself", allow: "scim.internal.example", host: "other.internal.example", addr: "10.9.8.7", want: Private},
		{name: "a host does not allow its subdomains", allow: "internal.example", host: "scim.internal.example", addr: "10.9.8.7", want: Private},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.allow)
			if err != nil {
				t.Fatal(err)
			}
			addr := netip.MustParseAddr(tc.addr)
			err = p.Check(tc.host, addr)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check(%q, %s) with %q: %v; want allowed", tc.host, addr, tc.allow, err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Class != tc.want {
				t.Fatalf("Check(%q, %s) with %q = %v; want refused as %s", tc.host, addr, tc.allow, err, tc.want)
			}
			for _, want := range []string{addr.WithZone("").Unmap().String(), tc.want, "--egress-allow", "FERRY_EGRESS_ALLOW"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestNilPolicy: the nil *Policy is the default policy.
func TestNilPolicy(t *testing.T) {
	t.Parallel()
	var p *Policy
	if err := p.Check("", netip.MustParseAddr("127.0.0.1")); !IsRefused(err) {
		t.Errorf("nil policy: loopback %v; want refused", err)
	}
	if err := p.Check("", netip.MustParseAddr("8.8.8.8")); err != nil {
		t.Errorf("nil policy: public %v; want allowed", err)
	}
	if p.String() != "" {
		t.Errorf("nil policy String() = %q", p.String())
	}
}

func TestRefusedErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, addr, want string
	}{
		{"localhost", "127.0.0.1", "connection to localhost (127.0.0.1) refused: it is a loopback address, which Ferry connects to only when the operator allows it with ferry serve --egress-allow loopback (or --egress-allow 127.0.0.1/32 for this address alone) (env FERRY_EGRESS_ALLOW)"},
		{"169.254.169.254", "169.254.169.254", "connection to 169.254.169.254 refused: it is the cloud metadata service, which hands out this machine's credentials; only an explicit ferry serve --egress-allow 169.254.169.254/32 allows it (env FERRY_EGRESS_ALLOW)"},
		{"", "0.0.0.0", "connection to 0.0.0.0 refused: it is an unspecified address, which Ferry connects to only when the operator allows it with ferry serve --egress-allow 0.0.0.0/32 (env FERRY_EGRESS_ALLOW)"},
		{"", "ff02::1", "connection to ff02::1 refused: it is a multicast address, which Ferry connects to only when the operator allows it with ferry serve --egress-allow ff02::1/128 (env FERRY_EGRESS_ALLOW)"},
	}
	for _, tc := range tests {
		err := (*Policy)(nil).Check(tc.host, netip.MustParseAddr(tc.addr))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Check(%q, %s):\n got %v\nwant %s", tc.host, tc.addr, err, tc.want)
		}
	}
}

// listen starts a loopback listener that hands over, in order, the first
// line each connection sends.
func listen(t *testing.T) (net.Listener, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lines := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			lines <- line
		}
	}()
	return ln, lines
}

// TestDialLoopback dials a real loopback listener: the default policy
// refuses, before anything reaches it, both the address and the name
// localhost; "loopback" allows it.
func TestDialLoopback(t *testing.T) {
	t.Parallel()
	ln, lines := listen(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := context.Background()
	for _, addr := range []string{ln.Addr().String(), net.JoinHostPort("localhost", port)} {
		c, err := (*Policy)(nil).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Write([]byte("refused\n"))
			c.Close()
			t.Fatalf("dial %s with the default policy: connected; want refused", addr)
		}
		var re *RefusedError
		if !errors.As(err, &re) || re.Class != Loopback {
			t.Fatalf("dial %s: %v; want a *RefusedError of class loopback", addr, err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(err.Error(), "::1") {
			t.Errorf("the refusal does not name the address: %v", err)
		}
	}
	allow, err := Parse("loopback")
	if err != nil {
		t.Fatal(err)
	}
	c, err := allow.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with loopback allowed: %v", err)
	}
	c.Write([]byte("allowed\n"))
	c.Close()
	// Connections are accepted in order: had a refused dial connected, its
	// (empty) line would come first.
	if got := <-lines; got != "allowed\n" {
		t.Fatalf("the listener's first connection sent %q; want the allowed one", got)
	}
	if _, err := allow.DialContext(ctx, "unix", "/tmp/x.sock"); err == nil {
		t.Error("dialled a unix socket; only tcp and udp are allowed")
	}
}

// TestClient: the HTTP client is guarded, and does not follow redirects.
func TestClient(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		hits []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	get := func(c *http.Client, path string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	if _, err := get((*Policy)(nil).Client(), "/"); !IsRefused(err) || !strings.Contains(err.Error(), "--egress-allow") {
		t.Fatalf("GET with the default policy: %v; want refused, naming the flag", err)
	}
	seen := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(hits, ",")
	}
	if seen() != "" {
		t.Fatalf("the server received %v from a refused client", seen())
	}
	allow, _ := Parse("loopback")
	c := allow.Client()
	if resp, err := get(c, "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET with loopback allowed: %v, %v", resp, err)
	}
	resp, err := get(c, "/redirect")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /redirect: %v, %v; want the 302 itself", resp, err)
	}
	if got, want := seen(), "/ Bearer secret,/redirect Bearer secret"; got != want {
		t.Errorf("the server received %q; want %q (the redirect not followed)", got, want)
	}
}
