package server

import (
	"bytes"
	"container/list"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/scim/filter"
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
//
// Owned directories. When this process owns every write to the directory
// (store.CommitWatcher: a SQLite file that this ferry serve holds the
// owner lock of), the store tells the cache of each commit before the
// commit's writes return, with the rows and memberships it wrote, and
// writes replace their entries (readCache.apply): a written row becomes
// its resource's entry (a stub, rendered by its first read), memberships
// change in the entries on both sides, and an entry showing a renamed
// resource is forgotten, as is whatever the commit does not describe (a
// deletion). Its entries then also keep the memberships they were read
// with, and a GET by id answers from an entry without reading the
// database. A read that began before a commit does not enter the cache
// (since): it may have read the row the commit replaced. A current entry
// also keeps its whole response to a request without a projection
// (rendered.body), and a page of a list reads its ids alone and takes its
// resources from the cache (Server.readPage, currentAll).

// DefaultReadCacheBytes is the read cache's default budget: about 50,000
// users of the size Entra sends.
const DefaultReadCacheBytes = 64 << 20

// readCache is a size-bounded cache of rendered resources, safe for
// concurrent use. A nil *readCache caches nothing.
//
// Eviction is second chance (CLOCK): a read marks the entry it uses
// (rendered.used) under a shared lock, and eviction, from the back of
// order, moves a marked entry to the front, unmarked, instead of dropping
// it. Reads, most requests, then never wait for one another.
type readCache struct {
	mu      sync.RWMutex
	budget  int
	size    int
	order   *list.List // front: most recently kept or spared; values are *rendered
	entries map[cacheKey]*list.Element

	// owned says the store tells the cache of every commit (see above).
	owned bool
	// commits counts the commits the cache has been told of.
	commits uint64
	// shownIn are, per resource, the entries that show it as a member or
	// a group: those to forget when it changes. Owned caches only.
	shownIn map[refKey]map[cacheKey]struct{}
	// byName finds an entry by its name (rendered.name). Owned caches
	// only.
	byName map[nameKey]cacheKey
	// anchors are, per tenant and type, where pages of the list sorted by
	// id ended, in order of position (anchors.go). Owned caches only.
	anchors     map[store.TenantType][]anchor
	anchorCount int // of all of them
}

// nameKey is a resource's unique name: a user's userName or a group's
// displayName, as filter.FoldKey folds it.
type nameKey struct{ tenant, typ, name string }

type cacheKey struct{ tenant, typ, id string }

// refKey is a resource as a member or group names it: ids are unique
// within a tenant across types.
type refKey struct{ tenant, id string }

func newReadCache(budget int) *readCache {
	if budget <= 0 {
		return nil
	}
	return &readCache{budget: budget, order: list.New(), entries: map[cacheKey]*list.Element{},
		shownIn: map[refKey]map[cacheKey]struct{}{}, byName: map[nameKey]cacheKey{}, anchors: map[store.TenantType][]anchor{}}
}

// own makes the cache authoritative: from now on the caller calls
// apply for every commit, before the commit's writes return.
func (c *readCache) own() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owned = true
	c.clearLocked()
}

// readAt is what a read knew as it began: the number of commits the
// cache had been told of (since) and whether it loaded memberships
// (edges). A zero readAt is a write's result, which an owned cache does
// not keep: its commit has put the row there already (apply), and another
// may have replaced it since.
type readAt struct {
	since uint64
	edges bool
	read  bool
}

