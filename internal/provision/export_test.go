package provision

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// DueForTest says which cycle the scheduler would run now for an
// application: "full", "incremental", "retry", "staged" or "".
func (s *Service) DueForTest(ctx context.Context, tenantID, app string) (string, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return "", err
	}
	return s.engine.due(ctx, a)
}

// BenchTargetUsers is how many target users a benchmark of reading the
// target holds: FERRY_BENCH_TARGET_USERS, def when unset.
func BenchTargetUsers(b testing.TB, def int) int {
	s := os.Getenv("FERRY_BENCH_TARGET_USERS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("FERRY_BENCH_TARGET_USERS=%q is not a positive count", s)
	}
	return n
}
