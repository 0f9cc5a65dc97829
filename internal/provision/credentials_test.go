package provision

import (
	"encoding/hex"
	"testing"

	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// TestOpenCredentialsSealedBefore opens an application's secrets as an
// earlier build of Ferry sealed them, in both forms (the token with a
// webhook secret, and the token alone of older applications): a database
// written then must still provision.
func TestOpenCredentialsSealedBefore(t *testing.T) {
	key := make([]byte, seal.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sealed string
		want         credentials
	}{
		{"token and webhook secret", "01eae739b0ff96f3597d4987ee7389c06acffa533f60644b2b3e39e116a13ef8209d67544eb156e10af95588c31b1ed828a36cedc717c12ea55b69f99e11e679b83fc5c1af85f4c24512ee85004ac1fbe07831b891cd303f57cf3c353620d171ecdf90533c6cef",
			credentials{Token: "s3cret-token", WebhookSecret: "webhook-secret-16+"}},
		{"a token alone", "01ff5aeabbc229ebdccd26f74b0f6a17b98a6b0024ac7b3f06d904706feeee57e6db9ddde237da0848",
			credentials{Token: "legacy-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(tc.sealed)
			if err != nil {
				t.Fatal(err)
			}
			a := &store.App{ID: "app-1", Secret: b}
			got, err := openCredentials(s, a)
			if err != nil || got != tc.want {
				t.Fatalf("openCredentials = %+v, %v; want %+v", got, err, tc.want)
			}
			// Sealed again, they open the same.
			sealCredentials(s, a, got)
			if again, err := openCredentials(s, a); err != nil || again != tc.want {
				t.Errorf("sealed again: %+v, %v", again, err)
			}
		})
	}
}
