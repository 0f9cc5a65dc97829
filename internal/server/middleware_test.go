package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// TestLogRequests checks Config.LogRequests: every request is logged by
// default; with it off, only those answered with an error status.
func TestLogRequests(t *testing.T) {
	t.Parallel()
	for _, all := range []bool{true, false} {
		catalog := schema.Builtin()
		st := openTestStore(t, catalog)
		t.Cleanup(func() { st.Close() })
		var logs syncBuffer
		cfg := DefaultConfig()
		cfg.LogRequests = all
		h := New(cfg, st, catalog, slog.New(slog.NewTextHandler(&logs, nil))).Handler()
		token := ferrytest.Token(t, st, "default", "test", "")
		for _, path := range []string{"/scim/v2/Users", "/scim/v2/Users/no-such-user"} {
			r := httptest.NewRequest(http.MethodGet, "http://ferry.test"+path, nil)
			r.Header.Set("Authorization", "Bearer "+token)
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		ok := strings.Contains(logs.String(), "path=/scim/v2/Users status=200")
		missing := strings.Contains(logs.String(), "path=/scim/v2/Users/no-such-user status=404")
		if ok != all || !missing {
			t.Errorf("LogRequests %v: logged the 200: %v, the 404: %v; log:\n%s", all, ok, missing, logs.String())
		}
	}
}
