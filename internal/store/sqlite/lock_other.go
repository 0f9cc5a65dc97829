//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

// lockFile is not available here: no process can own a database, and
// Options.Owner fails.
func lockFile(*os.File) error { return errors.New("file locks are not supported on this system") }
