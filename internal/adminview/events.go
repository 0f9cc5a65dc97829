package adminview

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/events"
)

// Event writes one event as a line: its time, type, object, the member
// that joined or left, the user's or group's name, and the attributes an
// update changed; the id comes last, to resume after with --after.
func Event(w io.Writer, e events.Event) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-20s  %s %s", formatTime(e.Time), e.Type, e.Object.Type, e.Object.ID)
	if name := stateName(e.State); name != "" {
		fmt.Fprintf(&b, " (%s)", name)
	}
	if e.Member != nil {
		fmt.Fprintf(&b, "  member %s %s", e.Member.Type, e.Member.ID)
	}
	if len(e.Changed) > 0 {
		fmt.Fprintf(&b, "  changed: %s", strings.Join(e.Changed, ", "))
	}
	fmt.Fprintf(&b, "  [%s]", e.ID)
	fmt.Fprintln(w, b.String())
}

// stateName is the userName or displayName of a state.
func stateName(state map[string]any) string {
	for _, k := range []string{"userName", "displayName"} {
		if s, ok := state[k].(string); ok {
			return s
		}
	}
	return ""
}
