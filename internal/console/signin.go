package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/password"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/throttle"
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
	c.signIn.Fail(throttle.ClientAddr(r))
	c.render(w, r, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: message, Data: form})
}

// signInLimited answers 429 when the client's address used up its failed
// sign-ins, and reports whether it did.
func (c *Console) signInLimited(w http.ResponseWriter, r *http.Request, form signInForm) bool {
	wait, limited := c.signIn.Limited(throttle.ClientAddr(r))
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
	err = c.startSession(w, r, store.Session{TenantID: t.TenantID, TokenID: t.ID, Actor: actor, Role: store.RoleAdmin})
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
	c.clearCookie(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// signInWithPassword signs in an admin account of the tenant named in the
// form (ferry admins create) by email and password.
func (c *Console) signInWithPassword(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	form := signInForm{Tenant: strings.TrimSpace(r.PostFormValue("tenant")), Email: strings.TrimSpace(r.PostFormValue("email"))}
	if form.Tenant == "" {
		form.Tenant = "default"
	}
	if c.signInLimited(w, r, form) {
		return
	}
	const refused = "That email and password did not match an account of this tenant."
	a, err := c.findAdmin(r, form)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	// An unknown account costs the same work, so that the time of the
	// answer does not tell which emails have one.
	hash := c.decoyHash()
	if a != nil {
		hash = a.PasswordHash
	}
	ok, err := password.Verify(r.PostFormValue("password"), hash)
	if err != nil && a != nil {
		c.serverError(w, r, err)
		return
	}
	if a == nil || !ok {
		c.signInRefused(w, r, form, refused)
		return
	}
	err = c.startSession(w, r, store.Session{TenantID: a.TenantID, AdminID: a.ID, Actor: a.Email, Role: a.Role})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/apps", http.StatusSeeOther)
}

// findAdmin returns the form's account, or nil when the tenant or the
// email has none.
func (c *Console) findAdmin(r *http.Request, form signInForm) (*store.Admin, error) {
	t, err := c.cfg.Store.TenantByName(r.Context(), form.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a, err := c.cfg.Store.AdminByEmail(r.Context(), t.ID, form.Email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// decoyHash is a password hash no password matches, verified in place of
// an account that does not exist.
func (c *Console) decoyHash() string {
	c.decoyOnce.Do(func() {
		secret, err := randomToken()
		if err == nil {
			c.decoy, _ = password.Hash(secret)
		}
	})
	return c.decoy
}