// begin returns the readAt of a read about to start.
func (c *readCache) begin(edges bool) readAt {
	if c == nil {
		return readAt{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return readAt{since: c.commits, edges: edges, read: true}
}

// get returns the entry made from res's row under rt, if there is one.
func (c *readCache) get(res *store.Resource, rt *schema.ResourceType) *rendered {
	if c == nil {
		return nil
	}
	k := cacheKey{res.TenantID, res.Type, res.ID}
	var e *rendered
	c.mu.RLock()
	if el, ok := c.entries[k]; ok {
		e = el.Value.(*rendered) // put may replace it: read it under the lock
	}
	c.mu.RUnlock()
	if e == nil || !e.from(res) {
		return nil
	}
	return c.ready(e, rt)
}

// current returns, in an owned cache, the entry of a resource as the
// directory has it now, made under rt and, when edges, with its
// memberships; nil when there is none.
func (c *readCache) current(tenant string, rt *schema.ResourceType, id string, edges bool) *rendered {
	if c == nil || !c.owned {
		return nil
	}
	k := cacheKey{tenant, rt.Name, id}
	c.mu.RLock()
	el, ok := c.entries[k]
	var e *rendered
	if ok {
		e = el.Value.(*rendered)
	}
	c.mu.RUnlock()
	if e == nil || (edges && !e.hasEdges) {
		return nil
	}
	return c.ready(e, rt)
}

// ready returns e, an entry just found current, rendered under rt: e
// itself, or, for a stub, its rendering, which then replaces the stub in
// the cache; nil when e was rendered under another rt (the tenant's
// schemas changed since) or cannot be rendered.
func (c *readCache) ready(e *rendered, rt *schema.ResourceType) *rendered {
	if !e.stub {
		if e.rt != rt {
			return nil
		}
		e.use()
		return e
	}
	res := &store.Resource{TenantID: e.key.tenant, Type: e.key.typ, ID: e.key.id, Version: e.version,
		Created: e.created, LastModified: e.modified, DocJSON: e.doc}
	r, err := renderResource(res, rt)
	if err != nil {
		return nil
	}
	r.edges, r.hasEdges = e.edges, e.hasEdges
	r.size += edgesSize(e.edges)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok && el.Value.(*rendered) == e {
		// Name and memberships are the stub's: byName and shownIn stay.
		el.Value = r
		c.size += r.size - e.size
		r.use()
		c.evictLocked()
	}
	return r
}

// isOwned reports whether the cache is owned: told of every commit.
func (c *readCache) isOwned() bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.owned
}

// currentAll returns, in an owned cache, the current entries of rt's
// resources refs, in order, made under rt and, when edges, with their
// memberships, when it holds every one and no commit came since at;
// false otherwise.
func (c *readCache) currentAll(tenant string, rt *schema.ResourceType, refs []*store.Resource, edges bool, at readAt) ([]*rendered, bool) {
	if c == nil {
		return nil, false
	}
	out, ok := c.foundAll(tenant, rt, refs, edges, at)
	if !ok {
		return nil, false
	}
	for i, e := range out {
		if out[i] = c.ready(e, rt); out[i] == nil {
			return nil, false
		}
	}
	return out, true
}

// foundAll is currentAll's lookup, under the shared lock.
func (c *readCache) foundAll(tenant string, rt *schema.ResourceType, refs []*store.Resource, edges bool, at readAt) ([]*rendered, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.owned || at.since != c.commits {
		return nil, false
	}
	out := make([]*rendered, len(refs))
	for i, ref := range refs {
		el, ok := c.entries[cacheKey{tenant, rt.Name, ref.ID}]
		if !ok {
			return nil, false
		}
		e := el.Value.(*rendered)
		if (!e.stub && e.rt != rt) || (edges && !e.hasEdges) {
			return nil, false
		}
		out[i] = e
	}
	return out, true
}

// named returns, in an owned cache, the current entry of the resource of
// type rt whose unique name (a user's userName, a group's displayName)
// folds to name, made under rt and, when edges, with its memberships; nil
// when there is none. Names are unique in a tenant, so an entry that
// holds the name is the only resource that does.
func (c *readCache) named(tenant string, rt *schema.ResourceType, name string, edges bool) *rendered {
	if c == nil || !c.owned {
		return nil
	}
	c.mu.RLock()
	var e *rendered
	if k, ok := c.byName[nameKey{tenant, rt.Name, name}]; ok {
		if el, ok := c.entries[k]; ok {
			e = el.Value.(*rendered)
		}
	}
	c.mu.RUnlock()
	if e == nil || (edges && !e.hasEdges) || e.name != name {
		return nil
	}
	return c.ready(e, rt)
}

// put keeps e, made by a read described by at, replacing the resource's
// entry, and evicts the least recently used entries beyond the budget. An
// owned cache keeps only what a read made, and only when no commit came
// between the read's start and now.
func (c *readCache) put(e *rendered, at readAt) {
	if c == nil || e.size > c.budget/8 {
		return // one huge document must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned && (!at.read || at.since != c.commits) {
		return
	}
	c.insertLocked(e)
	c.evictLocked()
}

// insertLocked keeps e, replacing the resource's entry; c.mu is held.
func (c *readCache) insertLocked(e *rendered) {
	if el, ok := c.entries[e.key]; ok {
		c.dropLocked(el)
	}
	c.entries[e.key] = c.order.PushFront(e)
	c.size += e.size
	if c.owned && e.name != "" {
		c.byName[nameKey{e.key.tenant, e.key.typ, e.name}] = e.key
	}
	if c.owned && e.hasEdges {
		for _, m := range e.edges {
			r := refKey{e.key.tenant, m.ID}
			if c.shownIn[r] == nil {
				c.shownIn[r] = map[cacheKey]struct{}{}
			}
			c.shownIn[r][e.key] = struct{}{}
		}
	}
}

// evictLocked drops entries from the back of order, sparing once each
// entry read since it was last spared, until the cache is within its
// budget; c.mu is held.
func (c *readCache) evictLocked() {
	for c.size > c.budget {
		el := c.order.Back()
		if e := el.Value.(*rendered); e.used.Load() {
			e.used.Store(false)
			c.order.MoveToFront(el)
			continue
		}
		c.dropLocked(el)
	}
}

// dropLocked removes an entry; c.mu is held.
func (c *readCache) dropLocked(el *list.Element) {
	e := el.Value.(*rendered)
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.size -= e.size + e.bodySize
	if nk := (nameKey{e.key.tenant, e.key.typ, e.name}); e.name != "" && c.byName[nk] == e.key {
		delete(c.byName, nk)
	}
	if e.hasEdges {
		for _, m := range e.edges {
			r := refKey{e.key.tenant, m.ID}
			if in := c.shownIn[r]; in != nil {
				delete(in, e.key)
				if len(in) == 0 {
					delete(c.shownIn, r)
				}
			}
		}
	}
}

func (c *readCache) clearLocked() {
	c.order.Init()
	clear(c.entries)
	clear(c.shownIn)
	clear(c.byName)
	clear(c.anchors)
	c.anchorCount = 0
	c.size = 0
}

// remove forgets a resource, after it was deleted.
func (c *readCache) remove(tenant, typ, id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[cacheKey{tenant, typ, id}]; ok {
		c.dropLocked(el)
	}
}

// maxInPlaceEdges bounds the memberships of an entry that a commit's
// edges change in place. An entry with more (a large group's) is
// forgotten instead: copying its list at every change would cost more
// than reading it again when asked.
const maxInPlaceEdges = 1024

// apply brings the cache to the directory's state after a commit; the
// store calls it before the commit's writes return. Writes replace their
// entries: a resource whose change the commit describes
// (store.Commit.Described) gets its new row as a stub, rendered when
// first read, with the memberships it had, and an entry's memberships
// change as the commit's edges say. Any other resource the commit
// changed is forgotten, with the entries that show it; so is a written
// row whose memberships the cache does not know.
func (c *readCache) apply(commit store.Commit) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commits++
	for _, k := range commit.Reordered {
		c.forgetAnchorsLocked(k)
	}
	described := commit.Described()
	for k, ok := range described {
		if !ok {
			c.forgetLocked(cacheKey{k.TenantID, k.Type, k.ID})
		}
	}
	for _, row := range commit.Rows {
		if described[row.Key] {
			c.putRowLocked(row)
		}
	}
	c.applyEdgesLocked(commit.Edges, described)
	// A renamed resource shows differently in the entries that show it.
	for _, row := range commit.Rows {
		for shown := range c.shownIn[refKey{row.Key.TenantID, row.Key.ID}] {
			el, ok := c.entries[shown]
			if !ok {
				continue
			}
			e := el.Value.(*rendered)
			if i, found := findEdge(e.edges, row.Key.ID); !found || e.edges[i].Display != row.Display {
				c.dropLocked(el)
			}
		}
	}
	c.evictLocked()
}

