package provision

import (
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// What a tenant admin may set about an application's target. The admin
// chooses where the engine connects and the engine sends the stored secret
// there, so the secret must be worth guessing, must stay with the endpoint
// it was given for, and the pace must stay within what the operator allows.
// Where the engine may connect at all is the operator's egress policy
// (Options.Egress).

// minSecretToken is the shortest secret token accepted, in characters.
const minSecretToken = 8

// checkSecretToken refuses a secret token too short to be a credential;
// such a token would also be too short to redact from a target's answers
// without mangling them.
func checkSecretToken(token string) error {
	if n := utf8.RuneCountInString(token); n < minSecretToken {
		return invalid("secretToken must have at least %d characters, not %d: it is the bearer token the application's SCIM endpoint accepts", minSecretToken, n)
	}
	return nil
}

// checkRateLimit refuses a rateLimit above the operator's maximum.
func (s *Service) checkRateLimit(c Config) error {
	if c.RateLimit > s.maxRateLimit {
		return invalid("rateLimit %g is above this server's maximum of %g requests a second "+
			"(the operator sets it with ferry serve --max-rate-limit, env FERRY_MAX_RATE_LIMIT)", c.RateLimit, s.maxRateLimit)
	}
	return nil
}

// checkRepoint refuses to move an application to another endpoint (scheme,
// host or port) unless the request carries its secret token too: the
// stored one was given for the old endpoint, and would otherwise be sent to
// a host of the caller's choosing by anyone who may edit the application.
func checkRepoint(oldURL, newURL string) error {
	if oldURL == "" || oldURL == newURL {
		return nil
	}
	from, to := origin(oldURL), origin(newURL)
	if from != "" && from == to {
		return nil
	}
	return invalid("tenantUrl moves the application from %s to %s: send its secretToken in the same request "+
		"(ferry apps update --secret-token-file). The stored secret token was given for %s, and is never sent to "+
		"another scheme, host or port without being given again", from, to, from)
}

// origin is a URL's scheme, host and port, with the default port written
// out, or "" when it does not parse.
func origin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
