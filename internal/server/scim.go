package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// routeSCIM dispatches /scim/v2/... by hand rather than with ServeMux
// patterns, so that every unknown path and wrong method gets a SCIM Error
// body (the mux's own 404 and 405 are plain text).
func (s *Server) routeSCIM(w http.ResponseWriter, r *http.Request) {
	s.serveSCIM(w, r, true)
}

// serveSCIM is routeSCIM. mayPin lets a GET by id use the tenant's
// catalog as last read (versionedCatalogs); a GET that found it outdated
// is served again without.
func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request, mayPin bool) {
	segs, err := scimSegments(r)
	if err != nil {
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no such path: %v", err))
		return
	}
	notFound := func() {
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", r.URL.Path))
	}
	allow := func(methods ...string) bool {
		for _, m := range methods {
			if r.Method == m {
				return true
			}
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, scim.Errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(methods, ", ")))
		return false
	}
	if len(segs) == 0 {
		notFound()
		return
	}
	// A GET by id may use the tenant's catalog as last read, which its
	// read of the resource checks (get, versionedCatalogs); any other
	// request reads the declarations first.
	kept, pinned := s.versioned.get(tenantFrom(r.Context()))
	pinned = pinned && mayPin && r.Method == http.MethodGet && len(segs) == 2 && resourceTypeAt(kept.cat, segs[0]) != nil
	cat := kept.cat
	if !pinned {
		if cat, err = s.tenantCatalog(r.Context(), tenantFrom(r.Context())); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	switch first := segs[0]; {
	case first == ".search" && len(segs) == 1:
		if allow(http.MethodPost) {
			s.searchAll(w, r, cat)
		}
	case first == "Bulk" && len(segs) == 1:
		if allow(http.MethodPost) {
			s.bulk(w, r, cat)
		}
	case first == "Me":
		writeError(w, scim.Errorf(http.StatusNotImplemented, "", "/Me is not supported: Ferry's tokens identify a client, not a user"))
	case first == "ServiceProviderConfig" && len(segs) == 1:
		if allow(http.MethodGet) {
			s.serviceProviderConfig(w, r)
		}
	case first == "ResourceTypes" && len(segs) <= 2:
		if allow(http.MethodGet) {
			s.resourceTypes(w, r, cat, segs[1:])
		}
	case first == "Schemas" && len(segs) <= 2:
		if allow(http.MethodGet) {
			s.schemas(w, r, cat, segs[1:])
		}
	default:
		rt := resourceTypeAt(cat, first)
		if rt == nil {
			notFound()
			return
		}
		switch {
		case len(segs) == 1:
			if !allow(http.MethodGet, http.MethodPost) {
				return
			}
			if r.Method == http.MethodGet {
				s.list(w, r, rt)
			} else {
				s.create(w, r, rt)
			}
		case len(segs) == 2 && segs[1] == ".search":
			if allow(http.MethodPost) {
				s.search(w, r, rt)
			}
		case len(segs) == 2:
			if !allow(http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete) {
				return
			}
			id := segs[1]
			switch r.Method {
			case http.MethodGet:
				schemas := anySchemasVersion
				if pinned {
					schemas = kept.version
				}
				s.get(w, r, rt, id, schemas)
			case http.MethodPut:
				s.replace(w, r, rt, id)
			case http.MethodPatch:
				s.patch(w, r, rt, id)
			case http.MethodDelete:
				s.delete(w, r, rt, id)
			}
		default:
			notFound()
		}
	}
}

// pathSegments splits an escaped path into unescaped segments, so that an
// id containing an encoded "/" stays one segment.
func pathSegments(escaped string) ([]string, error) {
	return appendPathSegments(make([]string, 0, 4), escaped)
}

