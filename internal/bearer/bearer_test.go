package bearer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ferryid/ferry/internal/store"
)

// TestNew holds the token's format: 32 bytes in unpadded URL-safe base64,
// 43 characters that need no quoting in a header or a shell.
func TestNew(t *testing.T) {
	t.Parallel()
	token, err := New(bytes.NewReader(bytes.Repeat([]byte{0xff}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("_", 42) + "8"; token != want {
		t.Errorf("New = %q, want %q", token, want)
	}
	if _, err := New(iotest.ErrReader(errors.New("no entropy"))); err == nil || !strings.Contains(err.Error(), "generate token: no entropy") {
		t.Errorf("New with a failing random source: %v", err)
	}
}

// TestHash holds the stored digest: SHA-256 of the token's text, which
// the tokens already stored were hashed with.
func TestHash(t *testing.T) {
	t.Parallel()
	if got, want := hex.EncodeToString(Hash("secret")), "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"; got != want {
		t.Errorf("Hash(secret) = %s, want %s", got, want)
	}
}

// creator records the token it is given.
type creator struct {
	rec  store.Token
	hash []byte
	err  error
}

func (c *creator) CreateToken(_ context.Context, rec store.Token, hash []byte) (store.Token, error) {
	c.rec, c.hash = rec, hash
	rec.ID = "t-1"
	return rec, c.err
}

// TestIssue: the store gets the token's hash and prefix with the caller's
// fields, never the token.
func TestIssue(t *testing.T) {
	t.Parallel()
	c := &creator{}
	token, saved, err := Issue(context.Background(), c, bytes.NewReader(bytes.Repeat([]byte{0}, 32)),
		store.Token{TenantID: "tn-1", Name: "entra", Scope: store.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Token{TenantID: "tn-1", Name: "entra", Scope: store.ScopeAdmin, Prefix: "AAAAAA"}
	if !reflect.DeepEqual(c.rec, want) || !bytes.Equal(c.hash, Hash(token)) {
		t.Errorf("stored %+v with hash %x; want %+v with the token's hash", c.rec, c.hash, want)
	}
	if saved.ID != "t-1" {
		t.Errorf("Issue returned %+v, not the stored record", saved)
	}
	c.err = errors.New("database down")
	if token, _, err := Issue(context.Background(), c, bytes.NewReader(make([]byte, 32)), store.Token{}); err == nil || token != "" {
		t.Errorf("Issue on a failing store: %q, %v", token, err)
	}
}
