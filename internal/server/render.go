package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

const scimContentType = "application/scim+json"

// writeJSON writes v as a SCIM JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body, _ = json.Marshal(scim.Errorf(http.StatusInternalServerError, "", "response could not be encoded"))
		status = http.StatusInternalServerError
	}
	writeBody(w, status, body)
}

// scimContentTypeValues is the Content-Type header's value, shared by
// every response (a header's values are replaced, never changed in
// place).
var scimContentTypeValues = []string{scimContentType}

// writeBody writes an encoded SCIM JSON body.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	writeSized(w, status, body, []string{strconv.Itoa(len(body))})
}

// writePlain writes b as a 200 response with its ETag: a GET by id from
// the read cache, with header values made once.
func writePlain(w http.ResponseWriter, b *plainBody) {
	w.Header()["Etag"] = b.etag // the canonical key, set as Set would
	writeSized(w, http.StatusOK, b.body, b.length)
}

// writeSized writes body, whose Content-Length header value is length.
func writeSized(w http.ResponseWriter, status int, body []byte, length []string) {
	h := w.Header()
	h["Content-Type"] = scimContentTypeValues // canonical keys, set as Set would
	h["Content-Length"] = length
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, e *scim.Error) {
	writeJSON(w, e.Status, e)
}

// ClientError returns the SCIM error that answers err when err is the
// client's mistake, as the SCIM and admin APIs answer it: for other
// front ends of the same operations (the console).
func ClientError(err error) (*scim.Error, bool) { return clientError(err) }

// clientError returns the SCIM error that answers err when err is the
// client's mistake: a *scim.Error as it is, or a store error with the
// status and scimType of its kind (see storeError).
func clientError(err error) (*scim.Error, bool) {
	if e, ok := scim.AsError(err); ok {
		return e, true
	}
	if errors.Is(err, store.ErrChangesPruned) {
		// A cursor of the change feed behind its retention: what it
		// named is gone for good (RFC 9110 §15.5.11).
		return &scim.Error{Status: http.StatusGone, Detail: err.Error()}, true
	}
	if e, ok := errors.AsType[*store.Error](err); ok {
		return storeError(e)
	}
	return nil, false
}

// storeError is where the HTTP answer to each kind of the store's errors
// is chosen, for the SCIM and the admin API alike; the detail is the
// store's. A kind it does not know is no client's mistake.
func storeError(e *store.Error) (*scim.Error, bool) {
	var status int
	var scimType string
	switch {
	case errors.Is(e, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(e, store.ErrNameTaken), errors.Is(e, store.ErrIDTaken):
		status, scimType = http.StatusConflict, scim.Uniqueness
	case errors.Is(e, store.ErrInUse):
		status = http.StatusConflict
	case errors.Is(e, store.ErrVersionMismatch):
		status = http.StatusPreconditionFailed
	case errors.Is(e, store.ErrInvalid):
		status, scimType = http.StatusBadRequest, scim.InvalidValue
	case errors.Is(e, store.ErrUnsupportedFilter):
		status, scimType = http.StatusBadRequest, scim.InvalidFilter
	default:
		return nil, false
	}
	return &scim.Error{Status: status, ScimType: scimType, Detail: e.Detail}, true
}

// fail answers err: a client's mistake (see clientError) as it is, an
// exhausted request deadline as 503, a failure while the database does not
// answer as 503 with Retry-After, anything else as a logged 500 whose
// cause stays in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := clientError(err); ok {
		writeError(w, e)
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, scim.Errorf(http.StatusServiceUnavailable, "", "the request took too long; try again"))
		return
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	if s.databaseUnavailable(r.Context()) {
		writeError(w, unavailable(w))
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, scim.Errorf(http.StatusInternalServerError, "", "internal server error"))
}

// etag is a resource version as a weak entity tag; meta.version carries the
// same string.
func etag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

// fullDocument returns the resource as a SCIM client sees it before
// projection: the stored document with id, meta, and a group's members or a
// user's groups. base is the absolute URL of /scim/v2.
func fullDocument(r *store.Resource, rt *schema.ResourceType, base string) resource.Document {
	d := make(resource.Document, len(r.Doc)+4)
	for k, v := range r.Doc {
		d[k] = v
	}
	d["id"] = r.ID
	location := base + rt.Endpoint + "/" + r.ID
	d["meta"] = map[string]any{
		"resourceType": rt.Name,
		"created":      r.Created.UTC().Format(store.TimeLayout),
		"lastModified": r.LastModified.UTC().Format(store.TimeLayout),
		"location":     location,
		"version":      etag(r.Version),
	}
	switch r.Type {
	case store.GroupType:
		if r.Members != nil {
			d["members"] = memberList(r.Members, base)
		}
	case store.UserType:
		if len(r.Groups) > 0 {
			groups := memberList(r.Groups, base)
			for _, g := range groups {
				// A user's groups are typed by how the user is in them
				// (RFC 7643 §4.1.2); Ferry computes direct memberships.
				g.(map[string]any)["type"] = "direct"
			}
			d["groups"] = groups
		}
	}
	if _, ok := d["schemas"]; !ok {
		d["schemas"] = []any{rt.Schema.ID}
	}
	return d
}

