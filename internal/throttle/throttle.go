// Package throttle limits failed attempts per client address: failed
// authentications on the SCIM and admin APIs (internal/server) and failed
// sign-ins to the console (internal/console). After a limit of failures
// within a fixed window, an address's attempts are refused until the
// window ends, with the time left for Retry-After (RFC 6585 §4).
package throttle

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// maxAddrs bounds the addresses a Failures tracks; when full, those whose
// window ended are dropped, and if none has, all are.
const maxAddrs = 10000

// Failures counts failed attempts per client address in fixed windows.
// It is safe for concurrent use.
type Failures struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	addrs map[string]*count
}

type count struct {
	start time.Time // when the window began
	n     int
}

// NewFailures returns a Failures that refuses an address after limit
// failures within window, on the clock now.
func NewFailures(limit int, window time.Duration, now func() time.Time) *Failures {
	return &Failures{limit: limit, window: window, now: now, addrs: map[string]*count{}}
}

// Limited reports whether addr used up its failures, and how long until
// its window ends.
func (f *Failures) Limited(addr string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.addrs[addr]
	if c == nil {
		return 0, false
	}
	left := c.start.Add(f.window).Sub(f.now())
	if left <= 0 {
		delete(f.addrs, addr)
		return 0, false
	}
	return left, c.n >= f.limit
}

// Fail counts a failed attempt of addr.
func (f *Failures) Fail(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	c := f.addrs[addr]
	if c != nil && now.Before(c.start.Add(f.window)) {
		c.n++
		return
	}
	if c == nil && len(f.addrs) >= maxAddrs {
		for a, c := range f.addrs {
			if !now.Before(c.start.Add(f.window)) {
				delete(f.addrs, a)
			}
		}
		if len(f.addrs) >= maxAddrs {
			clear(f.addrs)
		}
	}
	f.addrs[addr] = &count{start: now, n: 1}
}

// ClientAddr is the address failures are counted by: the connection's IP
// address (behind a reverse proxy, the proxy's), an IPv6 address by its
// /64, which one client usually holds whole.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
