package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/store"
)

// signInForm is what the sign-in page shows back after a failure: never
// the password or the token.
type signInForm struct {
	Tenant, Email string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s, err := c.sessionOf(r); err == nil && s != nil {
		http.Redirect(w, r, "/apps", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Data: signInForm{Tenant: "default"}})
}

// signInRefused answers a failed sign-in, counted against the client's
// address, with the same words whatever failed, so that the page does not
// tell which emails have accounts.
func (c *Console) signInRefused(w http.ResponseWriter, r *http.Request, form signInForm, message string) {
	c.signIn.fail(clientAddr(r))
	c.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: message, Data: form})
}

// signInLimited answers 429 when the client's address used up its failed
// sign-ins, and reports whether it did.
func (c *Console) signInLimited(w http.ResponseWriter, r *http.Request, form signInForm) bool {
	wait, limited := c.signIn.limited(clientAddr(r))
	if !limited {
		return false
	}
	secs := int((wait + 999_999_999) / 1_000_000_000)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.render(w, r, http.StatusTooManyRequests, "signin", page{Title: "Sign in", Data: form,
		Error: "Too many failed sign-ins from this address. Try again in " + strconv.Itoa(secs) + " seconds."})
	return true
}

// signInWithToken signs in with an admin API token (ferry tokens create
// --scope admin): the session acts as the token, in the token's tenant, as
// an admin, and ends when the token is revoked.
func (c *Console) signInWithToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	form := signInForm{Tenant: "default"}
	if c.signInLimited(w, r, form) {
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	const refused = "That token is not an admin API token of this Ferry. Create one with: ferry tokens create --scope admin"
	if token == "" {
		c.signInRefused(w, r, form, refused)
		return
	}
	t, err := c.cfg.Store.TokenByHash(r.Context(), bearer.Hash(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (t.Scope != store.ScopeAdmin || t.Revoked != nil)) {
		c.signInRefused(w, r, form, refused)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	actor := t.Name
	if actor == "" {
		actor = "token " + t.Prefix
	}
	err = c.startSession(r.Context(), w, store.Session{TenantID: t.TenantID, TokenID: t.ID, Actor: actor, Role: store.RoleAdmin})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/apps", http.StatusSeeOther)
}

// signOut ends the session and its cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Store.DeleteSession(r.Context(), s.hash); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.clearCookie(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
