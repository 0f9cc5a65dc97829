package server

import (
	"sync"
	"time"
)

// tokenCacheTTL bounds how long a revoked token may still be accepted by a
// server that saw it just before: revocation takes effect within this time
// on every replica.
const tokenCacheTTL = 5 * time.Second

// tokenCacheMax bounds the cache's memory; a full cache is emptied rather
// than tracked for eviction order, since refilling it costs one lookup per
// token.
const tokenCacheMax = 10000

// tokenCache remembers recent successful token lookups by token hash, so
// that a busy client does not cost a database read per request.
type tokenCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]tokenEntry
}

type tokenEntry struct {
	tenantID string
	expires  time.Time
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, entries: map[string]tokenEntry{}}
}

// get returns the tenant of a recently verified token hash.
func (c *tokenCache) get(hash []byte) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || !c.now().Before(e.expires) {
		return "", false
	}
	return e.tenantID, true
}

func (c *tokenCache) put(hash []byte, tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	c.entries[string(hash)] = tokenEntry{tenantID: tenantID, expires: c.now().Add(tokenCacheTTL)}
}
