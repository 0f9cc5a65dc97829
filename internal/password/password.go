// Package password hashes and checks the console admins' passwords with
// Argon2id, in the PHC string form that other tools read:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with the salt and the key in unpadded standard base64. Hash uses
// OWASP's recommended minimum (19 MiB of memory, two passes, one lane);
// Verify reads the parameters from the string, so that they can be raised
// later without invalidating the hashes already stored.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinLength is the fewest characters (runes) a password may have.
const MinLength = 12

// The parameters Hash uses: OWASP's recommended minimum for Argon2id
// (m=19 MiB, t=2, p=1), a 16-byte salt and a 32-byte key.
const (
	memoryKiB  = 19 * 1024
	passes     = 2
	lanes      = 1
	saltLength = 16
	keyLength  = 32
)

// The bounds Verify accepts. Below the minimums Argon2 is undefined (RFC
// 9106 §3.1) or the key is short enough to guess; above the maximums a
// string is a corrupted one rather than a hash anyone chose, and deriving
// its key would take the server's memory or minutes of its CPU for one
// sign-in.
const (
	minSalt      = 8
	minKey       = 16
	maxMemoryKiB = 4 * 1024 * 1024 // 4 GiB
	maxPasses    = 64
)

// ErrMalformed is the error, tested with errors.Is, of Verify given a
// string that is not an Argon2id PHC string it can check against.
var ErrMalformed = errors.New("not an Argon2id password hash")

// b64 is the PHC string's base64: standard alphabet, no padding, and no
// stray bits in the last character, so that one hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Check returns an error saying why password may not be used, or nil.
func Check(password string) error {
	if n := utf8.RuneCountInString(password); n < MinLength {
		return fmt.Errorf("the password is too short: %d characters, at least %d are needed", n, MinLength)
	}
	return nil
}

// Hash returns password's Argon2id hash in PHC string form, with a new
// random salt: two hashes of one password differ.
func Hash(password string) (string, error) {
	salt := make([]byte, saltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, passes, memoryKiB, lanes, keyLength)
	return encode(memoryKiB, passes, lanes, salt, key), nil
}

// encode writes the PHC string of an Argon2id key.
func encode(memory, time uint32, threads uint8, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memory, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password is the one encoded is the hash of,
// comparing the keys in constant time. A string that is not an Argon2id
// PHC string, or whose parameters are out of bounds, is an error
// (ErrMalformed), never a mere mismatch: it means the stored hash is
// damaged.
func Verify(password, encoded string) (bool, error) {
	h, err := decode(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// hash is a decoded PHC string.
type hash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("password: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// decode parses an Argon2id PHC string, its parameters in the order the
// PHC format fixes (m, t, p).
func decode(encoded string) (hash, error) {
	var h hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, malformed("want $argon2id$v=..$m=..,t=..,p=..$salt$key")
	}
	if parts[1] != "argon2id" {
		return h, malformed("the algorithm is %q", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, malformed("the version is %q, not v=%d", parts[2], argon2.Version)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return h, malformed("the parameters %q are not m, t and p", parts[3])
	}
	var values [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return h, malformed("the parameters %q are not m, t and p", parts[3])
		}
		n, err := strconv.ParseUint(v, 10, 32)
		// A leading zero or sign would give one hash two spellings.
		if err != nil || strconv.FormatUint(n, 10) != v {
			return h, malformed("the parameter %s=%q is not a number", name, v)
		}
		values[i] = n
	}
	m, t, p := values[0], values[1], values[2]
	switch {
	case p < 1 || p > 255:
		return h, malformed("p=%d is not between 1 and 255", p)
	case m < 8*p || m > maxMemoryKiB:
		return h, malformed("m=%d is not between 8×p and %d", m, maxMemoryKiB)
	case t < 1 || t > maxPasses:
		return h, malformed("t=%d is not between 1 and %d", t, maxPasses)
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < minSalt {
		return h, malformed("the salt is not base64 of at least %d bytes", minSalt)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < minKey {
		return h, malformed("the key is not base64 of at least %d bytes", minKey)
	}
	return h, nil
}
