package logwriter

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// output records what a Writer writes, in calls, and signals each call.
type output struct {
	mu    sync.Mutex
	calls []string
	wrote chan struct{}
}

func newOutput() *output { return &output{wrote: make(chan struct{}, 1000)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.calls = append(o.calls, string(p))
	o.mu.Unlock()
	o.wrote <- struct{}{}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.calls, "")
}

func (o *output) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.calls)
}

// TestBatches checks that lines wait for a flush, come out in order in
// one write, and that a full buffer is written without one.
func TestBatches(t *testing.T) {
	t.Parallel()
	out := newOutput()
	w := New(out, time.Hour)
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if out.count() != 0 {
		t.Fatalf("written before a flush: %q", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "line 0\nline 1\nline 2\n" || out.count() != 1 {
		t.Errorf("after Flush: %d writes of %q", out.count(), got)
	}
	big := bytes.Repeat([]byte("x"), flushSize)
	w.Write(big)
	if out.count() != 2 {
		t.Errorf("a full buffer was not written at once: %d writes", out.count())
	}
	fmt.Fprintln(w, "last")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "after close")
	if got := out.String(); !strings.HasSuffix(got, "last\nafter close\n") {
		t.Errorf("Close did not flush, or a later write waited: %q", got[len(got)-30:])
	}
}

// TestInterval checks that a line is written within the interval without
// a flush.
func TestInterval(t *testing.T) {
	t.Parallel()
	out := newOutput()
	w := New(out, time.Millisecond)
	fmt.Fprintln(w, "soon")
	select {
	case <-out.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("a line waited ten seconds for its interval of a millisecond")
	}
	if out.String() != "soon\n" {
		t.Errorf("wrote %q", out.String())
	}
}

// TestHandlerFlushesWarnings checks that an info record waits and a
// warning is written at once, with what came before it.
func TestHandlerFlushesWarnings(t *testing.T) {
	t.Parallel()
	out := newOutput()
	w := New(out, time.Hour)
	log := slog.New(Handler(slog.NewTextHandler(w, nil), w)).With("component", "test")
	log.Info("request", "status", 200)
	if out.count() != 0 {
		t.Fatalf("an info record was written at once: %q", out.String())
	}
	log.WithGroup("g").Warn("store unavailable")
	got := out.String()
	if out.count() != 1 || !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=\"store unavailable\"") {
		t.Errorf("after a warning: %d writes of %q", out.count(), got)
	}
}

// TestConcurrentLinesStayWhole writes lines from many goroutines: each
// comes out whole, none lost.
func TestConcurrentLinesStayWhole(t *testing.T) {
	t.Parallel()
	out := newOutput()
	w := New(out, time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "goroutine %d line %d %s\n", g, i, strings.Repeat("y", 100))
			}
		})
	}
	wg.Wait()
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		var g, i int
		var rest string
		if n, _ := fmt.Sscanf(l, "goroutine %d line %d %s", &g, &i, &rest); n != 3 || len(rest) != 100 {
			t.Fatalf("a line came out broken: %q", l)
		}
	}
}

// TestLogRequestMatchesSlog checks that LogRequest writes, in both
// formats, exactly the line slog's handler writes for the same record,
// and leaves to slog what it would quote or escape.
func TestLogRequestMatchesSlog(t *testing.T) {
	t.Parallel()
	type requestLogger interface {
		LogRequest(t time.Time, level slog.Level, method, path string, status int, elapsed time.Duration) bool
	}
	times := []time.Time{
		time.Date(2026, 12, 4, 8, 37, 55, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 6, 30, 23, 59, 59, 999999999, time.FixedZone("", 5*3600+30*60)),
		time.Date(2026, 6, 30, 23, 59, 59, 1000, time.FixedZone("", -8*3600)),
	}
	durations := []time.Duration{0, 999, 1500 * time.Microsecond, 2*time.Second + 3*time.Millisecond, 90 * time.Minute}
	paths := []string{"/scim/v2/Users/2819c223-7f76-453a-919d-413861904646", "/", "/api/v1/apps/a%20b/logs", "/Users/x.y_z~-"}
	for _, format := range []Format{Text, JSON} {
		for _, at := range times {
			for _, d := range durations {
				for _, path := range paths {
					for _, level := range []slog.Level{slog.LevelInfo, slog.LevelError} {
						var fast, slow bytes.Buffer
						fw, sw := New(&fast, time.Hour), New(&slow, time.Hour)
						if !NewHandler(format, fw).(requestLogger).LogRequest(at, level, "GET", path, 200, d) {
							t.Fatalf("format %d: LogRequest refused %q", format, path)
						}
						r := slog.NewRecord(at, level, "request", 0)
						r.AddAttrs(slog.String("method", "GET"), slog.String("path", path), slog.Int("status", 200), slog.Duration("duration", d))
						if err := NewHandler(format, sw).Handle(t.Context(), r); err != nil {
							t.Fatal(err)
						}
						fw.Flush()
						sw.Flush()
						if fast.String() != slow.String() {
							t.Errorf("format %d:\nLogRequest %q\nslog       %q", format, fast.String(), slow.String())
						}
					}
				}
			}
		}
		var out bytes.Buffer
		h := NewHandler(format, New(&out, time.Hour))
		for _, path := range []string{"/Users/a b", `/Users/"x"`, "/Users/<x>", "/Users/\n", "", "/Users/é"} {
			if h.(requestLogger).LogRequest(times[0], slog.LevelInfo, "GET", path, 200, 0) {
				t.Errorf("format %d: LogRequest wrote %q, which the format quotes or escapes", format, path)
			}
		}
		if h.WithAttrs([]slog.Attr{slog.String("k", "v")}).(requestLogger).LogRequest(times[0], slog.LevelInfo, "GET", "/", 200, 0) {
			t.Errorf("format %d: LogRequest wrote through a handler with attributes", format)
		}
	}
}
