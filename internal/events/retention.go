package events

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// MinRetention is the shortest event retention ParseRetention accepts:
// shorter would expire the cursors of readers that merely restarted, and
// make the provisioning engine run full cycles instead of incremental
// ones.
const MinRetention = time.Hour

// PruneEvery is how often a Retainer prunes.
const PruneEvery = time.Hour

// ParseRetention reads how long events are kept: a Go duration ("720h")
// or a number of days ("30d"); "0" (or "") keeps them forever.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int64
		n, err = strconv.ParseInt(days, 10, 64)
		if err == nil && (n < 0 || n > 100*365) {
			err = fmt.Errorf("out of range")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is no retention: give a duration such as 720h or a number of days such as 30d, or 0 to keep events forever", s)
	}
	if d != 0 && d < MinRetention {
		return 0, fmt.Errorf("%q is shorter than the least retention, %s: readers and webhooks that pause would lose events, and provisioning jobs would fall back to full cycles; or give 0 to keep events forever", s, MinRetention)
	}
	return d, nil
}

// Retainer deletes the events (the change-feed entries) older than Keep,
// of every tenant. Readers whose cursors fall behind then get an
// *ExpiredError.
type Retainer struct {
	Store store.Store
	Keep  time.Duration
	Now   func() time.Time // time.Now when nil
	Log   *slog.Logger
}

// Prune deletes the events older than Keep once, and logs how many.
func (r Retainer) Prune(ctx context.Context) (int64, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	before := now().Add(-r.Keep)
	n, err := r.Store.PruneChanges(ctx, before)
	switch {
	case err != nil && ctx.Err() == nil:
		r.Log.Error("events: prune the change feed", "err", err, "pruned", n)
	case n > 0:
		r.Log.Info("events: pruned the change feed", "entries", n, "olderThan", r.Keep, "before", before.UTC())
	}
	return n, err
}

// Run prunes at once and then every PruneEvery, until ctx is done.
func (r Retainer) Run(ctx context.Context) {
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		r.Prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
