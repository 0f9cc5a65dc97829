package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// An application's secrets are sealed together in store.App.Secret: the
// Secret Token the target accepts and, when the application has a
// notification webhook, the secret its notices are signed with. Older
// applications hold the token alone, sealed as it is.

// credentials are an application's secrets.
type credentials struct {
	Token         string `json:"token"`
	WebhookSecret string `json:"webhookSecret,omitempty"`
}

// credentialsMark starts the sealed JSON form; a token alone never starts
// with a NUL byte.
const credentialsMark = "\x00credentials\n"

// minWebhookSecret is the shortest webhook signing secret accepted.
const minWebhookSecret = 16

// sealCredentials seals c into a.Secret, bound to the application's id:
// sealed secrets copied to another application do not open.
func sealCredentials(s *seal.Sealer, a *store.App, c credentials) {
	b, _ := json.Marshal(c) // two strings always encode
	a.Secret = s.Seal(append([]byte(credentialsMark), b...), []byte(a.ID))
}

// openCredentials opens a.Secret, in either of its forms.
func openCredentials(s *seal.Sealer, a *store.App) (credentials, error) {
	if len(a.Secret) == 0 {
		return credentials{}, nil
	}
	b, err := s.Open(a.Secret, []byte(a.ID))
	if err != nil {
		return credentials{}, err
	}
	rest, ok := bytes.CutPrefix(b, []byte(credentialsMark))
	if !ok {
		return credentials{Token: string(b)}, nil
	}
	var c credentials
	if err := json.Unmarshal(rest, &c); err != nil {
		return credentials{}, fmt.Errorf("the application's sealed secrets do not decode: %w", err)
	}
	return c, nil
}

func checkWebhookSecret(s string) error {
	if n := utf8.RuneCountInString(s); n < minWebhookSecret {
		return invalid("webhookSecret must have at least %d characters, not %d: receivers check notices' signatures with it", minWebhookSecret, n)
	}
	return nil
}

func hasWebhookSecret(s *seal.Sealer, a *store.App) bool {
	c, err := openCredentials(s, a)
	return err == nil && c.WebhookSecret != ""
}
