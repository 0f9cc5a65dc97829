package server

import (
	"sync"
	"time"
)

// tokenCacheTTL bounds how long a revoked token may still be accepted by a
// server that saw it just before: revocation takes effect within this time
// on every replica.
const tokenCacheTTL = 5 * time.Second

// unknownTokenTTL bounds how long a token hash the store did not know is
// refused without asking it again. A token is minted with a random secret,
// so its hash was never presented before it existed: a token created by
// ferry tokens create, on this process's database or another replica's,
// works at once. Only a secret presented before its token was stored (a
// client configured ahead of a replica's commit) waits this long.
const unknownTokenTTL = 5 * time.Second

// trustedTokenTTL is how long a token hash that was valid is let past the
// limit on failed attempts of its client's address (failures.go): a valid
// token keeps working while an address it shares (a NAT, a proxy) is
// limited. The store still decides, so revocation works as before.
const trustedTokenTTL = 24 * time.Hour

// tokenCacheMax bounds the cache's memory, valid and unknown tokens each;
// a full cache is emptied rather than tracked for eviction order, since
// refilling it costs one lookup per token.
const tokenCacheMax = 10000

// tokenCache remembers recent token lookups by token hash, so that a busy
// client does not cost a database read per request, and neither does a
// client that repeats a wrong token.
type tokenCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]tokenEntry
	// unknown holds hashes the store did not know, with when that answer
	// expires.
	unknown map[string]time.Time
}

type tokenEntry struct {
	credential
	expires time.Time
	// trusted is until when the hash counts as a valid token's.
	trusted time.Time
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, entries: map[string]tokenEntry{}, unknown: map[string]time.Time{}}
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

// trusted reports whether hash was a valid token's within trustedTokenTTL.
func (c *tokenCache) trusted(hash []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	return ok && c.now().Before(e.trusted)
}

func (c *tokenCache) put(hash []byte, cred credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	now := c.now()
	c.entries[string(hash)] = tokenEntry{credential: cred, expires: now.Add(tokenCacheTTL), trusted: now.Add(trustedTokenTTL)}
	delete(c.unknown, string(hash))
}

// isUnknown reports whether the store did not know hash within
// unknownTokenTTL.
func (c *tokenCache) isUnknown(hash []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.unknown[string(hash)]
	return ok && c.now().Before(until)
}

// putUnknown records that the store does not know hash; a hash that was
// valid (a token since revoked) is trusted no more.
func (c *tokenCache) putUnknown(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.unknown) >= tokenCacheMax {
		for h, until := range c.unknown {
			if !now.Before(until) {
				delete(c.unknown, h)
			}
		}
		if len(c.unknown) >= tokenCacheMax {
			clear(c.unknown)
		}
	}
	c.unknown[string(hash)] = now.Add(unknownTokenTTL)
	delete(c.entries, string(hash))
}
