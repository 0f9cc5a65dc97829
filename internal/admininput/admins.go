package admininput

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/ferryid/ferry/internal/password"
	"github.com/ferryid/ferry/internal/store"
)

// ConsoleRole refuses an admin's --role that is not one of the console's.
func ConsoleRole(role string) error {
	if role != store.RoleAdmin && role != store.RoleViewer {
		return fmt.Errorf("--role must be %s (changes things) or %s (reads everything, changes nothing), got %q", store.RoleAdmin, store.RoleViewer, role)
	}
	return nil
}

// Email refuses an admin's --email that cannot be one: empty, or without
// an @ between a name and a domain. The console signs people in by it, so
// a typo is better caught now than at the sign-in form.
func Email(email string) error {
	name, domain, ok := strings.Cut(email, "@")
	if !ok || name == "" || domain == "" || strings.ContainsAny(email, " \t\r\n") {
		return fmt.Errorf("--email %q is not an email address", email)
	}
	return nil
}

// AdminPassword reads a console admin's new password and checks it with
// password.Check. It comes from the first line of file when one is given
// (--password-file); else, when stdin is a terminal, it is asked for
// twice on prompts without echo; else it is the first line of stdin, so
// that a script can pipe it in. There is no flag that takes the password
// itself: a command line is visible to every user of the machine.
func AdminPassword(file string, stdin io.Reader, prompts io.Writer) (string, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f, "--password-file "+file, "it should hold the password on its first line")
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(int(f.Fd()), prompts)
	}
	return firstLine(stdin, "standard input", "give --password-file, run the command on a terminal to be asked, or pipe the password in")
}

// firstLine returns the password on the first line of r, which names;
// hint says what to do when there is none.
func firstLine(r io.Reader, names, hint string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", names, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%s holds no password (its first line is empty); %s", names, hint)
	}
	if err := password.Check(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// promptPassword asks for the password on the terminal fd, twice, without
// echo: a typo that was not seen must not become the password.
func promptPassword(fd int, prompts io.Writer) (string, error) {
	read := func(prompt string) (string, error) {
		fmt.Fprint(prompts, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompts) // the Enter that was not echoed
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	pw, err := read(fmt.Sprintf("Password (at least %d characters): ", password.MinLength))
	if err != nil {
		return "", err
	}
	if err := password.Check(pw); err != nil {
		return "", err
	}
	again, err := read("Password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passwords differ; nothing was changed")
	}
	return pw, nil
}
