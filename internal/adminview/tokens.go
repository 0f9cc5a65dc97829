package adminview

import (
	"fmt"
	"io"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// TokenCreated writes a new token on out, on a line of its own, the only
// time it is shown, and what it is on notes, so that a script reads the
// token alone.
func TokenCreated(notes, out io.Writer, token string, rec store.Token, tenant string) {
	fmt.Fprintf(notes, "Created %s token %s (%q) for tenant %q. It is shown only now; Ferry keeps only its hash.\n", rec.Scope, rec.ID, rec.Name, tenant)
	fmt.Fprintln(out, token)
}

// Tokens writes a table of tokens: their prefixes, never the tokens.
func Tokens(w io.Writer, tokens []store.Token) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tPREFIX\tCREATED\tREVOKED")
	for _, tok := range tokens {
		revoked := "-"
		if tok.Revoked != nil {
			revoked = tok.Revoked.UTC().Format(time.RFC3339)
		}
		scope := tok.Scope
		if scope == "" {
			scope = store.ScopeSCIM
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\n", tok.ID, tok.Name, scope, tok.Prefix, tok.Created.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

// TokenRevoked says a token is revoked, and when servers refuse it.
func TokenRevoked(w io.Writer, id string) {
	fmt.Fprintf(w, "Revoked token %s; running servers refuse it within 5 seconds.\n", id)
}
