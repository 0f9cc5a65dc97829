// Package bearer makes the bearer tokens (RFC 6750) that Ferry's APIs
// accept, and the digest a token is stored and looked up by: a store keeps
// a token's hash and its first characters, never the token.
package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/ferryid/ferry/internal/store"
)

// prefixLen is how many of a token's first characters are stored with it,
// so that a listing tells tokens apart without showing them.
const prefixLen = 6

// New returns a new bearer token: 32 random bytes (256 bits),
// URL-safe base64 encoded, so it fits in headers and shells unquoted.
func New(random io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash returns the digest a token is stored and looked up by. Tokens
// are 256-bit random strings, so a fast hash is the right tool: there is
// nothing to brute-force.
func Hash(token string) []byte {
	sum := Sum(token)
	return sum[:]
}

// Sum is Hash as an array, which a caller can keep on its stack: the
// server looks every request's token up by it.
func Sum(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// Creator records tokens; store.Store is one.
type Creator interface {
	CreateToken(ctx context.Context, t store.Token, hash []byte) (store.Token, error)
}

// Issue creates a new token for rec's tenant, name and scope in st, which
// keeps its hash and prefix, and returns the token, seen only now, and the
// stored record.
func Issue(ctx context.Context, st Creator, random io.Reader, rec store.Token) (string, store.Token, error) {
	token, err := New(random)
	if err != nil {
		return "", store.Token{}, err
	}
	rec.Prefix = token[:prefixLen]
	saved, err := st.CreateToken(ctx, rec, Hash(token))
	if err != nil {
		return "", store.Token{}, err
	}
	return token, saved, nil
}
