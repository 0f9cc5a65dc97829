package server

import (
	"sort"

	"github.com/ferryid/ferry/internal/store"
)

// Page anchors. A list paged by startIndex (RFC 7644 §3.4.2.4) is an
// OFFSET in the store: the database steps over every resource before the
// page, so that a page deep into 10,000 users costs ten times one near
// the start, and a client that walks every page (Okta's imports do) pays
// for the whole list once per page. An owned read cache, told of every
// commit, remembers where pages it served ended: the id at a position of
// a type's list sorted by id. A later page starts after the nearest one
// before it (a keyset range, store.Query.After) and skips the rest
// (store.Query.Skip): the next page of a walk skips nothing.
//
// Positions in that order change only when a resource of the type is
// created or deleted (ids never change), so such a commit
// (store.Commit.Reordered) forgets the type's anchors; other writes keep
// them. An anchored page is only used when no commit at all came while it
// was read (readPage's currentAll), like every page the cache answers.

// maxAnchors bounds the anchors kept per tenant and type: a walk of a
// million users in pages of 100 records ten thousand; keeping every other
// one when full leaves at most 2 pages' distance between anchors.
const maxAnchors = 4096

// maxAnchorsTotal bounds the anchors of all tenants and types together
// (a few megabytes): past it they are all forgotten, and the lists that
// are read again anchor themselves again.
const maxAnchorsTotal = 1 << 16

// anchor is a resource's place in its type's list sorted by id: pos is
// its 1-based index.
type anchor struct {
	pos int
	id  string
}

// anchorOrder reports whether q is a page by index of the order anchors
// hold: a list without filter in the default order (by id, ascending).
func anchorOrder(q store.Query) bool {
	return q.Filter == nil && q.SortBy == "" && !q.Descending && q.After == nil
}

// anchorBefore returns, in an owned cache, the anchor of tenant's typ
// nearest before position start, when one is known.
func (c *readCache) anchorBefore(tenant, typ string, start int) (anchor, bool) {
	if c == nil {
		return anchor{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.owned {
		return anchor{}, false
	}
	list := c.anchors[store.TenantType{TenantID: tenant, Type: typ}]
	i := sort.Search(len(list), func(i int) bool { return list[i].pos >= start })
	if i == 0 {
		return anchor{}, false
	}
	return list[i-1], true
}

// keepAnchor remembers a, read by a read that began at at, unless a
// commit came since: the read may have seen a list the commit changed.
func (c *readCache) keepAnchor(tenant, typ string, a anchor, at readAt) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.owned || !at.read || at.since != c.commits {
		return
	}
	if c.anchorCount >= maxAnchorsTotal {
		clear(c.anchors)
		c.anchorCount = 0
	}
	k := store.TenantType{TenantID: tenant, Type: typ}
	list := c.anchors[k]
	i := sort.Search(len(list), func(i int) bool { return list[i].pos >= a.pos })
	if i < len(list) && list[i].pos == a.pos {
		return
	}
	if len(list) >= maxAnchors {
		thinned := list[:0]
		for j := 0; j < len(list); j += 2 {
			thinned = append(thinned, list[j])
		}
		c.anchorCount -= len(list) - len(thinned)
		list = thinned
		i = sort.Search(len(list), func(i int) bool { return list[i].pos >= a.pos })
	}
	list = append(list, anchor{})
	copy(list[i+1:], list[i:])
	list[i] = a
	c.anchors[k] = list
	c.anchorCount++
}

// forgetAnchorsLocked forgets the anchors of k; c.mu is held.
func (c *readCache) forgetAnchorsLocked(k store.TenantType) {
	c.anchorCount -= len(c.anchors[k])
	delete(c.anchors, k)
}
