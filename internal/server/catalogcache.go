package server

import (
	"sync"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// catalogCache keeps each tenant's catalog (the built-in schemas extended
// with the tenant's declarations) for a server whose store tells it of
// every commit: a commit that changes a tenant's schemas drops its entry
// before the change returns. A nil *catalogCache keeps nothing.
type catalogCache struct {
	mu sync.Mutex
	// invalidations counts the schema changes told of, so that a catalog
	// built from declarations read before one is not kept.
	invalidations uint64
	byTenant      map[string]*schema.Catalog
}

// maxCachedCatalogs bounds the cache; past it, it starts again empty.
const maxCachedCatalogs = 10000

func newCatalogCache() *catalogCache {
	return &catalogCache{byTenant: map[string]*schema.Catalog{}}
}

// get returns the tenant's catalog, or nil and the count to give put with
// the catalog built from declarations read after this call.
func (c *catalogCache) get(tenantID string) (*schema.Catalog, uint64) {
	if c == nil {
		return nil, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byTenant[tenantID], c.invalidations
}

// put keeps a tenant's catalog unless its schemas changed since get.
func (c *catalogCache) put(tenantID string, cat *schema.Catalog, since uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if since != c.invalidations {
		return
	}
	if len(c.byTenant) >= maxCachedCatalogs {
		clear(c.byTenant)
	}
	c.byTenant[tenantID] = cat
}

// invalidate drops the catalogs of tenants whose schemas changed.
func (c *catalogCache) invalidate(tenants []string) {
	if c == nil || len(tenants) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidations++
	for _, t := range tenants {
		delete(c.byTenant, t)
	}
}
