package admininput

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: what is written to main is typed on
// the terminal term.
func openPTY(t *testing.T) (main, term *os.File) {
	t.Helper()
	main, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { main.Close() })
	fd := int(main.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	return main, term
}

// TestAdminPasswordTerminal: on a terminal the password is asked for
// twice, and the two must match.
func TestAdminPasswordTerminal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, typed string
		want        string // the password, or the error's words
		ok          bool
		prompts     int
	}{
		{"match", "a long passphrase\na long passphrase\n", "a long passphrase", true, 2},
		{"differ", "a long passphrase\na long passphrasE\n", "the two passwords differ", false, 2},
		{"short", "short\nshort\n", "at least 12", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			main, term := openPTY(t)
			// The line discipline holds the lines until they are read.
			if _, err := main.WriteString(tt.typed); err != nil {
				t.Fatal(err)
			}
			var prompts strings.Builder
			pw, err := AdminPassword("", term, &prompts)
			if tt.ok && (err != nil || pw != tt.want) {
				t.Errorf("AdminPassword = %q, %v; want %q", pw, err, tt.want)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("AdminPassword = %q, %v; want an error saying %q", pw, err, tt.want)
			}
			if got := strings.Count(prompts.String(), "Password"); got != tt.prompts {
				t.Errorf("prompts %q: %d; want %d", prompts.String(), got, tt.prompts)
			}
			if strings.Contains(prompts.String(), "passphrase") {
				t.Errorf("the prompts show the password: %q", prompts.String())
			}
		})
	}
}
