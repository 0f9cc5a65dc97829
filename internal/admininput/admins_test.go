package admininput

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConsoleRole(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"admin", "viewer"} {
		if err := ConsoleRole(ok); err != nil {
			t.Errorf("ConsoleRole(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Admin", "owner"} {
		if err := ConsoleRole(bad); err == nil || !strings.Contains(err.Error(), "--role must be admin") {
			t.Errorf("ConsoleRole(%q) = %v; want an error naming --role", bad, err)
		}
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ann@example.com", "Ann.Smith+console@sub.example.org"} {
		if err := Email(ok); err != nil {
			t.Errorf("Email(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ann", "@example.com", "ann@", "ann smith@example.com"} {
		if err := Email(bad); err == nil || !strings.Contains(err.Error(), "--email") {
			t.Errorf("Email(%q) = %v; want an error naming --email", bad, err)
		}
	}
}

// TestAdminPasswordFile: the password is the first line of the file
// without its line ending, and is checked.
func TestAdminPasswordFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(content string) string {
		path := filepath.Join(dir, "pw")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for content, want := range map[string]string{
		"twelve chars":                "twelve chars",
		"twelve chars\n":              "twelve chars",
		"twelve chars\r\n":            "twelve chars",
		" spaces kept  \nsecond line": " spaces kept  ",
	} {
		pw, err := AdminPassword(file(content), strings.NewReader("not read"), nil)
		if err != nil || pw != want {
			t.Errorf("AdminPassword(file %q) = %q, %v; want %q", content, pw, err, want)
		}
	}
	for content, want := range map[string]string{
		"":                         "first line is empty",
		"\ntwelve chars on line 2": "first line is empty",
		"elevenchars\n":            "at least 12",
	} {
		if _, err := AdminPassword(file(content), nil, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AdminPassword(file %q) = %v; want an error saying %q", content, err, want)
		}
	}
	if _, err := AdminPassword(filepath.Join(dir, "missing"), nil, nil); err == nil || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("AdminPassword(missing file) = %v; want an error naming --password-file", err)
	}
}

// TestAdminPasswordStdin: standard input that is not a terminal gives
// the password on its first line, as a pipe does.
func TestAdminPasswordStdin(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.WriteString("from a pipe, long enough\nignored\n")
		w.Close()
	}()
	var prompts strings.Builder
	pw, err := AdminPassword("", r, &prompts)
	if err != nil || pw != "from a pipe, long enough" {
		t.Errorf("AdminPassword(pipe) = %q, %v", pw, err)
	}
	if prompts.Len() != 0 {
		t.Errorf("AdminPassword(pipe) prompted %q", prompts.String())
	}
	if _, err := AdminPassword("", strings.NewReader(""), nil); err == nil || !strings.Contains(err.Error(), "standard input holds no password") {
		t.Errorf("AdminPassword(empty stdin) = %v", err)
	}
	if _, err := AdminPassword("", strings.NewReader("short\n"), nil); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("AdminPassword(short stdin) = %v", err)
	}
}