// scimSegments returns the segments of r's path under /scim/v2
// (pathSegments), split once per request: the server's requestContext
// keeps them, for the route and then for the metrics (classify).
func scimSegments(r *http.Request) ([]string, error) {
	rc := requestContextOf(r)
	if rc == nil {
		return pathSegments(strings.TrimPrefix(r.URL.EscapedPath(), "/scim/v2"))
	}
	if !rc.segsSplit {
		rc.segs, rc.segsErr = appendPathSegments(rc.segsBuf[:0], strings.TrimPrefix(r.URL.EscapedPath(), "/scim/v2"))
		rc.segsSplit = true
	}
	return rc.segs, rc.segsErr
}

// appendPathSegments is pathSegments appending to segs.
func appendPathSegments(segs []string, escaped string) ([]string, error) {
	for rest := escaped; rest != ""; {
		var raw string
		raw, rest, _ = strings.Cut(rest, "/")
		if raw == "" {
			continue
		}
		if strings.IndexByte(raw, '%') >= 0 { // most segments have nothing to unescape
			var err error
			if raw, err = url.PathUnescape(raw); err != nil {
				return nil, err
			}
		}
		segs = append(segs, raw)
	}
	return segs, nil
}

// resourceTypeAt returns the resource type of cat served at endpoint
// segment seg ("Users", "Groups"), matching the case the RFC uses.
func resourceTypeAt(cat *schema.Catalog, seg string) *schema.ResourceType {
	for _, rt := range cat.ResourceTypes() {
		if rt.Endpoint != "" && "/"+seg == rt.Endpoint {
			return rt
		}
	}
	return nil
}

// tenantCatalog returns the schemas and resource types of tenantID: the
// built-in ones, with the extensions the tenant declared (ferry schemas)
// added to the resource types they extend. Every SCIM request reads the
// declarations afresh, so that every server process of a shared database
// sees a change at once; the parsed catalog is kept while they are the
// same (schema.Registry).
func (s *Server) tenantCatalog(ctx context.Context, tenantID string) (*schema.Catalog, error) {
	cat, since := s.catalogs.Get(tenantID)
	if cat != nil {
		return cat, nil
	}
	version, exts, err := s.store.VersionedSchemaExtensions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	decls := make([]schema.Declaration, len(exts))
	for i, e := range exts {
		decls[i] = schema.Declaration{ResourceType: e.ResourceType, Definition: e.Definition}
	}
	cat, err = s.registry.Catalog(decls)
	if err != nil {
		return nil, fmt.Errorf("the schemas declared in tenant %s: %w", tenantID, err)
	}
	s.catalogs.Put(tenantID, cat, since)
	s.versioned.put(tenantID, cat, version)
	return cat, nil
}

// tenantType is tenantCatalog's resource type typ.
func (s *Server) tenantType(ctx context.Context, tenantID, typ string) (*schema.ResourceType, error) {
	cat, err := s.tenantCatalog(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return cat.ResourceType(typ), nil
}

// readBody reads a request body of at most limit bytes, checking its media
// type: SCIM JSON or plain JSON (Okta's tests send application/json); a
// request without a Content-Type is read as JSON.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != scimContentType && mt != "application/json") {
			return nil, scim.Errorf(http.StatusUnsupportedMediaType, "", "Content-Type %q is not supported; send %s", ct, scimContentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, scim.Errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", limit)
		}
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body could not be read: %v", err)
	}
	return body, nil
}

// projections parses the attributes and excludedAttributes parameters.
func projections(rt *schema.ResourceType, attributes, excluded string) (resource.Projection, resource.Projection) {
	return resource.ParseProjection(rt, attributes), resource.ParseProjection(rt, excluded)
}

// wantsMembers reports whether a group response projected this way shows
// members, so that the store need not load them when it does not.
func wantsMembers(rt *schema.ResourceType, include, exclude resource.Projection) bool {
	name := "groups"
	if rt.Name == store.GroupType {
		name = "members"
	}
	members := rt.Schema.Attribute(name)
	if members == nil {
		return false
	}
	if !include.Empty() {
		return include.Has(members)
	}
	return !exclude.HasWhole(members)
}

