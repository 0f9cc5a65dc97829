package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSealer(t *testing.T) {
	key := make([]byte, KeySize)
	rand.Read(key)
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("the target's token"), []byte("app-1"))
	if bytes.Contains(sealed, []byte("the target's token")) {
		t.Fatal("the sealed secret holds the plaintext")
	}
	if got, err := s.Open(sealed, []byte("app-1")); err != nil || string(got) != "the target's token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("app-2")); err == nil {
		t.Error("a secret sealed for one application opens for another")
	}
	other := make([]byte, KeySize)
	rand.Read(other)
	s2, _ := New(other)
	if _, err := s2.Open(sealed, []byte("app-1")); err == nil || !strings.Contains(err.Error(), "FERRY_SECRET_KEY") {
		t.Errorf("another key: %v", err)
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

// TestOpenSealedBefore opens a secret sealed by an earlier build of
// Ferry: databases hold sealed secrets, so the format must never change.
func TestOpenSealedBefore(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := hex.DecodeString("01e59ed458e358a423904a9bd3ce62c3b06a2e5590321e27dfba749ebe9c67963f934eb369c2a437ceda26f0ddff08")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(sealed, []byte("app-1")); err != nil || string(got) != "the target's token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// What Seal writes now has the same layout: the version byte, the
	// 12-byte nonce, the ciphertext and the 16-byte tag.
	fresh := s.Seal([]byte("the target's token"), []byte("app-1"))
	if fresh[0] != 1 || len(fresh) != len(sealed) {
		t.Errorf("Seal wrote version %d, %d bytes; want version 1, %d bytes", fresh[0], len(fresh), len(sealed))
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ferry.key")
	key, created, err := LoadKey("", path)
	if err != nil || !created || len(key) != KeySize {
		t.Fatalf("first LoadKey: %d bytes, created %v, %v", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	again, created, err := LoadKey("", path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second LoadKey: created %v, same %v, %v", created, bytes.Equal(again, key), err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	if k, _, err := LoadKey(env, path); err != nil || k[0] != 7 {
		t.Fatalf("FERRY_SECRET_KEY: %v, %v", k, err)
	}
	if _, _, err := LoadKey("c2hvcnQ=", path); err == nil {
		t.Error("a short FERRY_SECRET_KEY was accepted")
	}

	// Processes starting together agree on one key.
	shared := filepath.Join(dir, "shared.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, err := LoadKey("", shared)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent LoadKey calls returned different keys")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, KeySize)
	a, err := DeriveKey(key, "scim cursor")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := DeriveKey(bytes.Clone(key), "scim cursor")
	other, _ := DeriveKey(key, "something else")
	otherKey, _ := DeriveKey(bytes.Repeat([]byte{8}, KeySize), "scim cursor")
	if len(a) != 32 || !bytes.Equal(a, again) {
		t.Errorf("DeriveKey is not a 32-byte function of its inputs: %x, %x", a, again)
	}
	if bytes.Equal(a, other) || bytes.Equal(a, otherKey) || bytes.Equal(a, key) {
		t.Errorf("derived keys collide: %x %x %x", a, other, otherKey)
	}
}