// forgetLocked drops a resource's entry and those that show it; c.mu is
// held.
func (c *readCache) forgetLocked(k cacheKey) {
	if el, ok := c.entries[k]; ok {
		c.dropLocked(el)
	}
	for shown := range c.shownIn[refKey{k.tenant, k.id}] {
		if el, ok := c.entries[shown]; ok {
			c.dropLocked(el)
		}
	}
}

// putRowLocked replaces a resource's entry with a stub of the row a
// commit wrote, when its memberships are known: none for a new resource,
// else those of its entry; otherwise it forgets the entry. c.mu is held.
func (c *readCache) putRowLocked(row store.CommitRow) {
	k := cacheKey{row.Key.TenantID, row.Key.Type, row.Key.ID}
	stub := &rendered{key: k, version: row.Version, created: row.Created, modified: row.LastModified,
		doc: row.DocJSON, name: row.NameKey, stub: true, hasEdges: row.New}
	if !row.New {
		el, ok := c.entries[k]
		if !ok {
			return
		}
		if old := el.Value.(*rendered); old.hasEdges {
			stub.edges, stub.hasEdges = old.edges, true
		} else {
			c.dropLocked(el)
			return
		}
	}
	if len(row.DocJSON) > c.budget/8 {
		c.forgetLocked(k)
		return
	}
	stub.size = len(stub.doc) + len(k.tenant) + len(k.id) + 256 + edgesSize(stub.edges)
	c.insertLocked(stub)
}

