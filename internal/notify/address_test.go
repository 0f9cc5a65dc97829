package notify

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one", "ops@example.com", []string{"ops@example.com"}},
		{"several", "a@x.com, b@y.com", []string{"a@x.com", "b@y.com"}},
		{"display names", `Jane Doe <jane@example.com>, "Ops, Night" <ops@example.com>`, []string{"jane@example.com", "ops@example.com"}},
		{"empty element", "a@x.com,,b@y.com", []string{"a@x.com", "b@y.com"}},
		{"duplicates", "a@x.com, A@X.com,a@x.com", []string{"a@x.com"}},
		{"empty", "", nil},
		{"blank", "  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAddresses(tt.in)
			if err != nil {
				t.Fatalf("ParseAddresses(%q): %v", tt.in, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ParseAddresses(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAddressesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"not an email", "not-an-email", `"not-an-email" is not an email address`},
		{"second is bad", "a@x.com, not-an-email", `"not-an-email" is not an email address`},
		{"semicolons", "a@x.com; b@y.com", "separate addresses with commas, not semicolons"},
		{"no domain", "a@", `"a@" is not an email address`},
		{"too many", manyAddresses(MaxRecipients + 1), "at most 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAddresses(tt.in)
			if err == nil {
				t.Fatalf("ParseAddresses(%q) = %q, want an error containing %q", tt.in, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAddresses(%q) = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func manyAddresses(n int) string {
	var as []string
	for i := range n {
		as = append(as, fmt.Sprintf("user%d@example.com", i))
	}
	return strings.Join(as, ", ")
}

func FuzzParseAddresses(f *testing.F) {
	for _, s := range []string{"a@x.com, b@y.com", `"Doe, J" <j@x.com>`, "not-an-email", "a@x.com;b@y.com", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddresses(s)
		if err != nil {
			return
		}
		if len(got) > MaxRecipients {
			t.Fatalf("ParseAddresses(%q) returned %d addresses", s, len(got))
		}
		for _, a := range got {
			if err := validAddress(a); err != nil {
				t.Fatalf("ParseAddresses(%q) returned %q, which is not an address: %v", s, a, err)
			}
		}
	})
}
