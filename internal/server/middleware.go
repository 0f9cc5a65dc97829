package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/ferryid/ferry/internal/scim"
)

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection's writer
// (deadlines, flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// logRequests writes one structured line per request. It logs the path but
// never the query string's values beyond the path, headers or bodies, which
// may carry tokens and personal data.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if !s.cfg.LogRequests && rec.status < 400 {
			return
		}
		s.log.LogAttrs(r.Context(), levelFor(rec.status), "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// recoverPanics turns a handler panic into a 500 SCIM error and a logged
// stack, so that one bad request cannot take the server down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, scim.Errorf(http.StatusInternalServerError, "", "internal server error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the time a request may spend in the handler; store
// calls give up when the context ends. A CSV import, which may write a
// hundred thousand users, and a source's pass run on demand, which may
// read as many, get Config.ImportTimeout, and the connection's
// read and write deadlines (set by ferry serve from the request timeout)
// are moved to match.
func (s *Server) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout := s.cfg.RequestTimeout
		if r.Method == http.MethodPost && (r.URL.Path == importPath || isSourceSync(r.URL.Path)) {
			timeout = s.cfg.ImportTimeout
			rc := http.NewResponseController(w)
			deadline := time.Now().Add(timeout + 10*time.Second)
			rc.SetReadDeadline(deadline)
			rc.SetWriteDeadline(deadline)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// levelFor logs server errors as errors and everything else as info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