// edgeDelta is one membership an entry gains or loses.
type edgeDelta struct {
	edge    store.Member
	removed bool
}

// applyEdgesLocked changes the memberships of the entries on both sides
// of each edge, in order: a group's members and a user's groups (a group
// shows no groups of its own). c.mu is held.
func (c *readCache) applyEdgesLocked(edges []store.EdgeChange, described map[store.ResourceKey]bool) {
	if len(edges) == 0 {
		return
	}
	// Each entry's changes in order; entries are independent of each other.
	deltas := map[cacheKey][]edgeDelta{}
	for _, e := range edges {
		g := cacheKey{e.TenantID, store.GroupType, e.Group.ID}
		deltas[g] = append(deltas[g], edgeDelta{e.Member, e.Removed})
		if e.Member.Type == store.UserType {
			u := cacheKey{e.TenantID, store.UserType, e.Member.ID}
			deltas[u] = append(deltas[u], edgeDelta{e.Group, e.Removed})
		}
	}
	for k, ds := range deltas {
		el, ok := c.entries[k]
		if !ok {
			continue
		}
		if !described[store.ResourceKey{TenantID: k.tenant, Type: k.typ, ID: k.id}] {
			c.dropLocked(el)
			continue
		}
		e := el.Value.(*rendered)
		if !e.hasEdges {
			continue // its memberships are read when asked for
		}
		if len(e.edges)+len(ds) > maxInPlaceEdges {
			c.dropLocked(el)
			continue
		}
		ms := slices.Clone(e.edges)
		for _, d := range ds {
			i, found := findEdge(ms, d.edge.ID)
			switch {
			case d.removed && found:
				ms = slices.Delete(ms, i, i+1)
			case !d.removed && found:
				ms[i] = d.edge
			case !d.removed:
				ms = slices.Insert(ms, i, d.edge)
			}
		}
		c.insertLocked(e.withEdges(ms))
	}
}

// findEdge finds the membership of the resource id in ms, which are in
// order of id as the store reads them.
func findEdge(ms []store.Member, id string) (int, bool) {
	return slices.BinarySearchFunc(ms, id, func(m store.Member, id string) int { return strings.Compare(m.ID, id) })
}

// edgesSize is what memberships add to an entry's size.
func edgesSize(ms []store.Member) int {
	n := 0
	for _, m := range ms {
		n += len(m.ID) + len(m.Type) + len(m.Display) + 48
	}
	return n
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
	// stub says the entry is a row a commit wrote (readCache.apply), not
	// yet rendered: it has no fields and no rt, and readCache.ready
	// renders it.
	stub bool

	// In an owned cache: the resource type the entry was made under (the
	// tenant's schemas of the time), and the memberships read with the row
	// (a group's members, a user's groups) when hasEdges.
	rt       *schema.ResourceType
	edges    []store.Member
	hasEdges bool
	// name is the resource's unique name (uniqueName), folded; "" when
	// it has none.
	name string
	// body is, in an owned cache, the whole response to a GET without a
	// projection under the SCIM root most recently asked for
	// (currentBody): a current entry's response changes only with a
	// commit, which drops the entry. Counted in size when the entry is
	// kept.
	body     atomic.Pointer[plainBody]
	bodySize int // the size of body, counted in the cache's size apart from size; c.mu guards it
	// used says a read used the entry since eviction last spared it.
	used atomic.Bool
}