func memberList(ms []store.Member, base string) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		e := map[string]any{
			"value": m.ID,
			"type":  m.Type,
			"$ref":  base + "/" + m.Type + "s/" + m.ID,
		}
		if m.Display != "" {
			e["display"] = m.Display
		}
		out = append(out, e)
	}
	return out
}

// leadingKeys come first in a response, in this order; the rest follow in
// key order, so responses read like the RFC's examples and are
// byte-for-byte stable.
var leadingKeys = []string{"schemas", "id", "externalId", "meta"}

// orderedKeys returns d's keys in the order responses carry them: the
// leading keys, then the rest in key order.
func orderedKeys(d resource.Document) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// rank is a key's place among leadingKeys; every other key ranks after them.
func rank(k string) int {
	for i, l := range leadingKeys {
		if k == l {
			return i
		}
	}
	return len(leadingKeys)
}

// writeList answers with a ListResponse of an index page (RFC 7644
// §3.4.2), in the RFC's key order, of n resources encoded one after
// another, comma-separated, in resources.
func writeList(w http.ResponseWriter, total, startIndex, n int, resources []byte) {
	writeListPage(w, total, n, resources, func(b []byte) []byte {
		return append(strconv.AppendInt(append(b, `"startIndex":`...), int64(startIndex), 10), ',')
	})
}

// writeCursorList answers with a ListResponse of a cursor page (RFC 9865
// §2): nextCursor unless it is the last page, and no startIndex.
func writeCursorList(w http.ResponseWriter, total, n int, resources []byte, nextCursor string) {
	writeListPage(w, total, n, resources, func(b []byte) []byte {
		if nextCursor == "" {
			return b
		}
		// base64url: nothing in it needs escaping.
		return append(append(append(b, `"nextCursor":"`...), nextCursor...), `",`...)
	})
}

// listHead opens every ListResponse.
const listHead = `{"schemas":["` + scim.ListResponseURN + `"],"totalResults":`

// writeListPage writes a ListResponse of n encoded resources, with the
// members paging appends (each followed by a comma) before itemsPerPage.
func writeListPage(w http.ResponseWriter, total, n int, resources []byte, paging func([]byte) []byte) {
	buf := getListBuffer()
	defer putListBuffer(buf)
	buf.Grow(len(resources) + 512) // the array b is appended in, kept in buf for the next list
	b := buf.AvailableBuffer()
	b = strconv.AppendInt(append(b, listHead...), int64(total), 10)
	b = append(append(append(b, `,"Resources":[`...), resources...), "],"...)
	b = strconv.AppendInt(append(paging(b), `"itemsPerPage":`...), int64(n), 10)
	b = append(b, '}')
	writeBody(w, http.StatusOK, b)
}

// listBuffers holds the buffers lists are composed in: a page of a
// hundred users is tens of kilobytes, which, allocated per request, made
// the garbage collector a fifth of a list's CPU. A response writer has
// copied or sent what it was given when Write returns, so a buffer is
// free again after the response's Write.
var listBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledList is the largest buffer kept for reuse: a rare huge list
// should not keep its memory.
const maxPooledList = 1 << 20

func getListBuffer() *bytes.Buffer { return listBuffers.Get().(*bytes.Buffer) }

func putListBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledList {
		return
	}
	b.Reset()
	listBuffers.Put(b)
}

// listResponse is the RFC 7644 §3.4.2 ListResponse, in the RFC's key order.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	Resources    []any    `json:"Resources"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
}

func newListResponse(total, startIndex int, resources []any) listResponse {
	if resources == nil {
		resources = []any{}
	}
	return listResponse{
		Schemas:      []string{scim.ListResponseURN},
		TotalResults: total,
		Resources:    resources,
		StartIndex:   startIndex,
		ItemsPerPage: len(resources),
	}
}

// baseURL returns the absolute URL of the SCIM root for this request.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}

// isBaseOf reports whether base is baseURL(r), without making it.
func isBaseOf(base string, r *http.Request) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	rest, ok := strings.CutPrefix(base, scheme)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, r.Host)
	return ok && rest == "/scim/v2"
}
