// Package logwriter batches a process's log lines into few writes. At
// tens of thousands of requests a second, one write system call per
// access-log line cost ferry serve a sixth of its throughput; batched,
// lines reach the output within a short interval (Writer), and at once
// from a record of level Warn or above (Handler), so that what explains a
// failure is never held back. A process that dies without closing its
// Writer loses at most an interval of info lines; the runtime writes a
// crash's stack to standard error itself.
package logwriter

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// DefaultInterval is the longest a line waits in a Writer.
const DefaultInterval = 100 * time.Millisecond

// flushSize is the size at which a Writer writes at once: a burst is
// written in chunks of about this size.
const flushSize = 32 << 10

// Writer collects what is written to it and writes it to its output in
// one call within its interval of the first unwritten byte, or at once
// once flushSize bytes are waiting. It is safe for concurrent use; each
// Write is kept whole, so lines never interleave.
type Writer struct {
	out      io.Writer
	interval time.Duration

	mu      sync.Mutex
	buf     []byte
	pending bool // a flush is scheduled
	closed  bool
	err     error // the output's last error, returned by the next Write
}

// New returns a Writer writing to out within interval.
func New(out io.Writer, interval time.Duration) *Writer {
	return &Writer{out: out, interval: interval}
}

// Write keeps p for the next write to the output. After Close it writes
// p through at once.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if err := w.err; err != nil {
		w.err = nil
		return 0, err
	}
	w.buf = append(w.buf, p...)
	w.scheduleLocked()
	return len(p), nil
}

// appendLine adds the line that appendTo appends to the waiting lines,
// as Write does with a line it is given, without a copy. An error of the
// output stays for the next Write or Flush to return.
func (w *Writer) appendLine(appendTo func([]byte) []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.out.Write(appendTo(nil))
		return
	}
	w.buf = appendTo(w.buf)
	w.scheduleLocked()
}

// scheduleLocked writes the buffer when it is full, and otherwise makes
// sure a flush is due within the interval; w.mu is held.
func (w *Writer) scheduleLocked() {
	switch {
	case len(w.buf) >= flushSize:
		w.flushLocked()
	case !w.pending:
		w.pending = true
		time.AfterFunc(w.interval, w.flushScheduled)
	}
}

func (w *Writer) flushScheduled() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = false
	w.flushLocked()
}

// Flush writes what is waiting.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	err := w.err
	w.err = nil
	return err
}

// flushLocked writes the buffer; w.mu is held, so lines keep their order.
func (w *Writer) flushLocked() {
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil {
		w.err = err
	}
	if cap(w.buf) > 4*flushSize {
		w.buf = nil // a burst's buffer is not kept
	} else {
		w.buf = w.buf[:0]
	}
}

// Close writes what is waiting; later writes go straight through.
func (w *Writer) Close() error {
	err := w.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return err
}

// Handler returns h, which writes to w, made to flush w after each record
// of level Warn or above.
func Handler(h slog.Handler, w *Writer) slog.Handler {
	return &flushing{Handler: h, w: w}
}

// Format is the line format of a handler made by NewHandler.
type Format int

const (
	Text Format = iota + 1 // slog.TextHandler's key=value lines
	JSON                   // slog.JSONHandler's objects
)

// NewHandler returns a slog handler of format with default options,
// writing to w (flushed after each record of level Warn or above, as
// Handler's). Its LogRequest writes an access-log line without a
// slog.Record, which at tens of thousands of requests a second is a
// measurable share of a request's CPU.
func NewHandler(format Format, w *Writer) slog.Handler {
	var h slog.Handler
	if format == JSON {
		h = slog.NewJSONHandler(w, nil)
	} else {
		format = Text
		h = slog.NewTextHandler(w, nil)
	}
	return &flushing{Handler: h, w: w, format: format}
}

type flushing struct {
	slog.Handler
	w *Writer
	// format is NewHandler's, while no attributes or groups were added:
	// LogRequest writes that format's line; 0 when it cannot.
	format Format
}

func (f *flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		f.w.Flush()
	}
	return err
}

func (f *flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushing{Handler: f.Handler.WithAttrs(attrs), w: f.w}
}

func (f *flushing) WithGroup(name string) slog.Handler {
	return &flushing{Handler: f.Handler.WithGroup(name), w: f.w}
}

// LogRequest writes the line that a record at t of level with message
// "request" and the attributes method, path, status and duration would
// make, byte for byte, and reports whether it did: it does not when the
// handler has attributes or groups added, or when method or path hold a
// byte that the format would quote or escape; the caller then logs the
// record itself.
func (f *flushing) LogRequest(t time.Time, level slog.Level, method, path string, status int, elapsed time.Duration) bool {
	if f.format == 0 || !plain(method) || !plain(path) {
		return false
	}
	f.w.appendLine(func(b []byte) []byte {
		if f.format == JSON {
			return appendJSONRequest(b, t, level, method, path, status, elapsed)
		}
		return appendTextRequest(b, t, level, method, path, status, elapsed)
	})
	if level >= slog.LevelWarn {
		f.w.Flush()
	}
	return true
}

// plain reports whether s is non-empty and made of bytes that neither
// format quotes or escapes: letters, digits and "/._~%-", which is what
// request paths are made of (other bytes arrive percent-encoded).
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/', c == '.', c == '_', c == '~', c == '%', c == '-':
		default:
			return false
		}
	}
	return true
}

// appendTextRequest appends the line slog.TextHandler writes: the time
// in RFC 3339 with milliseconds, and the duration as time.Duration's
// String.
func appendTextRequest(b []byte, t time.Time, level slog.Level, method, path string, status int, elapsed time.Duration) []byte {
	b = append(b, "time="...)
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, " level="...)
	b = append(b, level.String()...)
	b = append(b, " msg=request method="...)
	b = append(b, method...)
	b = append(b, " path="...)
	b = append(b, path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration="...)
	b = append(b, elapsed.String()...)
	return append(b, '\n')
}

// appendJSONRequest appends the object slog.JSONHandler writes: the time
// in RFC 3339 with nanoseconds, and the duration in nanoseconds.
func appendJSONRequest(b []byte, t time.Time, level slog.Level, method, path string, status int, elapsed time.Duration) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":"request","method":"`...)
	b = append(b, method...)
	b = append(b, `","path":"`...)
	b = append(b, path...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(elapsed), 10)
	return append(b, "}\n"...)
}