// writeResource answers with one resource, its ETag and, on 201, Location.
// The resource was just written: its rendering replaces the cached one.
func (s *Server) writeResource(w http.ResponseWriter, r *http.Request, status int, res *store.Resource, rt *schema.ResourceType) {
	include, exclude := projections(rt, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	w.Header().Set("ETag", etag(res.Version))
	if status == http.StatusCreated {
		w.Header().Set("Location", baseURL(r)+rt.Endpoint+"/"+res.ID)
	}
	s.writeRendered(w, r, status, res, rt, include, exclude, readAt{})
}

// writeRendered answers with one resource, rendered through the cache.
func (s *Server) writeRendered(w http.ResponseWriter, r *http.Request, status int, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection, at readAt) {
	var buf bytes.Buffer
	if err := s.renderTo(&buf, baseURL(r), res, rt, include, exclude, at); err != nil {
		s.fail(w, r, fmt.Errorf("render %s %s: %w", rt.Name, res.ID, err))
		return
	}
	writeBody(w, status, buf.Bytes())
}

// anySchemasVersion is the schemas version of a GET whose catalog was read
// for it: its read checks none.
const anySchemasVersion int64 = -1

// get answers a GET by id. schemas is the tenant's schemas version that
// rt was made at, when it was kept from an earlier request: the read of
// the resource then reads the tenant's version too, and the request is
// answered again with the declarations read afresh when it moved.
func (s *Server) get(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string, schemas int64) {
	var q url.Values // nil, which answers "" to Get, when there is no query: most GETs
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	include, exclude := projections(rt, q.Get("attributes"), q.Get("excludedAttributes"))
	edges := wantsMembers(rt, include, exclude)
	tenant := tenantFrom(r.Context())
	if e := s.cache.current(tenant, rt, id, edges); e != nil {
		s.answerGet(w, r, e.resource(), rt, include, exclude, e, readAt{})
		return
	}
	at := s.cache.begin(edges)
	res, err := s.store.Get(r.Context(), tenant, rt.Name, id,
		store.ReadOptions{Members: edges, Encoded: true, SchemasVersion: schemas != anySchemasVersion})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if schemas != anySchemasVersion && res.SchemasVersion != schemas {
		// The tenant's schemas changed since rt was made: answer with
		// the declarations as they are now.
		s.serveSCIM(w, r, false)
		return
	}
	s.answerGet(w, r, res, rt, include, exclude, nil, at)
}

// answerGet answers a GET of res, from its cache entry e when not nil.
func (s *Server) answerGet(w http.ResponseWriter, r *http.Request, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection, e *rendered, at readAt) {
	var plain *plainBody // the whole response, made once, when the cache has it
	if e != nil && include.Empty() && exclude.Empty() {
		var err error
		if plain, err = s.cache.plainResponse(r, e); err != nil {
			s.fail(w, r, fmt.Errorf("render %s %s: %w", rt.Name, res.ID, err))
			return
		}
	}
	var tag string
	if plain != nil {
		tag = plain.etag[0]
	} else {
		tag = etag(res.Version)
	}
	if matchesETag(r.Header.Get("If-None-Match"), tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if h := r.Header.Get("If-Match"); h != "" && !matchesETag(h, tag) {
		writeError(w, preconditionFailed(tag))
		return
	}
	if plain != nil {
		writePlain(w, plain)
		return
	}
	w.Header().Set("ETag", tag)
	if e == nil {
		s.writeRendered(w, r, http.StatusOK, res, rt, include, exclude, at)
		return
	}
	body, err := s.cache.requestBody(r, e, include, exclude)
	if err != nil {
		s.fail(w, r, fmt.Errorf("render %s %s: %w", rt.Name, res.ID, err))
		return
	}
	writeBody(w, http.StatusOK, body)
}

// matchesETag reports whether an If-Match or If-None-Match header value
// lists tag, or is "*". Weak and strong forms of one version are the same
// version here.
func matchesETag(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			return true
		}
	}
	return false
}

