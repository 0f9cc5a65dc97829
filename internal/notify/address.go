package notify

import (
	"fmt"
	"net/mail"
	"strings"
)

// MaxRecipients is the most addresses one application's notifications go to.
const MaxRecipients = 20

// ParseAddresses validates a comma-separated list of email addresses, such as an application's
// notificationEmail ("ops@example.com, Jane Doe <jane@example.com>"), and returns the bare
// addresses in order, without duplicates. An empty or blank list returns none and no error.
func ParseAddresses(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	parsed, err := mail.ParseAddressList(list)
	if err != nil {
		return nil, addressListError(list)
	}
	var out []string
	seen := make(map[string]bool, len(parsed))
	for _, a := range parsed {
		key := strings.ToLower(a.Address)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, a.Address)
	}
	if len(out) > MaxRecipients {
		return nil, fmt.Errorf("%d email addresses given; at most %d are allowed (use a mailing list for more)", len(out), MaxRecipients)
	}
	return out, nil
}

// addressListError names the first element that is not an address, which mail.ParseAddressList
// does not.
func addressListError(list string) error {
	const hint = "expected addresses like ops@example.com, separated by commas"
	if strings.Contains(list, ";") {
		return fmt.Errorf("%q is not a list of email addresses: separate addresses with commas, not semicolons", list)
	}
	// A naive split on commas misreads a quoted display name with a comma, so only a part that
	// is not an address on its own is named.
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if _, err := mail.ParseAddress(part); err != nil {
			return fmt.Errorf("%q is not an email address: %s", part, hint)
		}
	}
	return fmt.Errorf("%q is not a list of email addresses: %s", list, hint)
}

// validAddress reports an error for anything but one bare or named address.
func validAddress(s string) error {
	if _, err := mail.ParseAddress(s); err != nil {
		return fmt.Errorf("%q is not an email address (expected e.g. ops@example.com)", s)
	}
	return nil
}
