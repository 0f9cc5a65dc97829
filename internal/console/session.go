package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/store"
)

// A session is a sign-in as a request sees it: the stored session and
// the hash of its secret, which keys it.
type session struct {
	store.Session
	hash []byte
}

// CanChange reports whether the session may change things.
func (s *session) CanChange() bool { return s.Role == store.RoleAdmin }

// The roles an action needs.
type role int

const (
	viewer role = iota // reads: every signed-in role
	admin              // changes: store.RoleAdmin only
)

// secure reports whether r reached the console over TLS: directly, or
// through a proxy that terminates it (Config.Secure).
func (c *Console) secure(r *http.Request) bool { return c.cfg.Secure || r.TLS != nil }

// cookieName is the session cookie's name. Under TLS it takes the
// __Host- prefix, which browsers only accept from a secure origin, for
// the whole host, never set by a subdomain.
func (c *Console) cookieName(r *http.Request) string {
	if c.secure(r) {
		return "__Host-ferry_session"
	}
	return "ferry_session"
}

// touchEvery bounds how often a session's LastSeen is written: once a
// minute at most, not on every request.
const touchEvery = time.Minute

// sessionOf returns the live session of r's cookie, or nil. A session
// past its idle or absolute expiry is ended.
func (c *Console) sessionOf(r *http.Request) (*session, error) {
	ck, err := r.Cookie(c.cookieName(r))
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	hash := hashSecret(ck.Value)
	st, err := c.cfg.Store.SessionByHash(r.Context(), hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	if now.After(st.Expires) || now.Sub(st.LastSeen) > c.cfg.IdleTimeout {
		if err := c.cfg.Store.DeleteSession(r.Context(), hash); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if now.Sub(st.LastSeen) >= touchEvery {
		// A token's sign-in ends with the token: checked when the
		// session is touched, so within a minute of the revocation.
		if st.TokenID != "" {
			live, err := c.tokenLive(r.Context(), st.TenantID, st.TokenID)
			if err != nil {
				return nil, err
			}
			if !live {
				return nil, c.cfg.Store.DeleteSession(r.Context(), hash)
			}
		}
		if err := c.cfg.Store.TouchSession(r.Context(), hash, now); err != nil {
			return nil, err
		}
		st.LastSeen = now
	}
	return &session{Session: *st, hash: hash}, nil
}

// startSession records s, a new session, and sets its cookie on the
// answer to r.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, s store.Session) error {
	ctx := r.Context()
	secret, err := randomToken()
	if err != nil {
		return err
	}
	if s.CSRF, err = randomToken(); err != nil {
		return err
	}
	now := c.cfg.Now()
	s.Created, s.LastSeen, s.Expires = now, now, now.Add(c.cfg.MaxAge)
	if err := c.cfg.Store.CreateSession(ctx, s, hashSecret(secret)); err != nil {
		return err
	}
	// Each sign-in sweeps the sessions that ended, so that they do not
	// pile up: an indexed delete, usually of nothing.
	if _, err := c.cfg.Store.DeleteSessionsBefore(ctx, now, now.Add(-c.cfg.IdleTimeout)); err != nil {
		c.cfg.Log.Warn("console: deleting ended sessions", "err", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.cookieName(r), Value: secret, Path: "/",
		Expires: s.Expires, MaxAge: int(c.cfg.MaxAge / time.Second),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode,
	})
	return nil
}

// clearCookie removes the session cookie from the browser.
func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// authorize serves h to signed-in requests whose session has role need.
// A request without a live session is sent to sign-in (htmx follows
// HX-Redirect); a POST must carry the session's CSRF token (form field
// "csrf" or header X-CSRF-Token), or it is refused with 403; a viewer's
// change is refused with 403. The context names the session's actor for
// the engine's audit log.
func (c *Console) authorize(need role, h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := c.sessionOf(r)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		if s == nil {
			c.clearCookie(w, r)
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/signin")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) != 1 {
				c.refuse(w, r, s, http.StatusForbidden, "This form has expired or did not come from this console. Reload the page and try again.")
				return
			}
		}
		if need == admin && !s.CanChange() {
			c.refuse(w, r, s, http.StatusForbidden, "You are signed in as a viewer: viewers see everything and change nothing. Ask an admin of this tenant.")
			return
		}
		ctx := provision.WithActor(r.Context(), s.Actor)
		h(w, r.WithContext(ctx), s)
	})
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is a session's key: the SHA-256 of its secret.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Failed sign-ins are limited per client address (throttle): after
// maxFailedSignIns in signInWindow, sign-in answers 429 until the window
// ends, which makes guessing passwords slow without locking the account's
// owner out elsewhere.
const (
	maxFailedSignIns = 10
	signInWindow     = time.Minute
)

// tokenLive reports whether the tenant's admin API token id exists and is
// not revoked.
func (c *Console) tokenLive(ctx context.Context, tenantID, id string) (bool, error) {
	tokens, err := c.cfg.Store.Tokens(ctx, tenantID)
	if err != nil {
		return false, err
	}
	for _, t := range tokens {
		if t.ID == id {
			return t.Revoked == nil && t.Scope == store.ScopeAdmin, nil
		}
	}
	return false, nil
}
