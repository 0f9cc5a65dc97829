package server

import (
	"io"
	"net/http"

	"github.com/ferryid/ferry/api"
)

// openAPIPath is where the admin API serves its own description, below
// adminPrefix, without authentication: it describes the API and holds no
// secrets, and a client generator needs it before it has a token.
const openAPIPath = "/openapi.json"

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, api.OpenAPI())
}
