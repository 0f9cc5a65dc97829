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
	credential
	expires time.Time
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, entries: map[string]tokenEntry{}}
}

// get returns what a recently verified token hash grants.
func (c *tokenCache) get(hash []byte) (credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || !c.now().Before(e.expires) {
		return credential{}, false
	}
	return e.credential, true
}

func (c *tokenCache) put(hash []byte, cred credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	c.entries[string(hash)] = tokenEntry{credential: cred, expires: c.now().Add(tokenCacheTTL)}
}
