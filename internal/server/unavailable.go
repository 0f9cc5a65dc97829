package server

import (
	"context"
	"net/http"
	"time"

	"github.com/ferryid/ferry/internal/scim"
)

// When a request fails for a reason of the server's own, the database may
// be what failed: a PostgreSQL restarting, a network partition. That is a
// temporary condition, not a server error, and a client should retry
// rather than give up: such requests answer 503 with Retry-After (RFC 9110
// §15.6.4, §10.2.3), which Microsoft Entra ID's and Okta's provisioning
// clients honour. The server tells the two apart by pinging the database
// when a request fails, and logs the database going away and coming back
// once each, not once per request.

// retryAfterSeconds is what a client is told to wait while the database
// does not answer: about as long as a PostgreSQL restart takes.
const retryAfterSeconds = "10"

// databaseUnavailable reports whether the database does not answer now,
// logging the change when it stopped or started answering since the last
// look.
func (s *Server) databaseUnavailable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	err := s.store.Ping(ctx)
	switch {
	case err != nil && s.dbDown.CompareAndSwap(false, true):
		s.log.Error("the database does not answer; requests that need it answer 503 until it does", "err", err)
	case err == nil && s.dbDown.CompareAndSwap(true, false):
		s.log.Info("the database answers again")
	}
	return err != nil
}

// unavailable is the error of a request that needs the database while it
// does not answer.
func unavailable(w http.ResponseWriter) *scim.Error {
	w.Header().Set("Retry-After", retryAfterSeconds)
	return scim.Errorf(http.StatusServiceUnavailable, "", "the database is unavailable; try again in %s seconds", retryAfterSeconds)
}
