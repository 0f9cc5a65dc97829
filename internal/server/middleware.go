package server

import (
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

// instrument is the middleware every request goes through. It bounds the
// time the request may spend in the handler (requestContext: store calls
// give up when it ends), turns a handler panic into a 500 SCIM error and a
// logged stack, so that one bad request cannot take the server down,
// writes one structured line per request (all of them, or with
// Config.LogRequests off those answered with an error status), and tells
// the observer of it by route. The log names the path but never the query
// string, headers or bodies, which may carry tokens and personal data.
//
// A CSV import, which may write a hundred thousand users, and a source's
// pass run on demand, which may read as many, get Config.ImportTimeout,
// and the connection's read and write deadlines (set by ferry serve from
// the request timeout) are moved to match.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		timeout := s.cfg.RequestTimeout
		if r.Method == http.MethodPost && (r.URL.Path == importPath || isSourceSync(r.URL.Path)) {
			timeout = s.cfg.ImportTimeout
			rc := http.NewResponseController(w)
			deadline := start.Add(timeout + 10*time.Second)
			rc.SetReadDeadline(deadline)
			rc.SetWriteDeadline(deadline)
		}
		ctx := newRequestContext(r.Context(), timeout)
		defer ctx.release()
		r = r.WithContext(ctx)
		s.serveRecovering(next, rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		end := time.Now()
		elapsed := end.Sub(start)
		if level := levelFor(status); (s.cfg.LogRequests || status >= 400) && s.log.Enabled(r.Context(), level) {
			s.logRequest(r, end, level, status, elapsed)
		}
		route, typ, op := s.classifyRequest(r)
		s.obs.HTTPRequest(route, r.Method, status, elapsed)
		if op != "" {
			s.obs.SCIMOperation(typ, op, status)
		}
	})
}

// requestLogger is a log handler that writes the access log's line itself
// (logwriter's, in ferry serve), faster than a slog.Record is made and
// handled; it reports false when it leaves the line to the caller.
type requestLogger interface {
	LogRequest(t time.Time, level slog.Level, method, path string, status int, elapsed time.Duration) bool
}

// logRequest writes the access log's line of r.
func (s *Server) logRequest(r *http.Request, end time.Time, level slog.Level, status int, elapsed time.Duration) {
	h := s.log.Handler()
	if l, ok := h.(requestLogger); ok && l.LogRequest(end, level, r.Method, r.URL.Path, status, elapsed) {
		return
	}
	// The record is made here rather than by LogAttrs, which would walk
	// the stack for a source location that no handler of ferry's prints.
	rec := slog.NewRecord(end, level, "request", 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
	)
	h.Handle(r.Context(), rec)
}

// serveRecovering serves r with next, answering a panic with a 500.
func (s *Server) serveRecovering(next http.Handler, w *statusRecorder, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if w.status == 0 {
				writeError(w, scim.Errorf(http.StatusInternalServerError, "", "internal server error"))
			} else {
				w.status = http.StatusInternalServerError // for the log and the metrics: the response is cut short
			}
		}
	}()
	next.ServeHTTP(w, r)
}

// levelFor logs server errors as errors and everything else as info.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
