package password

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

const secret = "correct horse battery staple"

// phc is the form Hash writes: OWASP's parameters, a 16-byte salt (22
// base64 characters) and a 32-byte key (43).
var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h) {
		t.Fatalf("Hash = %q; want the PHC string of m=19456,t=2,p=1, a 16-byte salt and a 32-byte key", h)
	}
	if ok, err := Verify(secret, h); err != nil || !ok {
		t.Errorf("Verify(the password) = %t, %v; want true", ok, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", secret + " "} {
		if ok, err := Verify(wrong, h); err != nil || ok {
			t.Errorf("Verify(%q) = %t, %v; want false", wrong, ok, err)
		}
	}
}

func TestHashSalts(t *testing.T) {
	t.Parallel()
	a, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	saltOf := func(h string) string { return strings.Split(h, "$")[4] }
	if saltOf(a) == saltOf(b) {
		t.Errorf("two hashes share the salt %s", saltOf(a))
	}
	for _, h := range []string{a, b} {
		if ok, err := Verify(secret, h); err != nil || !ok {
			t.Errorf("Verify(%s) = %t, %v", h, ok, err)
		}
	}
}

// TestVerifyParameters: Verify derives the key with the parameters the
// string holds, whatever they are, so that Hash's can be raised later.
func TestVerifyParameters(t *testing.T) {
	t.Parallel()
	salt := []byte("a salt of 16 b.!")
	for _, p := range []struct {
		memory, time uint32
		threads      uint8
		keyLen       uint32
	}{
		{64 * 1024, 3, 4, 32},
		{8 * 1024, 1, 2, 16},
		{19 * 1024, 5, 1, 64},
	} {
		key := argon2.IDKey([]byte(secret), salt, p.time, p.memory, p.threads, p.keyLen)
		h := encode(p.memory, p.time, p.threads, salt, key)
		if ok, err := Verify(secret, h); err != nil || !ok {
			t.Errorf("Verify(%s) = %t, %v; want true", h, ok, err)
		}
		if ok, err := Verify("not "+secret, h); err != nil || ok {
			t.Errorf("Verify(wrong password, %s) = %t, %v; want false", h, ok, err)
		}
	}
	// Written by hand, not by encode: the form other tools write.
	key := argon2.IDKey([]byte(secret), salt, 3, 12288, 2, 32)
	h := "$argon2id$v=19$m=12288,t=3,p=2$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	if ok, err := Verify(secret, h); err != nil || !ok {
		t.Errorf("Verify(%s) = %t, %v; want true", h, ok, err)
	}
}

// TestVerifyMalformed: a damaged or foreign string is an error, not a
// mismatch.
func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	good, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":                  "",
		"not PHC":                "hunter2",
		"no leading $":           strings.TrimPrefix(good, "$"),
		"missing key":            strings.Join(parts[:5], "$"),
		"extra field":            good + "$x",
		"argon2i":                with(1, "argon2i"),
		"bcrypt":                 "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"version 16":             with(2, "v=16"),
		"no version":             with(2, "m=19456,t=2,p=1"),
		"parameters reversed":    with(3, "p=1,t=2,m=19456"),
		"parameter missing":      with(3, "m=19456,t=2"),
		"parameter extra":        with(3, "m=19456,t=2,p=1,k=3"),
		"parameter not a number": with(3, "m=19456,t=two,p=1"),
		"negative parameter":     with(3, "m=19456,t=-2,p=1"),
		"leading zero":           with(3, "m=019456,t=2,p=1"),
		"zero passes":            with(3, "m=19456,t=0,p=1"),
		"zero lanes":             with(3, "m=19456,t=2,p=0"),
		"256 lanes":              with(3, "m=19456,t=2,p=256"),
		"too little memory":      with(3, "m=7,t=2,p=1"),
		"too much memory":        with(3, "m=4194305,t=2,p=1"),
		"too many passes":        with(3, "m=19456,t=65,p=1"),
		"salt not base64":        with(4, "!!!!!!!!!!!!!!!!!!!!!!"),
		"salt padded":            with(4, parts[4]+"=="),
		"salt too short":         with(4, "c2FsdA"),
		"key not base64":         with(5, parts[5][:42]+"*"),
		"key too short":          with(5, base64.RawStdEncoding.EncodeToString(make([]byte, 8))),
		"key empty":              with(5, ""),
	} {
		ok, err := Verify(secret, h)
		if !errors.Is(err, ErrMalformed) || ok {
			t.Errorf("%s: Verify(%q) = %t, %v; want an ErrMalformed error", name, h, ok, err)
		}
	}
}

// TestVerifyTampered: a hash whose salt or key was changed, still well
// formed, no longer matches the password.
func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	good, err := Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for i, what := range map[int]string{4: "salt", 5: "key"} {
		b, err := base64.RawStdEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		b[0] ^= 1
		p := append([]string(nil), parts...)
		p[i] = base64.RawStdEncoding.EncodeToString(b)
		h := strings.Join(p, "$")
		if ok, err := Verify(secret, h); err != nil || ok {
			t.Errorf("Verify with a tampered %s = %t, %v; want false", what, ok, err)
		}
	}
	// Other parameters than the key was derived with: another key.
	h := strings.Replace(good, "t=2", "t=3", 1)
	if ok, err := Verify(secret, h); err != nil || ok {
		t.Errorf("Verify with t raised = %t, %v; want false", ok, err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "short", "elevenchars", "ünïcödé1234"} {
		err := Check(p)
		if err == nil || !strings.Contains(err.Error(), "at least 12") {
			t.Errorf("Check(%q) = %v; want an error saying at least 12 characters are needed", p, err)
		}
	}
	// Twelve characters, in runes: "é" is two bytes but one character.
	for _, p := range []string{"twelve chars", "ünïcödé12345", strings.Repeat("é", 12), secret} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%q) = %v; want nil", p, err)
		}
	}
}
