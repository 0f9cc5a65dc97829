package schema

import "sync"

// CatalogCache keeps tenants' catalogs (a base catalog extended with each
// tenant's declarations) for a process that is told of every change to
// tenants' declarations before the change returns (the owner of a SQLite
// directory: ferry serve's server and store). A nil *CatalogCache keeps
// nothing. Safe for concurrent use.
type CatalogCache struct {
	mu sync.Mutex
	// invalidations counts the changes told of, so that a catalog built
	// from declarations read before one is not kept.
	invalidations uint64
	byTenant      map[string]*Catalog
}

// maxCachedCatalogs bounds the cache; past it, it starts again empty.
const maxCachedCatalogs = 10000

// NewCatalogCache returns an empty cache.
func NewCatalogCache() *CatalogCache {
	return &CatalogCache{byTenant: map[string]*Catalog{}}
}

// Get returns the tenant's catalog, or nil and the count to give Put with
// the catalog built from declarations read after this call.
func (c *CatalogCache) Get(tenantID string) (*Catalog, uint64) {
	if c == nil {
		return nil, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byTenant[tenantID], c.invalidations
}

// Put keeps a tenant's catalog unless declarations changed since Get.
func (c *CatalogCache) Put(tenantID string, cat *Catalog, since uint64) {
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

// Invalidate drops the catalogs of tenants whose declarations changed.
func (c *CatalogCache) Invalidate(tenants []string) {
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
