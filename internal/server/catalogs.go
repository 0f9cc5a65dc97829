package server

import (
	"sync"

	"github.com/ferryid/ferry/internal/scim/schema"
)

// versionedCatalogs keeps each tenant's catalog with the schemas version
// its declarations were read at (store.Schemas.VersionedSchemaExtensions),
// for a store that does not tell this process of its commits: PostgreSQL,
// which several replicas write. A GET by id then reads the resource and
// the tenant's current version in one statement
// (store.ReadOptions.SchemasVersion) instead of reading the declarations
// first, and is answered again with the declarations read afresh when the
// version moved: a schema declared through any replica is seen by the next
// read on every one. Safe for concurrent use; a nil *versionedCatalogs
// keeps nothing.
type versionedCatalogs struct {
	mu       sync.RWMutex
	byTenant map[string]versionedCatalog
}

type versionedCatalog struct {
	cat     *schema.Catalog
	version int64
}

func newVersionedCatalogs() *versionedCatalogs {
	return &versionedCatalogs{byTenant: map[string]versionedCatalog{}}
}

// get returns the tenant's kept catalog and its version.
func (c *versionedCatalogs) get(tenantID string) (versionedCatalog, bool) {
	if c == nil {
		return versionedCatalog{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.byTenant[tenantID]
	return v, ok
}

// put keeps a catalog read at version. Of two reads racing, either may
// win: a version is read before its declarations, so a kept catalog is
// never labelled newer than it is, and the next GET corrects an older
// label.
func (c *versionedCatalogs) put(tenantID string, cat *schema.Catalog, version int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byTenant) >= maxVersionedCatalogs {
		clear(c.byTenant)
	}
	c.byTenant[tenantID] = versionedCatalog{cat, version}
}

// maxVersionedCatalogs bounds the tenants kept; past it, the cache starts
// again empty.
const maxVersionedCatalogs = 10000
