package server

import (
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/store"
)

func TestTokenCacheExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(func() time.Time { return now })
	hash := bearer.Hash("secret")
	if _, ok := c.get(hash); ok {
		t.Fatal("empty cache answered")
	}
	want := credential{tenantID: "tenant-1", scope: store.ScopeAdmin}
	c.put(hash, want)
	if got, ok := c.get(hash); !ok || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := c.get(bearer.Hash("other")); ok {
		t.Fatal("another token answered")
	}
	now = now.Add(tokenCacheTTL)
	if _, ok := c.get(hash); ok {
		t.Fatal("entry outlived its TTL")
	}
}

func TestTokenCacheBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache(time.Now)
	for i := range tokenCacheMax + 10 {
		c.put(bearer.Hash(string(rune(i))+"x"), credential{tenantID: "t", scope: store.ScopeSCIM})
	}
	if n := len(c.entries); n > tokenCacheMax {
		t.Fatalf("cache holds %d entries, more than %d", n, tokenCacheMax)
	}
}
