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
	switch {
	case len(w.buf) >= flushSize:
		w.flushLocked()
	case !w.pending:
		w.pending = true
		time.AfterFunc(w.interval, w.flushScheduled)
	}
	return len(p), nil
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

type flushing struct {
	slog.Handler
	w *Writer
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
