package ferrytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/webhooks"
)

// What the tests of webhooks share: a receiver and the service.

// Receiver is a webhook receiver: it verifies each request's
// Ferry-Signature with the secret SetSecret gave, records the type and id
// of each verified request, and answers it 204; a request whose signature
// does not verify fails the test and is answered 401.
type Receiver struct {
	URL string

	mu     sync.Mutex
	secret string
	got    []string
}

// NewReceiver serves a Receiver until the test ends.
func NewReceiver(t testing.TB) *Receiver {
	rc := &Receiver{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := notify.Verify(rc.secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), 0); err != nil {
			t.Errorf("webhook receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rc.got = append(rc.got, r.Header.Get(notify.EventTypeHeader)+" "+r.Header.Get(notify.EventIDHeader))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hs.Close)
	rc.URL = hs.URL
	return rc
}

// SetSecret sets the signing secret requests are verified with.
func (rc *Receiver) SetSecret(secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = secret
}

// Got returns the verified requests so far, as "type id".
func (rc *Receiver) Got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

// Webhooks returns the webhook service on st, for an admin API to serve,
// with a random sealing key. Its deliverer does not run: tests call
// DeliverAll.
func Webhooks(t testing.TB, st store.Store) *webhooks.Service {
	t.Helper()
	return webhooks.New(webhooks.Options{Store: st, Sealer: newSealer(t)})
}
