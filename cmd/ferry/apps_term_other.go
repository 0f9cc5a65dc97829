//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "io"

// terminalWidth returns 0: on this system, status --watch prints a line
// per update rather than redrawing in place.
func terminalWidth(io.Writer) int { return 0 }
