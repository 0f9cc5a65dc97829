package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// PostgreSQL plans queries from table statistics that autovacuum refreshes
// about a minute after a table has changed by a tenth. A directory loaded
// in bulk (an initial sync from Entra, an import) is queried at once, with
// statistics that still describe a nearly empty table: the planner then
// walks every resource of the tenant for a userName eq instead of looking
// the value up, 40 ms instead of 0.1 ms at 10,000 users. So the store
// refreshes the statistics itself when the writes since the last refresh
// reach a fifth of the resources there were then: at most a handful of
// ANALYZE runs while a directory grows tenfold, each a few seconds at
// worst, off the writers' path.

// minAnalyzeWrites is the fewest writes that start a refresh.
const minAnalyzeWrites = 500

// analyzer refreshes the planner's statistics after bulk writes.
type analyzer struct {
	writes   atomic.Int64 // change-feed entries written since the last refresh
	baseline atomic.Int64 // resources at the last refresh
	running  atomic.Bool
	wg       sync.WaitGroup
	stop     context.CancelFunc
	ctx      context.Context
}

func (s *Store) startAnalyzer() {
	s.analyze.ctx, s.analyze.stop = context.WithCancel(context.Background())
	s.analyzeNow() // statistics of a database opened after a bulk load elsewhere
}

// noteWrites counts n written change-feed entries and starts a refresh
// when enough have been.
func (s *Store) noteWrites(n int) {
	w := s.analyze.writes.Add(int64(n))
	if w >= max(minAnalyzeWrites, s.analyze.baseline.Load()/5) {
		s.analyzeNow()
	}
}

// analyzeNow refreshes the statistics in the background, unless a refresh
// is running.
func (s *Store) analyzeNow() {
	if !s.analyze.running.CompareAndSwap(false, true) {
		return
	}
	s.analyze.writes.Store(0)
	s.analyze.wg.Add(1)
	go func() {
		defer s.analyze.wg.Done()
		defer s.analyze.running.Store(false)
		ctx, cancel := context.WithTimeout(s.analyze.ctx, 5*time.Minute)
		defer cancel()
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM resource_counts`).Scan(&n); err != nil {
			return
		}
		s.analyze.baseline.Store(n)
		// VACUUM as well marks the pages all-visible, which lets index-only
		// scans (a listing's skipped rows) skip the table.
		s.pool.Exec(ctx, `VACUUM (ANALYZE) resources, attribute_values, memberships, attr_paths, changes`)
	}()
}

// stopAnalyzer waits for a running refresh, cancelled.
func (s *Store) stopAnalyzer() {
	s.analyze.stop()
	s.analyze.wg.Wait()
}
