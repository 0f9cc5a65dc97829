package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeChecksEngineFlags: a wrong --egress-allow, --max-rate-limit or
// --events-retention (or their variables) stops ferry serve before it opens anything, with a
// message naming the flag.
func TestServeChecksEngineFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "a URL in the allow list", args: []string{"--egress-allow", "loopback,https://scim.example.com"},
			want: []string{"--egress-allow", "https://scim.example.com", "without scheme or port"}},
		{name: "a bad CIDR", args: []string{"--egress-allow", "10.0.0.0/33"}, want: []string{"--egress-allow", "not a CIDR"}},
		{name: "a bad CIDR in the variable", env: map[string]string{"FERRY_EGRESS_ALLOW": "10.0.0.0/33"}, want: []string{"FERRY_EGRESS_ALLOW", "not a CIDR"}},
		{name: "a rate that is not a number", args: []string{"--max-rate-limit", "fast"}, want: []string{"--max-rate-limit", `"fast"`, "positive number"}},
		{name: "a zero rate", args: []string{"--max-rate-limit", "0"}, want: []string{"--max-rate-limit", "positive number"}},
		{name: "a bad rate in the variable", env: map[string]string{"FERRY_MAX_RATE_LIMIT": "-5"}, want: []string{"FERRY_MAX_RATE_LIMIT", "positive number"}},
		{name: "a retention below the least", args: []string{"--events-retention", "10m"},
			want: []string{"--events-retention", `"10m"`, "shorter than the least retention, 1h0m0s", "0 to keep events forever"}},
		{name: "a retention that is no duration", env: map[string]string{"FERRY_EVENTS_RETENTION": "a month"},
			want: []string{"FERRY_EVENTS_RETENTION", "such as 720h", "30d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			db := filepath.Join(dir, "ferry.db")
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--database", "sqlite:" + db,
				"--secret-key-file", filepath.Join(dir, "ferry.key")}, tc.args...)
			_, stderr, code := runCommand(t, "", args...)
			if code == 0 {
				t.Fatal("serve started")
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("serve created its database before refusing its flags")
			}
		})
	}
}

// TestLeaseOwner checks the name a process takes in job leases: its
// instance name when given, else its host and listen address.
func TestLeaseOwner(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	if got := leaseOwner("replica-1", addr); got != "replica-1" {
		t.Errorf("with an instance name: %q, want replica-1", got)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	if got, want := leaseOwner("", addr), host+" 127.0.0.1:8080"; got != want {
		t.Errorf("without: %q, want %q", got, want)
	}
}
