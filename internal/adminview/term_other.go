//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package adminview

import "io"

// terminalWidth returns 0: on this system, Watch prints a line
// per update rather than redrawing in place.
func terminalWidth(io.Writer) int { return 0 }
