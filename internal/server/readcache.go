package server

import (
	"bytes"
	"container/list"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// The read path. Every read of a resource (GET by id, a filter, a page of a
// list) reads its row in one statement: the version, times and stored
// document as bytes (store.ReadOptions.Encoded), and the memberships it
// shows. The server keeps, per resource, what it made of one stored version
// of the document: its members encoded in response order (resource.Field).
// A read whose row is the one an entry was made from (same version, times
// and document bytes, compared) writes the entry's bytes; any other decodes
// the document, renders it and replaces the entry. So a write through any
// replica, or any process on the same database, is seen by the next read
// here: the cache never answers for a row it has not just compared with.
//
// What a stored version does not decide is not cached: meta.location (the
// request's host) is spliced in per request, and a group's members or a
// user's groups (whose displays change with other resources, and which no
// version of this one records) are encoded per request from the
// memberships read in the same statement.

// DefaultReadCacheBytes is the read cache's default budget: about 50,000
// users of the size Entra sends.
const DefaultReadCacheBytes = 64 << 20

// readCache is a size-bounded LRU of rendered resources, safe for
// concurrent use. A nil *readCache caches nothing.
type readCache struct {
	mu      sync.Mutex
	budget  int
	size    int
	order   *list.List // front: most recently used; values are *rendered
	entries map[cacheKey]*list.Element
}

type cacheKey struct{ tenant, typ, id string }

func newReadCache(budget int) *readCache {
	if budget <= 0 {
		return nil
	}
	return &readCache{budget: budget, order: list.New(), entries: map[cacheKey]*list.Element{}}
}

// get returns the entry made from res's row, if there is one.
func (c *readCache) get(res *store.Resource) *rendered {
	if c == nil {
		return nil
	}
	k := cacheKey{res.TenantID, res.Type, res.ID}
	var e *rendered
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.order.MoveToFront(el)
		e = el.Value.(*rendered) // put may replace it: read it under the lock
	}
	c.mu.Unlock()
	if e == nil || !e.from(res) {
		return nil
	}
	return e
}

// put keeps e, replacing the resource's entry, and evicts the least
// recently used entries beyond the budget.
func (c *readCache) put(e *rendered) {
	if c == nil || e.size > c.budget/8 {
		return // one huge document must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.size -= el.Value.(*rendered).size
		el.Value = e
		c.order.MoveToFront(el)
	} else {
		c.entries[e.key] = c.order.PushFront(e)
	}
	c.size += e.size
	for c.size > c.budget {
		el := c.order.Back()
		old := el.Value.(*rendered)
		c.order.Remove(el)
		delete(c.entries, old.key)
		c.size -= old.size
	}
}

// remove forgets a resource, after it was deleted.
func (c *readCache) remove(tenant, typ, id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[cacheKey{tenant, typ, id}]; ok {
		c.size -= el.Value.(*rendered).size
		c.order.Remove(el)
		delete(c.entries, cacheKey{tenant, typ, id})
	}
}

// rendered is one stored version of a resource, encoded as the response
// carries it, without meta.location and without members or groups.
type rendered struct {
	key cacheKey
	// The row it was made from: an entry answers only for the same row.
	version           int64
	created, modified time.Time
	doc               []byte
	// fields are the document's members in response order; meta's Raw is
	// nil, as metaHead and metaTail hold it around the location.
	fields             []resource.Field
	metaHead, metaTail []byte
	// plain says every member is clean (resource.Field), so that a
	// response that asks for no projection is the fields as they are.
	plain bool
	size  int
}

// from reports whether e was made from res's row.
func (e *rendered) from(res *store.Resource) bool {
	return e.version == res.Version && e.created.Equal(res.Created) && e.modified.Equal(res.LastModified) &&
		bytes.Equal(e.doc, res.DocJSON)
}

