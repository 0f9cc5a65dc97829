package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// countingStore counts the token lookups that reach the store.
type countingStore struct {
	store.Store
	lookups atomic.Int64
}

func (s *countingStore) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	s.lookups.Add(1)
	return s.Store.TokenByHash(ctx, hash)
}

// authCounts is an Observer counting authentication failures.
type authCounts struct {
	nopObserver
	mu      sync.Mutex
	failed  map[string]int
	limited int
}

func (o *authCounts) AuthFailed(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[reason]++
}

func (o *authCounts) AuthLimited() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limited++
}

type authFixture struct {
	st    *countingStore
	clock *clocktest.Clock
	obs   *authCounts
	h     http.Handler
	token string // a valid SCIM token
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	catalog := schema.Builtin()
	st := &countingStore{Store: openTestStore(t, catalog)}
	t.Cleanup(func() { st.Close() })
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	s.tokens = newTokenCache(clock.Now)
	s.failures = newFailureLimiter(clock.Now)
	obs := &authCounts{failed: map[string]int{}}
	s.SetObserver(obs)
	return &authFixture{st: st, clock: clock, obs: obs, h: s.Handler(),
		token: ferrytest.Token(t, st, "default", "test", store.ScopeSCIM)}
}

// call sends GET /scim/v2/Users from addr with token.
func (f *authFixture) call(addr, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	r.RemoteAddr = addr
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func TestUnknownTokenIsCached(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	const addr = "192.0.2.1:40000"
	for i := range 5 {
		if w := f.call(addr, "not-a-token"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401: %s", i, w.Code, w.Body)
		}
	}
	if n := f.st.lookups.Load(); n != 1 {
		t.Fatalf("5 requests with one unknown token cost %d store lookups, want 1", n)
	}
	// A token minted now was never presented before: it works at once.
	fresh := ferrytest.Token(t, f.st, "default", "fresh", store.ScopeSCIM)
	if w := f.call(addr, fresh); w.Code != http.StatusOK {
		t.Fatalf("a token just minted: status %d, want 200: %s", w.Code, w.Body)
	}
	f.clock.Advance(unknownTokenTTL)
	if w := f.call(addr, "not-a-token"); w.Code != http.StatusUnauthorized {
		t.Fatalf("after the TTL: status %d, want 401", w.Code)
	}
	if n := f.st.lookups.Load(); n != 3 {
		t.Fatalf("store lookups %d, want 3 (the unknown token, the fresh one, the unknown one again after %v)", n, unknownTokenTTL)
	}
	if got := f.obs.failed[authInvalid]; got != 6 {
		t.Fatalf("invalid-token failures observed: %d, want 6", got)
	}
}

func TestFailedAuthenticationsLimited(t *testing.T) {
	t.Parallel()
	f := newAuthFixture(t)
	const limited, other = "192.0.2.1:40000", "198.51.100.7:40000"
	// The valid token is used once before the address is limited.
	if w := f.call(limited, f.token); w.Code != http.StatusOK {
		t.Fatalf("valid token: status %d: %s", w.Code, w.Body)
	}
	for i := range failureLimit {
		if w := f.call(limited, "guess-"+strconv.Itoa(i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i, w.Code)
		}
	}
	before := f.st.lookups.Load()
	f.clock.Advance(20 * time.Second)
	w := f.call(limited, "guess-more")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("attempt %d: status %d, want 429: %s", failureLimit+1, w.Code, w.Body)
	}
	if got, want := w.Header().Get("Retry-After"), "40"; got != want {
		t.Fatalf("Retry-After %q, want %q", got, want)
	}
	if n := f.st.lookups.Load(); n != before {
		t.Fatalf("a limited attempt reached the store (%d lookups, want %d)", n, before)
	}
	if f.obs.limited != 1 {
		t.Fatalf("limited attempts observed: %d, want 1", f.obs.limited)
	}
	// Past the token cache's TTL, the valid token is looked up again, and
	// still works from the limited address.
	f.clock.Advance(tokenCacheTTL)
	if w := f.call(limited, f.token); w.Code != http.StatusOK {
		t.Fatalf("valid token from a limited address: status %d, want 200: %s", w.Code, w.Body)
	}
	if n := f.st.lookups.Load(); n != before+1 {
		t.Fatalf("store lookups %d, want %d: the valid token is checked again", n, before+1)
	}
	// Another address is not limited.
	if w := f.call(other, "guess-0"); w.Code != http.StatusUnauthorized {
		t.Fatalf("another address: status %d, want 401", w.Code)
	}
	// The window ends: the address is heard again.
	f.clock.Advance(failureWindow)
	if w := f.call(limited, "guess-after"); w.Code != http.StatusUnauthorized {
		t.Fatalf("after the window: status %d, want 401: %s", w.Code, w.Body)
	}
}

// BenchmarkUnknownToken measures a request with a wrong token, each from
// another address so that none is limited: answered from the cache of
// unknown tokens, and from the store (the cache emptied before each).
func BenchmarkUnknownToken(b *testing.B) {
	for _, cached := range []bool{true, false} {
		b.Run(map[bool]string{true: "cached", false: "store"}[cached], func(b *testing.B) {
			catalog := schema.Builtin()
			st := openTestStore(b, catalog)
			b.Cleanup(func() { st.Close() })
			s := New(DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
			h := s.Handler()
			b.ResetTimer()
			for i := range b.N {
				if !cached {
					s.tokens.mu.Lock()
					clear(s.tokens.unknown)
					s.tokens.mu.Unlock()
				}
				r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
				r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255)
				r.Header.Set("Authorization", "Bearer not-a-token")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
