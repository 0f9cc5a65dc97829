package server

import (
	"time"

	"github.com/ferryid/ferry/internal/throttle"
)

// Failed authentications are limited per client address, so that a client
// guessing tokens costs a bounded number of store lookups: after
// failureLimit failures in failureWindow, its requests with tokens that
// were not valid recently get 429 with Retry-After until the window ends
// (RFC 6585 §4). Valid tokens are never limited (tokenCache.trusted).
const (
	failureLimit  = 100
	failureWindow = time.Minute
)

// newFailureLimiter returns the limiter of failed authentications.
func newFailureLimiter(now func() time.Time) *throttle.Failures {
	return throttle.NewFailures(failureLimit, failureWindow, now)
}
