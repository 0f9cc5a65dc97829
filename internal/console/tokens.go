package console

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/store"
)

// tokensData is the tokens page's.
type tokensData struct {
	Tokens []store.Token
	// Created is a token just created, shown this once and never again;
	// CreatedName its label.
	Created, CreatedName string
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showTokens(w, r, s, http.StatusOK, tokensData{}, "", "")
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, s *session, status int, data tokensData, notice, problem string) {
	tokens, err := c.cfg.Store.Tokens(r.Context(), s.TenantID)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	data.Tokens = tokens
	// A page that shows a new token must not be kept by the browser.
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, status, "tokens", page{Title: "Tokens", Session: s, Nav: "tokens", Notice: notice, Error: problem, Data: data})
}

// createToken creates a SCIM or admin API token of the tenant and shows it
// once.
func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *session) {
	name, scope := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("scope")
	if err := admininput.TokenScope(scope); err != nil {
		c.showTokens(w, r, s, http.StatusBadRequest, tokensData{}, "", err.Error())
		return
	}
	token, rec, err := bearer.Issue(r.Context(), c.cfg.Store, rand.Reader, store.Token{TenantID: s.TenantID, Name: name, Scope: scope})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Log.Info("console: token created", "tenant", s.TenantID, "token", rec.ID, "scope", scope, "by", s.Actor)
	c.showTokens(w, r, s, http.StatusOK, tokensData{Created: token, CreatedName: name}, "", "")
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Store.RevokeToken(r.Context(), s.TenantID, r.PathValue("id")); err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.showTokens(w, r, s, http.StatusOK, tokensData{}, "Token revoked: servers refuse it within 5 seconds.", "")
}