// renderResource makes the entry of res, whose Doc or DocJSON is set.
func renderResource(res *store.Resource, rt *schema.ResourceType) (*rendered, error) {
	doc := res.Doc
	if doc == nil {
		var err error
		if doc, err = resource.Decode(res.DocJSON); err != nil {
			return nil, err
		}
	}
	bare := *res
	bare.Doc, bare.Members, bare.Groups = doc, nil, nil
	// The location is cut out of meta below; a marker stands in for it.
	const marker = "\x00location\x00"
	full := fullDocument(&bare, rt, "")
	full["meta"].(map[string]any)["location"] = marker
	e := &rendered{
		key:     cacheKey{res.TenantID, res.Type, res.ID},
		version: res.Version, created: res.Created, modified: res.LastModified, doc: res.DocJSON,
	}
	fields := make([]resource.Field, 0, len(full))
	for _, k := range orderedKeys(full) {
		f, err := resource.EncodeField(rt, k, full[k])
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	// With no lists, does projection change anything? Usually not: then
	// such a response is the fields as they are.
	proj, err := resource.ProjectFields(fields, rt, resource.Projection{}, resource.Projection{})
	if err != nil {
		return nil, err
	}
	e.plain = slices.EqualFunc(proj, fields, func(a, b resource.Field) bool { return a.Key == b.Key && bytes.Equal(a.Raw, b.Raw) })
	for i, f := range fields {
		e.size += len(f.Key) + len(f.Raw) + 48
		if f.Key != "meta" {
			continue
		}
		quoted, _ := json.Marshal(marker)
		head, tail, ok := bytes.Cut(f.Raw, quoted)
		if !ok {
			return nil, errors.New("render: meta lost its location")
		}
		e.metaHead, e.metaTail, fields[i].Raw = head, tail, nil
	}
	e.fields = fields
	e.size += len(e.doc) + len(e.key.tenant) + len(e.key.id) + 256
	return e, nil
}

// entry returns the cached entry of res when it was made from res's row,
// or makes one and caches it when res carries its stored bytes.
func (s *Server) entry(res *store.Resource, rt *schema.ResourceType) (*rendered, error) {
	if e := s.cache.get(res); e != nil {
		return e, nil
	}
	e, err := renderResource(res, rt)
	if err != nil {
		return nil, err
	}
	if res.DocJSON != nil {
		s.cache.put(e)
	}
	return e, nil
}

// renderTo appends res, as the response to r carries it, to buf.
func (s *Server) renderTo(buf *bytes.Buffer, r *http.Request, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection) error {
	e, err := s.entry(res, rt)
	if err != nil {
		return err
	}
	location := appendQuoted(nil, baseURL(r)+rt.Endpoint+"/"+res.ID)
	var extra *resource.Field
	if key, v, ok := edges(res, baseURL(r)); ok {
		f, err := resource.EncodeField(rt, key, v)
		if err != nil {
			return err
		}
		extra = &f
	}
	if e.plain && include.Empty() && exclude.Empty() && (extra == nil || extra.Clean) {
		// The common case: the fields as they are, written straight out.
		buf.Grow(e.size)
		buf.WriteByte('{')
		for i, f := range e.fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			if extra != nil && rank(f.Key) == len(leadingKeys) && f.Key > extra.Key {
				writeField(buf, *extra)
				buf.WriteByte(',')
				extra = nil
			}
			writeKey(buf, f.Key)
			buf.WriteByte(':')
			if f.Key == "meta" {
				buf.Write(e.metaHead)
				buf.Write(location)
				buf.Write(e.metaTail)
			} else {
				buf.Write(f.Raw)
			}
		}
		if extra != nil {
			buf.WriteByte(',')
			writeField(buf, *extra)
		}
		buf.WriteByte('}')
		return nil
	}
	fields := make([]resource.Field, 0, len(e.fields)+1)
	for _, f := range e.fields {
		if f.Key == "meta" {
			raw := make([]byte, 0, len(e.metaHead)+len(location)+len(e.metaTail))
			f.Raw = append(append(append(raw, e.metaHead...), location...), e.metaTail...)
		}
		fields = append(fields, f)
	}
	if extra != nil {
		// After the leading keys, members go in key order.
		at := len(fields)
		for i, g := range fields {
			if rank(g.Key) == len(leadingKeys) && g.Key > extra.Key {
				at = i
				break
			}
		}
		fields = slices.Insert(fields, at, *extra)
	}
	if fields, err = resource.ProjectFields(fields, rt, include, exclude); err != nil {
		return err
	}
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeField(buf, f)
	}
	buf.WriteByte('}')
	return nil
}

func writeField(buf *bytes.Buffer, f resource.Field) {
	writeKey(buf, f.Key)
	buf.WriteByte(':')
	buf.Write(f.Raw)
}

// edges returns a group's members or a user's groups, as fullDocument
// renders them, when the read loaded them.
func edges(res *store.Resource, base string) (string, any, bool) {
	switch res.Type {
	case store.GroupType:
		if res.Members != nil {
			return "members", memberList(res.Members, base), true
		}
	case store.UserType:
		if len(res.Groups) > 0 {
			groups := memberList(res.Groups, base)
			for _, g := range groups {
				g.(map[string]any)["type"] = "direct"
			}
			return "groups", groups, true
		}
	}
	return "", nil, false
}

// writeKey writes a member's name as encoding/json would.
func writeKey(buf *bytes.Buffer, k string) {
	buf.Write(appendQuoted(buf.AvailableBuffer(), k))
}

// appendQuoted appends s as a JSON string, as encoding/json writes it.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
