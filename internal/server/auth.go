package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/bearer"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/throttle"
)

type tenantKey struct{}

// tenantFrom returns the tenant id the request's token belongs to.
func tenantFrom(ctx context.Context) string {
	if rc, ok := ctx.(*requestContext); ok && rc.tenant != "" {
		return rc.tenant // without Value, which would box the string
	}
	id, _ := ctx.Value(tenantKey{}).(string)
	return id
}

// credential is what a verified bearer token grants: a tenant, and the API
// it may call.
type credential struct {
	tenantID string
	scope    string // store.ScopeSCIM or store.ScopeAdmin
	// actor names the token in the audit log: its name, or its id when
	// it has none.
	actor string
}

// tokenScope reads a stored scope: tokens created before scopes existed
// have none and are SCIM tokens. Anything unknown is kept as it is, so that
// it matches no API and the token is refused everywhere.
func tokenScope(scope string) string {
	if scope == "" {
		return store.ScopeSCIM
	}
	return scope
}

// verifyToken checks the request's bearer token and returns what it
// grants. A missing or unknown token is a 401 *scim.Error, with the
// WWW-Authenticate header set on w (RFC 6750 §3); a client address past its
// failed attempts gets a 429 with Retry-After (failures.go) unless its
// token was valid recently; any other error is the store's.
func (s *Server) verifyToken(w http.ResponseWriter, r *http.Request) (credential, error) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		s.obs.AuthFailed(authMissing)
		w.Header().Set("WWW-Authenticate", `Bearer realm="ferry"`)
		return credential{}, scim.Errorf(http.StatusUnauthorized, "", "a bearer token is required in the Authorization header")
	}
	sum := bearer.Sum(token) // on the stack for the cache's lookup
	if c, ok := s.tokens.get(sum[:]); ok {
		return c, nil
	}
	hash := bytes.Clone(sum[:])
	addr := throttle.ClientAddr(r)
	invalid := func() (credential, error) {
		s.failures.Fail(addr)
		s.obs.AuthFailed(authInvalid)
		w.Header().Set("WWW-Authenticate", `Bearer realm="ferry", error="invalid_token"`)
		return credential{}, scim.Errorf(http.StatusUnauthorized, "", "the bearer token is not valid")
	}
	if !s.tokens.trusted(hash) {
		if wait, limited := s.failures.Limited(addr); limited {
			s.obs.AuthLimited()
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return credential{}, scim.Errorf(http.StatusTooManyRequests, "",
				"too many failed authentications from this address; try again in %d seconds with a valid token", secs)
		}
		if s.tokens.isUnknown(hash) {
			return invalid()
		}
	}
	t, err := s.store.TokenByHash(r.Context(), hash)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.tokens.putUnknown(hash)
			return invalid()
		}
		return credential{}, err
	}
	// The lookup is by hash, so the comparison is already done; this
	// constant-time check guards against a store that matched loosely.
	if subtle.ConstantTimeCompare(hash, t.Hash) != 1 {
		return invalid()
	}
	c := credential{tenantID: t.TenantID, scope: tokenScope(t.Scope), actor: t.Name}
	if c.actor == "" {
		c.actor = "token " + t.ID
	}
	s.tokens.put(hash, c)
	return c, nil
}

// authenticate admits SCIM requests carrying a valid SCIM-scoped bearer
// token and records the token's tenant in the context: the token decides
// the tenant. A missing or invalid token gets a 401 SCIM error; an admin
// API token gets a 403, so that a token leaked from an admin's shell cannot
// read or write the directory through /scim/v2.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.verifyToken(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if c.scope != store.ScopeSCIM {
			writeError(w, scim.Errorf(http.StatusForbidden, "", "this token is not a SCIM token (its scope is %q); /scim/v2 needs a token created with ferry tokens create --scope scim", c.scope))
			return
		}
		if rc := requestContextOf(r); rc != nil {
			rc.tenant = c.tenantID // one context per request (requestContext)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, c.tenantID)))
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header. The scheme is matched ignoring case (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