// use marks e as read, for eviction. Most reads find it marked already,
// and write nothing.
func (e *rendered) use() {
	if !e.used.Load() {
		e.used.Store(true)
	}
}

// withEdges returns a copy of e, which has memberships, that shows ms
// instead, without a body yet.
func (e *rendered) withEdges(ms []store.Member) *rendered {
	return &rendered{key: e.key, version: e.version, created: e.created, modified: e.modified, doc: e.doc,
		fields: e.fields, metaHead: e.metaHead, metaTail: e.metaTail, plain: e.plain, stub: e.stub,
		size: e.size - edgesSize(e.edges) + edgesSize(ms), rt: e.rt, edges: ms, hasEdges: true, name: e.name}
}

// plainBody is an entry's response body under one SCIM root URL.
type plainBody struct {
	base string
	body []byte
	// etag and length are the ETag and Content-Length header values of a
	// GET's response with body, made once (writePlain).
	etag, length []string
}

// uniqueName returns what a resource of type typ is unique by in its
// tenant, as filter.FoldKey folds it: a user's userName, a group's
// displayName; "" for none.
func uniqueName(typ string, doc resource.Document) string {
	attr := "userName"
	if typ == store.GroupType {
		attr = "displayName"
	}
	if v, ok := doc.String(attr); ok {
		return filter.FoldKey(v)
	}
	return ""
}

