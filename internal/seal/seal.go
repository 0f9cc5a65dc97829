// Package seal encrypts secrets for storage with AES-256-GCM, each bound
// to what holds it, so that a database alone never reveals them; and loads
// the key, from the environment or a key file it creates once.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the secret key: AES-256.
const KeySize = 32

// Sealer encrypts secrets for storage with AES-256-GCM.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer with a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the secret key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// sealVersion prefixes sealed secrets, so that another scheme can follow.
// A sealed secret is this byte, the GCM nonce, then the ciphertext with
// its tag: databases hold it in this form, so it never changes.
const sealVersion = 1

// Seal encrypts plaintext, bound to context (the id of the record that
// holds it, say), so that a sealed secret copied to another record does
// not open.
func (s *Sealer) Seal(plaintext, context []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, plaintext, context)
}

// Open decrypts what Seal returned for the same context.
func (s *Sealer) Open(sealed, context []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("the sealed secret is malformed")
	}
	out, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], context)
	if err != nil {
		return nil, errors.New("the secret does not open with this key: FERRY_SECRET_KEY or the key file differs from the one it was sealed with")
	}
	return out, nil
}

// LoadKey returns the secret key: envKey (the base64 text of FERRY_SECRET_KEY)
// when set, else the key in the file at path, which is created with a new
// random key (readable by its owner only) when it does not exist. created
// reports that it was.
func LoadKey(envKey, path string) (key []byte, created bool, err error) {
	if envKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envKey))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("FERRY_SECRET_KEY must be %d random bytes in base64 (openssl rand -base64 32)", KeySize)
		}
		return key, false, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("key file %s must hold %d random bytes in base64", path, KeySize)
		}
		return key, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	// Written whole to a temporary file, then linked into place: a
	// process starting at the same moment finds either no file or the
	// whole key, never a half-written one, and link refuses to replace a
	// key another process put there first.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ferry-key-*")
	if err != nil {
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadKey("", path)
	} else if err != nil {
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	return key, true, nil
}

// DeriveKey returns a key for purpose derived from the secret key with
// HKDF-SHA-256 (RFC 5869): replicas that share the secret key share it,
// without the secret key itself being used for two things, and nothing
// learnt of the derived key tells anything of the secret key.
func DeriveKey(key []byte, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, key, nil, "ferry "+purpose, 32)
}
