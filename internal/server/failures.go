package server

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Failed authentications are limited per client address, so that a client
// guessing tokens costs a bounded number of store lookups: after
// failureLimit failures in failureWindow, its requests with tokens that
// were not valid recently get 429 with Retry-After until the window ends
// (RFC 6585 §4). Valid tokens are never limited (tokenCache.trusted).
const (
	failureLimit  = 100
	failureWindow = time.Minute
	// failureAddrsMax bounds the addresses tracked; when full, those whose
	// window ended are dropped, and if none has, all are.
	failureAddrsMax = 10000
)

// failureLimiter counts failed authentications per client address in fixed
// windows.
type failureLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	addrs map[string]*failureCount
}

type failureCount struct {
	start time.Time // when the window began
	n     int
}

func newFailureLimiter(now func() time.Time) *failureLimiter {
	return &failureLimiter{now: now, addrs: map[string]*failureCount{}}
}

// limited reports whether addr used up its failures, and how long until its
// window ends.
func (l *failureLimiter) limited(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.addrs[addr]
	if c == nil {
		return 0, false
	}
	left := c.start.Add(failureWindow).Sub(l.now())
	if left <= 0 {
		delete(l.addrs, addr)
		return 0, false
	}
	return left, c.n >= failureLimit
}

// fail counts a failed authentication of addr.
func (l *failureLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.addrs[addr]
	if c != nil && now.Before(c.start.Add(failureWindow)) {
		c.n++
		return
	}
	if c == nil && len(l.addrs) >= failureAddrsMax {
		for a, c := range l.addrs {
			if !now.Before(c.start.Add(failureWindow)) {
				delete(l.addrs, a)
			}
		}
		if len(l.addrs) >= failureAddrsMax {
			clear(l.addrs)
		}
	}
	l.addrs[addr] = &failureCount{start: now, n: 1}
}

// clientAddr is the address failures are counted by: the connection's IP
// address (behind a reverse proxy, the proxy's), an IPv6 address by its
// /64, which one client usually holds whole.
func clientAddr(r *http.Request) string {
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
