package throttle

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, remote, want string }{
		{"IPv4", "192.0.2.1:1234", "192.0.2.1"},
		{"IPv4 in IPv6", "[::ffff:192.0.2.1]:1234", "192.0.2.1"},
		{"IPv6 by its /64", "[2001:db8:1:2:3:4:5:6]:1234", "2001:db8:1:2::/64"},
		{"not an address", "pipe", "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if got := ClientAddr(r); got != tc.want {
				t.Fatalf("ClientAddr(%q) = %q, want %q", tc.remote, got, tc.want)
			}
		})
	}
}
