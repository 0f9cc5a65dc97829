package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

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

func (m *Manager) sealCredentials(a *store.App, c credentials) {
	b, _ := json.Marshal(c) // two strings always encode
	a.Secret = m.sealer.Seal(append([]byte(credentialsMark), b...), []byte(a.ID))
}

func (m *Manager) openCredentials(a *store.App) (credentials, error) {
	if len(a.Secret) == 0 {
		return credentials{}, nil
	}
	b, err := m.sealer.Open(a.Secret, []byte(a.ID))
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

func (m *Manager) hasWebhookSecret(a *store.App) bool {
	c, err := m.openCredentials(a)
	return err == nil && c.WebhookSecret != ""
}