func preconditionFailed(current string) *scim.Error {
	return scim.Errorf(http.StatusPreconditionFailed, "", "the resource has changed: its version is now %s", current)
}

// checkPreconditions applies If-Match and If-None-Match to a write on a
// resource at version v.
func checkPreconditions(r *http.Request, v int64) error {
	tag := etag(v)
	if h := r.Header.Get("If-Match"); h != "" && !matchesETag(h, tag) {
		return preconditionFailed(tag)
	}
	if h := r.Header.Get("If-None-Match"); h != "" && matchesETag(h, tag) {
		return preconditionFailed(tag)
	}
	return nil
}

// dropWriteOnly removes write-only attributes (the user's password) before
// a document is stored. Ferry authenticates no one with them, so it accepts
// them, as clients send them, and keeps nothing a leak could expose.
func dropWriteOnly(d resource.Document, rt *schema.ResourceType) {
	for _, a := range rt.Schema.Attributes {
		if a.Mutability == schema.WriteOnly {
			delete(d, a.Name)
		}
	}
}

// splitMembers moves a normalized group document's members out into
// membership rows, which are the store's truth for them.
func splitMembers(d resource.Document) []store.Member {
	raw, _ := d["members"].([]any)
	delete(d, "members")
	members := make([]store.Member, 0, len(raw))
	for _, e := range raw {
		m, _ := e.(map[string]any)
		if id, _ := m["value"].(string); id != "" {
			members = append(members, store.Member{ID: id})
		}
	}
	return members
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.createFrom(r, rt, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeResource(w, r, http.StatusCreated, res, rt)
}

// decodeResource validates a POST or PUT body into the document and, for a
// group, the members the store keeps as rows.
func (s *Server) decodeResource(rt *schema.ResourceType, body []byte) (resource.Document, []store.Member, error) {
	in, err := resource.Decode(body)
	if err != nil {
		return nil, nil, err
	}
	doc, err := resource.Normalize(in, rt)
	if err != nil {
		return nil, nil, err
	}
	dropWriteOnly(doc, rt)
	var members []store.Member
	if rt.Name == store.GroupType {
		members = splitMembers(doc)
	}
	return doc, members, nil
}

// createFrom validates a POST body and stores the new resource.
func (s *Server) createFrom(r *http.Request, rt *schema.ResourceType, body []byte) (*store.Resource, error) {
	doc, members, err := s.decodeResource(rt, body)
	if err != nil {
		return nil, err
	}
	res := &store.Resource{TenantID: tenantFrom(r.Context()), Type: rt.Name, Doc: doc, Members: members}
	if err := s.store.Create(r.Context(), res); err != nil {
		return nil, err
	}
	if rt.Name == store.UserType {
		return res, nil // a new user is in no group yet
	}
	// Read the group back for its members' types and display names.
	return s.store.Get(r.Context(), res.TenantID, rt.Name, res.ID, store.ReadOptions{Members: true})
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string) {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.replaceFrom(r, rt, id, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeResource(w, r, http.StatusOK, res, rt)
}

// replaceFrom validates a PUT body and replaces the resource with it.
func (s *Server) replaceFrom(r *http.Request, rt *schema.ResourceType, id string, body []byte) (*store.Resource, error) {
	doc, members, err := s.decodeResource(rt, body)
	if err != nil {
		return nil, err
	}
	// The store may call change more than once (it retries a failed batch
	// on a fresh copy), so change only reads what was prepared here.
	return s.store.Update(r.Context(), tenantFrom(r.Context()), rt.Name, id, 0, func(cur *store.Resource) error {
		if err := checkPreconditions(r, cur.Version); err != nil {
			return err
		}
		if err := resource.CheckImmutable(cur.Doc, doc, rt); err != nil {
			return err
		}
		cur.Doc = doc
		if rt.Name == store.GroupType {
			cur.Members = members
		}
		return nil
	})
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string) {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.patchFrom(r, rt, id, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Entra asks for 204 on group PATCH: a body would carry every member.
	// A client that asks for attributes gets the resource.
	q := r.URL.Query()
	if rt.Name == store.GroupType && q.Get("attributes") == "" && q.Get("excludedAttributes") == "" {
		if res.DocJSON != nil {
			// The write replaces what reads had cached (readCache.apply),
			// rendered now as a response would be. A document that does
			// not render fails the next read, which says why.
			_, _ = s.entry(res, rt, readAt{})
		}
		w.Header().Set("ETag", etag(res.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.writeResource(w, r, http.StatusOK, res, rt)
}

// patchFrom applies a PATCH body to the resource, atomically.
func (s *Server) patchFrom(r *http.Request, rt *schema.ResourceType, id string, body []byte) (*store.Resource, error) {
	ops, err := patch.Parse(body)
	if err != nil {
		return nil, err
	}
	return s.store.Update(r.Context(), tenantFrom(r.Context()), rt.Name, id, 0, func(cur *store.Resource) error {
		if err := checkPreconditions(r, cur.Version); err != nil {
			return err
		}
		doc := cur.Doc // Apply works on a copy
		if rt.Name == store.GroupType {
			doc = make(resource.Document, len(cur.Doc)+1)
			for k, v := range cur.Doc {
				doc[k] = v
			}
			doc["members"] = memberValues(cur.Members)
		}
		out, _, err := patch.Apply(doc, rt, ops)
		if err != nil {
			return err
		}
		if rt.Name == store.GroupType {
			cur.Members = splitMembers(out)
		}
		dropWriteOnly(out, rt)
		cur.Doc = out
		return nil
	})
}

// memberValues is a group's members as the "members" attribute PATCH works on.
func memberValues(ms []store.Member) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{"value": m.ID})
	}
	return out
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string) {
	if err := s.deleteFrom(r, rt, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.cache.remove(tenantFrom(r.Context()), rt.Name, id)
	w.WriteHeader(http.StatusNoContent)
}

// deleteFrom deletes a resource, honouring If-Match and If-None-Match.
func (s *Server) deleteFrom(r *http.Request, rt *schema.ResourceType, id string) error {
	tenant := tenantFrom(r.Context())
	var ifVersion int64
	if r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != "" {
		cur, err := s.store.Get(r.Context(), tenant, rt.Name, id, store.ReadOptions{})
		if err != nil {
			return err
		}
		if err := checkPreconditions(r, cur.Version); err != nil {
			return err
		}
		ifVersion = cur.Version // the delete fails if it changed since
	}
	return s.store.Delete(r.Context(), tenant, rt.Name, id, ifVersion)
}

// listParams are the query parameters of a list or the members of a
// SearchRequest (RFC 7644 §3.4.2, §3.4.3).
type listParams struct {
	Filter          string
	SortBy          string
	SortOrder       string
	StartIndex      int
	StartIndexGiven bool
	Count           *int
	// Cursor asks for cursor-based pagination (RFC 9865): "" for the
	// first page, a nextCursor for the next; nil for index pagination.
	Cursor             *string
	Attributes         string
	ExcludedAttributes string
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) {
	p, err := queryParams(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerList(w, r, []*schema.ResourceType{rt}, p)
}

// queryParams reads list parameters from a query string. Parameter names
// are matched ignoring case, as clients vary.
func queryParams(q url.Values) (listParams, error) {
	get := func(name string) string {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	p := listParams{
		Filter:             get("filter"),
		SortBy:             get("sortBy"),
		SortOrder:          get("sortOrder"),
		Attributes:         get("attributes"),
		ExcludedAttributes: get("excludedAttributes"),
	}
	if v := get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, scim.BadRequest(scim.InvalidValue, "startIndex must be an integer, got %q", v)
		}
		p.StartIndex, p.StartIndexGiven = n, true
	}
	// "?cursor" and "?cursor=" both ask for the first page (RFC 9865 §2).
	for k, v := range q {
		if strings.EqualFold(k, "cursor") {
			c := ""
			if len(v) > 0 {
				c = v[0]
			}
			p.Cursor = &c
			break
		}
	}
	if v := get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, scim.BadRequest(scim.InvalidValue, "count must be an integer, got %q", v)
		}
		p.Count = &n
	}
	return p, nil
}

// query turns list parameters into a store query for resource type rt.
func (s *Server) query(rt *schema.ResourceType, p listParams) (store.Query, error) {
	q := store.Query{SortBy: p.SortBy, StartIndex: max(p.StartIndex, 1), Count: s.cfg.DefaultCount}
	if p.Count != nil {
		// RFC 7644 §3.4.2.4: a negative count is 0; more than the
		// maximum is answered with the maximum.
		q.Count = min(max(*p.Count, 0), s.cfg.MaxResults)
	}
	switch strings.ToLower(p.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, scim.BadRequest(scim.InvalidValue, `sortOrder must be "ascending" or "descending", got %q`, p.SortOrder)
	}
	if p.SortBy != "" {
		if _, err := filter.ParseAttrPath(p.SortBy); err != nil {
			return q, scim.BadRequest(scim.InvalidValue, "sortBy %q is not an attribute path", p.SortBy)
		}
	}
	if strings.TrimSpace(p.Filter) != "" {
		e, err := filter.Parse(p.Filter)
		if err != nil {
			return q, err
		}
		if err := filter.Check(e, rt); err != nil {
			return q, err
		}
		q.Filter = e
	}
	return q, nil
}

// listQuery is the store query of a list of rt, with the attributes to
// include and exclude, and the members read when they are shown.
func (s *Server) listQuery(rt *schema.ResourceType, p listParams) (q store.Query, include, exclude resource.Projection, err error) {
	if q, err = s.query(rt, p); err != nil {
		return q, include, exclude, err
	}
	include, exclude = projections(rt, p.Attributes, p.ExcludedAttributes)
	q.Members = wantsMembers(rt, include, exclude)
	q.Encoded = true // rendered through the read cache
	return q, include, exclude, nil
}

// answerList runs a list or search over one or more resource types (the
// root /.search spans Users and Groups) and writes the ListResponse. Paging
// runs over the concatenation of the types' results, in order.
func (s *Server) answerList(w http.ResponseWriter, r *http.Request, types []*schema.ResourceType, p listParams) {
	if p.Cursor != nil {
		s.answerCursor(w, r, types, p)
		return
	}
	tenant := tenantFrom(r.Context())
	start := max(p.StartIndex, 1)
	var total, n int
	body := getListBuffer()
	defer putListBuffer(body)
	base := baseURL(r)
	skip := start - 1 // results of earlier types still to skip
	for _, rt := range types {
		q, include, exclude, err := s.listQuery(rt, p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(types) == 1 && p.SortBy == "" && start == 1 && s.answerByName(w, r, rt, q, include, exclude) {
			return
		}
		want := q.Count - n
		q.StartIndex, q.Count = skip+1, max(want, 0)
		page, err := s.readPage(r.Context(), body, n > 0, base, tenant, rt, q, include, exclude)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		total += page.Total
		skip = max(skip-page.Total, 0)
		n += len(page.Resources)
	}
	writeList(w, total, start, n, body.Bytes())
}

// readPage reads q, a page of rt, and appends its resources, as a
// response under the SCIM root base carries them, comma-separated, to
// body, after a comma when more. The page's Resources are only counted
// and its Total and Next read: the resources may be identities alone.
//
// With an owned read cache, it first reads the page's ids alone and takes
// the resources from the cache (readCache.currentAll), which skips
// reading and comparing each document and its memberships: when every
// one is cached and no commit came since the ids were read, the page is
// the directory as it was then. Otherwise it reads the page whole. A
// cache too small for the directory costs the ids' read (no documents,
// no memberships) on top.
func (s *Server) readPage(ctx context.Context, body *bytes.Buffer, more bool, base, tenant string, rt *schema.ResourceType, q store.Query, include, exclude resource.Projection) (store.Page, error) {
	sep := func() {
		if more {
			body.WriteByte(',')
		}
		more = true
	}
	if s.cache.isOwned() && q.Count > 0 {
		at := s.cache.begin(q.Members)
		idq := q
		idq.IDsOnly = true
		anchored := false
		if anchorOrder(q) && q.StartIndex > 1 {
			if a, ok := s.cache.anchorBefore(tenant, rt.Name, q.StartIndex); ok {
				// The page starts after the anchor and skips the rest
				// (anchors.go).
				idq.After, idq.Skip = &store.Position{ID: a.id}, q.StartIndex-a.pos-1
				anchored = true
			}
		}
		page, err := s.store.Query(ctx, tenant, rt.Name, idq)
		if err != nil {
			return store.Page{}, err
		}
		if anchored {
			page.Next = nil // an index page, as asked
		}
		if n := len(page.Resources); n > 0 && anchorOrder(q) {
			s.cache.keepAnchor(tenant, rt.Name, anchor{pos: q.StartIndex + n - 1, id: page.Resources[n-1].ID}, at)
		}
		if entries, ok := s.cache.currentAll(tenant, rt, page.Resources, q.Members, at); ok {
			size := 0
			for _, e := range entries {
				if b := e.body.Load(); b != nil {
					size += len(b.body) + 1
				} else {
					size += 1024
				}
			}
			body.Grow(size)
			for _, e := range entries {
				b, err := s.cache.currentBody(base, e, include, exclude)
				if err != nil {
					return store.Page{}, fmt.Errorf("render %s %s: %w", rt.Name, e.key.id, err)
				}
				sep()
				body.Write(b)
			}
			return page, nil
		}
	}
	at := s.cache.begin(q.Members)
	page, err := s.store.Query(ctx, tenant, rt.Name, q)
	if err != nil {
		return store.Page{}, err
	}
	body.Grow(len(page.Resources) * 1024)
	for _, res := range page.Resources {
		sep()
		if err := s.renderTo(body, base, res, rt, include, exclude, at); err != nil {
			return store.Page{}, fmt.Errorf("render %s %s: %w", rt.Name, res.ID, err)
		}
	}
	return page, nil
}

// answerByName answers, from an owned read cache, the query clients send
// most (Entra before every write): a user by userName eq, or a group by
// displayName eq, when the cache holds the resource with that name. Names
// are unique (case-insensitively, as eq compares them), so the cached
// resource, current in an owned cache, is the one result. It reports
// false, having written nothing, for any other query or a miss. The
// caller has checked that the list starts at 1 and is not sorted.
func (s *Server) answerByName(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, q store.Query, include, exclude resource.Projection) bool {
	if q.Count < 1 {
		return false
	}
	name, ok := nameFilter(rt, q.Filter)
	if !ok {
		return false
	}
	e := s.cache.named(tenantFrom(r.Context()), rt, filter.FoldKey(name), q.Members)
	if e == nil {
		return false
	}
	body, err := s.cache.requestBody(r, e, include, exclude)
	if err != nil {
		return false
	}
	writeList(w, 1, 1, 1, body)
	return true
}

// nameFilter returns the name f asks for when f is "userName eq NAME" on
// Users or "displayName eq NAME" on Groups (the attribute's name in any
// case, with or without the core schema's URN), the attribute not
// caseExact.
func nameFilter(rt *schema.ResourceType, f filter.Expr) (string, bool) {
	c, ok := f.(*filter.Compare)
	if !ok || c.Op != filter.Eq || c.Value.Kind != filter.StringValue || c.Path.Sub != "" {
		return "", false
	}
	attr := "userName"
	if rt.Name == store.GroupType {
		attr = "displayName"
	}
	if !strings.EqualFold(c.Path.Name, attr) || (c.Path.URN != "" && !strings.EqualFold(c.Path.URN, rt.Schema.ID)) {
		return "", false
	}
	if a := rt.Schema.Attribute(attr); a == nil || a.CaseExact {
		return "", false
	}
	return c.Value.Str, true
}

// answerCursor answers a page of cursor-based pagination (RFC 9865): the
// page after the position the cursor holds, read as a keyset page
// (store.Query.After), so a page deep into a million users costs what
// the first does. totalResults counts every match, as RFC 9865 §2 asks
// after RFC 7644 §3.4.1; nextCursor is left out of the last page. No
// previousCursor is returned (it is optional).
func (s *Server) answerCursor(w http.ResponseWriter, r *http.Request, types []*schema.ResourceType, p listParams) {
	if len(types) != 1 {
		s.fail(w, r, scim.BadRequest(scim.InvalidValue, "cursor pagination is offered on /Users/.search and /Groups/.search, not on /.search across resource types; use startIndex here"))
		return
	}
	if p.StartIndexGiven {
		// RFC 9865 §2.4 has a client pick one method with one parameter
		// or the other; answering both would be a guess at which it meant.
		s.fail(w, r, scim.BadRequest(scim.InvalidValue, "startIndex and cursor are two ways of paging; send one: an empty cursor (or a nextCursor) alone, or startIndex alone"))
		return
	}
	rt := types[0]
	tenant := tenantFrom(r.Context())
	q, include, exclude, err := s.listQuery(rt, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scope := cursorScope(tenant, rt.Name, q)
	q.After = &store.Position{}
	if *p.Cursor != "" {
		pos, err := s.cursors.decode(scope, *p.Cursor)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		q.After = &pos
	}
	body := getListBuffer()
	defer putListBuffer(body)
	page, err := s.readPage(r.Context(), body, false, baseURL(r), tenant, rt, q, include, exclude)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := ""
	if page.Next != nil {
		next = s.cursors.encode(scope, *page.Next)
	}
	writeCursorList(w, page.Total, len(page.Resources), body.Bytes(), next)
}

// searchRequest is the body of POST .search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Cursor             *string  `json:"cursor"`
}

func (s *Server) readSearch(w http.ResponseWriter, r *http.Request) (listParams, error) {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return listParams{}, err
	}
	// Decode first only for its invalidSyntax errors, which say where the
	// JSON broke.
	if _, err := resource.Decode(body); err != nil {
		return listParams{}, err
	}
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return listParams{}, scim.BadRequest(scim.InvalidSyntax, "SearchRequest: %v", err)
	}
	p := listParams{
		Filter:             req.Filter,
		SortBy:             req.SortBy,
		SortOrder:          req.SortOrder,
		Count:              req.Count,
		Cursor:             req.Cursor,
		Attributes:         strings.Join(req.Attributes, ","),
		ExcludedAttributes: strings.Join(req.ExcludedAttributes, ","),
	}
	if req.StartIndex != nil {
		p.StartIndex, p.StartIndexGiven = *req.StartIndex, true
	}
	return p, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) {
	p, err := s.readSearch(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerList(w, r, []*schema.ResourceType{rt}, p)
}

func (s *Server) searchAll(w http.ResponseWriter, r *http.Request, cat *schema.Catalog) {
	p, err := s.readSearch(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerList(w, r, []*schema.ResourceType{cat.ResourceType(store.UserType), cat.ResourceType(store.GroupType)}, p)
}
