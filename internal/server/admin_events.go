package server

import (
	"net/http"
	"strconv"

	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/scim"
)

// eventsQuery is what GET /events takes.
var eventsQuery = []string{"after", "limit", "types"}

// adminEvents answers a page of the tenant's directory events (package
// events) after a cursor.
func (s *Server) adminEvents(w http.ResponseWriter, r *adminRequest) error {
	q := r.URL.Query()
	eq := events.Query{After: q.Get("after"), Types: events.ParseTypes(q.Get("types"))}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return scim.BadRequest(scim.InvalidValue, "limit must be a number, not %q", v)
		}
		eq.Limit = n
	}
	page, err := events.List(r.Context(), s.store, r.tenant, eq)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, page)
	return nil
}