// resource is the entry as the store.Resource its response shows: what
// renderEntry and the ETag need.
func (e *rendered) resource() *store.Resource {
	res := &store.Resource{TenantID: e.key.tenant, Type: e.key.typ, ID: e.key.id, Version: e.version,
		Created: e.created, LastModified: e.modified}
	if e.key.typ == store.GroupType {
		res.Members = e.edges
	} else {
		res.Groups = e.edges
	}
	return res
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
		rt: rt, name: uniqueName(res.Type, doc),
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
// or makes one and caches it when res carries its stored bytes. at says
// how res was read.
func (s *Server) entry(res *store.Resource, rt *schema.ResourceType, at readAt) (*rendered, error) {
	if e := s.cache.get(res, rt); e != nil {
		return e, nil
	}
	e, err := renderResource(res, rt)
	if err != nil {
		return nil, err
	}
	if res.DocJSON != nil {
		if at.edges {
			e.hasEdges = true
			if res.Type == store.GroupType {
				e.edges = res.Members
			} else {
				e.edges = res.Groups
			}
			e.size += edgesSize(e.edges)
		}
		s.cache.put(e, at)
	}
	return e, nil
}

// renderTo appends res, as a response under the SCIM root base carries
// it, to buf. at says how res was read.
func (s *Server) renderTo(buf *bytes.Buffer, base string, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection, at readAt) error {
	e, err := s.entry(res, rt, at)
	if err != nil {
		return err
	}
	return renderEntry(buf, base, e, res, rt, include, exclude)
}

// currentBody returns the response body of e, an owned cache's current
// entry, to a request under the SCIM root base: without a projection, the
// body made once per entry and base (rendered.body), which a commit
// that changes it drops with the entry.
func (c *readCache) currentBody(base string, e *rendered, include, exclude resource.Projection) ([]byte, error) {
	if include.Empty() && exclude.Empty() {
		if b := e.body.Load(); b != nil && b.base == base {
			return b.body, nil
		}
		b, err := c.makePlainBody(base, e)
		if err != nil {
			return nil, err
		}
		return b.body, nil
	}
	var buf bytes.Buffer
	if err := renderEntry(&buf, base, e, e.resource(), e.rt, include, exclude); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// plainResponse is currentBody without a projection for a request r, with
// the response's header values: what a GET by id writes.
func (c *readCache) plainResponse(r *http.Request, e *rendered) (*plainBody, error) {
	if b := e.body.Load(); b != nil && isBaseOf(b.base, r) {
		return b, nil
	}
	return c.makePlainBody(baseURL(r), e)
}

// requestBody is currentBody for a request r, whose body without a
// projection is found without making r's base URL (plainResponse).
func (c *readCache) requestBody(r *http.Request, e *rendered, include, exclude resource.Projection) ([]byte, error) {
	if include.Empty() && exclude.Empty() {
		b, err := c.plainResponse(r, e)
		if err != nil {
			return nil, err
		}
		return b.body, nil
	}
	return c.currentBody(baseURL(r), e, include, exclude)
}

// makePlainBody renders e's response without a projection under base and
// keeps it in e.body.
func (c *readCache) makePlainBody(base string, e *rendered) (*plainBody, error) {
	var buf bytes.Buffer
	if err := renderEntry(&buf, base, e, e.resource(), e.rt, resource.Projection{}, resource.Projection{}); err != nil {
		return nil, err
	}
	b := &plainBody{base: base, body: buf.Bytes(), etag: []string{etag(e.version)}, length: []string{strconv.Itoa(buf.Len())}}
	e.body.Store(b)
	c.account(e, buf.Len())
	return b, nil
}

// account counts an entry's body of n bytes in its size, when the entry
// is still kept, and evicts beyond the budget.
func (c *readCache) account(e *rendered, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[e.key]
	if !ok || el.Value.(*rendered) != e {
		return
	}
	c.size += n - e.bodySize
	e.bodySize = n
	c.evictLocked()
}

// renderEntry appends e, the entry of res, as a response under the SCIM
// root base carries it, to buf.
func renderEntry(buf *bytes.Buffer, base string, e *rendered, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection) error {
	location := appendQuoted(nil, base+rt.Endpoint+"/"+res.ID)
	var extra *resource.Field
	if f, ok := edgesField(res, rt, base); ok {
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
	fields, err := resource.ProjectFields(fields, rt, include, exclude)
	if err != nil {
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

// edgesField returns a group's members or a user's groups, as
// fullDocument renders them (memberList), encoded, when the read loaded
// them. It writes the JSON itself: encoding maps through encoding/json
// was a tenth of a read's time.
func edgesField(res *store.Resource, rt *schema.ResourceType, base string) (resource.Field, bool) {
	var key string
	var ms []store.Member
	switch res.Type {
	case store.GroupType:
		if res.Members == nil {
			return resource.Field{}, false
		}
		key, ms = "members", res.Members
	case store.UserType:
		if len(res.Groups) == 0 {
			return resource.Field{}, false
		}
		key, ms = "groups", res.Groups
	default:
		return resource.Field{}, false
	}
	raw := appendMemberList(make([]byte, 0, len(ms)*(len(base)+120)), ms, base, key == "groups")
	return resource.Field{Key: key, Raw: raw, Clean: len(ms) > 0 && edgesClean(rt, key)}, true
}

// appendMemberList appends memberList(ms, base) as encoding/json encodes
// it (keys in order, HTML characters escaped); a user's groups have type
// "direct".
func appendMemberList(b []byte, ms []store.Member, base string, direct bool) []byte {
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = appendQuoted(b, base+"/"+m.Type+"s/"+m.ID)
		if m.Display != "" {
			b = append(b, `,"display":`...)
			b = appendQuoted(b, m.Display)
		}
		b = append(b, `,"type":`...)
		if direct {
			b = append(b, `"direct"`...)
		} else {
			b = appendQuoted(b, m.Type)
		}
		b = append(b, `,"value":`...)
		b = appendQuoted(b, m.ID)
		b = append(b, '}')
	}
	return append(b, ']')
}

// cleanEdges caches, per resource type and key, whether a member list is
// clean (resource.Field): that depends on the schema's sub-attributes
// only, as every value is a string.
var (
	cleanEdges    sync.Map // edgesKey → bool
	cleanEdgesLen atomic.Int64
)

// maxCleanEdges bounds cleanEdges, which tenants' schema changes grow.
const maxCleanEdges = 4096

type edgesKey struct {
	rt  *schema.ResourceType
	key string
}

func edgesClean(rt *schema.ResourceType, key string) bool {
	k := edgesKey{rt, key}
	if v, ok := cleanEdges.Load(k); ok {
		return v.(bool)
	}
	sample := memberList([]store.Member{{ID: "x", Type: store.UserType, Display: "x"}}, "http://x")
	f, err := resource.EncodeField(rt, key, sample)
	clean := err == nil && f.Clean
	if cleanEdgesLen.Add(1) > maxCleanEdges {
		cleanEdges.Clear()
		cleanEdgesLen.Store(1)
	}
	cleanEdges.Store(k, clean)
	return clean
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
