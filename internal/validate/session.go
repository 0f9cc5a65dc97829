package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim"
)

// Session is the state one run shares between its checks: the endpoint,
// what it advertises, the resources created so far (for cleanup) and the
// fixtures several read-only checks share. Checks run one at a time.
type Session struct {
	base   string
	token  string
	client *http.Client
	random io.Reader
	keep   bool
	// tag makes every name this run creates unique, so that runs against a
	// shared endpoint do not collide and leftovers are recognisable.
	tag string
	seq int

	mu      sync.Mutex
	created []ref
	spc     *spcInfo
	types   *typesInfo
	schemas map[string]map[string]any // by lower-cased schema id; nil until fetched
	shared  map[string]any            // fixtures, by name
}

// ref is a resource the run created.
type ref struct {
	typ, id string
	gone    bool
}

func newSession(opts Options) (*Session, error) {
	base := strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not an http(s) URL", opts.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q must not have a query or fragment", opts.BaseURL)
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	random := defaultRandom(opts.Random)
	tag, err := randomHex(random, 4)
	if err != nil {
		return nil, err
	}
	return &Session{base: base, token: opts.Token, client: client, random: random, keep: opts.Keep, tag: tag, shared: map[string]any{}}, nil
}

// Response is a response with its request, read in full.
type Response struct {
	Exchange
	Header http.Header
	Body   []byte

	decoded bool
	doc     map[string]any
	docErr  error
}

// maxExcerpt bounds the response body a report shows.
const maxExcerpt = 2000

func excerpt(b []byte) string {
	if len(b) <= maxExcerpt {
		return string(b)
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + fmt.Sprintf("… (%d more bytes)", len(b)-cut)
}

// JSON decodes the body as a JSON object, numbers as json.Number so that
// integer and string types can be told apart.
func (r *Response) JSON() (map[string]any, error) {
	if !r.decoded {
		r.decoded = true
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			r.docErr = failf(r, "the response body is not JSON: %v", err)
		} else if m, ok := v.(map[string]any); !ok {
			r.docErr = failf(r, "the response body is not a JSON object")
		} else {
			r.doc = m
		}
	}
	return r.doc, r.docErr
}

// request describes one HTTP request a check sends.
type request struct {
	method string
	path   string // relative to the base URL, with its query
	body   any    // nil, a string of raw JSON, or a value to encode
	header []string
	// token overrides the session token; noAuth sends no Authorization.
	token  string
	noAuth bool
}

// do sends a request and reads the whole response. Transport errors are
// returned as failures naming the request.
func (s *Session) do(ctx context.Context, req request) (*Response, error) {
	var raw []byte
	switch b := req.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
	}
	target := s.base + req.path
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", req.method, target, err)
	}
	hr.Header.Set("Accept", "application/scim+json")
	if raw != nil {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	switch {
	case req.noAuth:
	case req.token != "":
		hr.Header.Set("Authorization", req.token)
	default:
		hr.Header.Set("Authorization", "Bearer "+s.token)
	}
	for i := 0; i+1 < len(req.header); i += 2 {
		hr.Header.Set(req.header[i], req.header[i+1])
	}
	ex := Exchange{Method: req.method, URL: target, RequestBody: string(raw)}
	resp, err := s.client.Do(hr)
	if err != nil {
		return nil, &failure{msg: fmt.Sprintf("%s %s: %v", req.method, target, err), ex: &ex}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &failure{msg: fmt.Sprintf("%s %s: reading the response: %v", req.method, target, err), ex: &ex}
	}
	ex.Status = resp.StatusCode
	ex.ContentType = resp.Header.Get("Content-Type")
	ex.ResponseBody = excerpt(data)
	return &Response{Exchange: ex, Header: resp.Header, Body: data}, nil
}

// deleteResource deletes a resource the session created, expecting 204,
// and stops tracking it for cleanup.
func (s *Session) deleteResource(ctx context.Context, typ, id string, header ...string) error {
	r, err := s.do(ctx, request{method: http.MethodDelete, path: resourcePath(typ, id), header: header})
	if err != nil {
		return err
	}
	if err := wantStatus(r, http.StatusNoContent); err != nil {
		return err
	}
	s.forget(typ, id)
	return nil
}

func (s *Session) get(ctx context.Context, path string, header ...string) (*Response, error) {
	return s.do(ctx, request{method: http.MethodGet, path: path, header: header})
}

// query builds "?k=v&k2=v2" in the given order (some clients' order matters:
// Entra sends excludedAttributes before filter), escaping values as a form
// does: spaces become "+".
func query(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// escape20 escapes a query value with spaces as %20, the other encoding
// clients use (Okta's existence check does).
func escape20(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// name returns a new unique name for a resource of this run.
func (s *Session) name(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("fv-%s-%s%03d", s.tag, kind, s.seq)
}

// guid returns a random v4 UUID, the shape of value Entra uses for Test
// Connection and for object ids.
func (s *Session) guid() string {
	h, err := randomHex(s.random, 16)
	if err != nil {
		// The random source failing is not the endpoint's fault; a name
		// from the sequence is still unique.
		return s.name("guid")
	}
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

// track records a created resource for cleanup.
func (s *Session) track(typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, ref{typ: typ, id: id})
}

// forget marks a resource as deleted by a check.
func (s *Session) forget(typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.created {
		if s.created[i].typ == typ && s.created[i].id == id {
			s.created[i].gone = true
		}
	}
}

// cleanup deletes what the run created, groups first (so that no group is
// left referring to a deleted user), newest first. A 404 means a check
// already deleted it.
func (s *Session) cleanup(ctx context.Context) []Leftover {
	s.mu.Lock()
	refs := append([]ref(nil), s.created...)
	s.mu.Unlock()
	var left []Leftover
	for _, typ := range []string{"Group", "User"} {
		for i := len(refs) - 1; i >= 0; i-- {
			r := refs[i]
			if r.typ != typ || r.gone {
				continue
			}
			if s.keep {
				left = append(left, Leftover{Type: r.typ, ID: r.id, Reason: KeptReason})
				continue
			}
			resp, err := s.do(ctx, request{method: http.MethodDelete, path: endpoint(r.typ) + "/" + url.PathEscape(r.id)})
			switch {
			case err != nil:
				left = append(left, Leftover{Type: r.typ, ID: r.id, Reason: err.Error()})
			case resp.Status == http.StatusNotFound || resp.Status/100 == 2:
			default:
				left = append(left, Leftover{Type: r.typ, ID: r.id, Reason: fmt.Sprintf("DELETE answered %d", resp.Status)})
			}
		}
	}
	return left
}

func endpoint(typ string) string {
	if typ == "Group" {
		return "/Groups"
	}
	return "/Users"
}

// spcInfo is what /ServiceProviderConfig advertises. A feature is nil when
// the document does not say.
type spcInfo struct {
	supported     map[string]*bool
	bulkMaxOps    int
	bulkMaxBytes  int
	filterMaxSize int
	// pagination is RFC 9865 §4's pagination object, nil when absent.
	pagination map[string]any
}

// serviceProviderConfig fetches /ServiceProviderConfig once. On any error
// the endpoint advertises nothing, so no check is skipped.
func (s *Session) serviceProviderConfig(ctx context.Context) *spcInfo {
	s.mu.Lock()
	if s.spc != nil {
		defer s.mu.Unlock()
		return s.spc
	}
	s.mu.Unlock()
	info := &spcInfo{supported: map[string]*bool{}}
	if r, err := s.get(ctx, "/ServiceProviderConfig"); err == nil && r.Status == http.StatusOK {
		if doc, err := r.JSON(); err == nil {
			for _, f := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
				if b, ok := lookupBool(doc, f, "supported"); ok {
					info.supported[f] = &b
				}
			}
			info.bulkMaxOps, _ = lookupInt(doc, "bulk", "maxOperations")
			info.bulkMaxBytes, _ = lookupInt(doc, "bulk", "maxPayloadSize")
			info.filterMaxSize, _ = lookupInt(doc, "filter", "maxResults")
			if v, ok := lookup(doc, "pagination"); ok {
				info.pagination, _ = v.(map[string]any)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spc = info
	return info
}

// typesInfo is what /ResourceTypes advertises: the endpoint of each type
// by name, or nil when it could not be read.
type typesInfo struct{ endpoints map[string]string }

func (s *Session) resourceTypes(ctx context.Context) *typesInfo {
	s.mu.Lock()
	if s.types != nil {
		defer s.mu.Unlock()
		return s.types
	}
	s.mu.Unlock()
	info := &typesInfo{}
	if r, err := s.get(ctx, "/ResourceTypes"); err == nil && r.Status == http.StatusOK {
		if doc, err := r.JSON(); err == nil {
			if list, ok := lookup(doc, "Resources"); ok {
				if items, ok := list.([]any); ok {
					info.endpoints = map[string]string{}
					for _, it := range items {
						m, _ := it.(map[string]any)
						name, _ := lookupString(m, "name")
						ep, _ := lookupString(m, "endpoint")
						info.endpoints[strings.ToLower(name)] = ep
					}
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.types = info
	return info
}

// unsupported returns why the endpoint advertises that it lacks feature,
// or "" when it does not say so.
func (s *Session) unsupported(ctx context.Context, feature string) string {
	if feature == "groups" {
		t := s.resourceTypes(ctx)
		if t.endpoints != nil {
			if _, ok := t.endpoints["group"]; !ok {
				return "/ResourceTypes lists no Group resource type"
			}
		}
		return ""
	}
	if b := s.serviceProviderConfig(ctx).supported[feature]; b != nil && !*b {
		return fmt.Sprintf("/ServiceProviderConfig advertises %s.supported false", feature)
	}
	return ""
}

// schema returns the /Schemas entry with the given id, fetching /Schemas
// once; nil when absent or unreadable.
func (s *Session) schema(ctx context.Context, id string) map[string]any {
	s.mu.Lock()
	if s.schemas != nil {
		defer s.mu.Unlock()
		return s.schemas[strings.ToLower(id)]
	}
	s.mu.Unlock()
	found := map[string]map[string]any{}
	if r, err := s.get(ctx, "/Schemas"); err == nil && r.Status == http.StatusOK {
		if doc, err := r.JSON(); err == nil {
			list, _ := lookup(doc, "Resources")
			items, _ := list.([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					if sid, ok := lookupString(m, "id"); ok {
						found[strings.ToLower(sid)] = m
					}
				}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemas = found
	return found[strings.ToLower(id)]
}

// fixture returns the shared fixture called name, building it on first
// use. A fixture that failed to build fails every check that needs it,
// with the same message, without trying again.
func fixture[T any](ctx context.Context, s *Session, name string, build func(context.Context, *Session) (T, error)) (T, error) {
	type built struct {
		v   T
		err error
	}
	if v, ok := s.shared[name]; ok {
		b := v.(built)
		return b.v, b.err
	}
	v, err := build(ctx, s)
	err = within("setting up the shared "+name+" fixture", err)
	s.shared[name] = built{v, err}
	return v, err
}

// isSCIMContentType reports whether a Content-Type is application/scim+json
// (with any parameters).
func isSCIMContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/scim+json"
}

// scimError decodes a SCIM Error body with the protocol core's decoder,
// which accepts status as a string or a number; callers check the type
// separately.
func scimError(r *Response) (*scim.Error, error) {
	var e scim.Error
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return nil, failf(r, "the error body is not a SCIM Error message (RFC 7644 §3.12): %v", err)
	}
	return &e, nil
}
