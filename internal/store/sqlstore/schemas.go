package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The tenant_schemas table: store.Schemas written once for both backends,
// which lend SchemaStore their reads and writes (SchemaDB) and the
// rewriting of resources that a forced removal needs.

// SchemaDB is what a backend lends SchemaStore.
type SchemaDB struct {
	// Backend names the backend in errors ("sqlite", "postgres").
	Backend string
	Dialect sqlfilter.Dialect
	// Read runs fn on a connection or snapshot that reads.
	Read func(ctx context.Context, fn func(Querier) error) error
	// Write runs fn in one write transaction of the tenant's.
	Write func(ctx context.Context, tenantID string, fn func(SchemaTx) error) error
	// NameTaken reports whether err is the violation of tenant_schemas'
	// primary key.
	NameTaken func(err error) bool
	// Lock ends the SELECT of the row RemoveSchema deletes: " FOR
	// UPDATE" where rows are locked (it waits for the writes holding the
	// row FOR SHARE, see TenantType), "" where the write is alone.
	Lock string
}

// SchemaTx is a backend's write as SchemaStore uses it.
type SchemaTx interface {
	Querier
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Now is the write's time, to the millisecond.
	Now() time.Time
	// Update is store.Store's Update of one resource within the write,
	// with the tenant's declarations as the write reads them: a new
	// version, the attribute index rewritten, a change-feed entry; nothing
	// when change leaves the resource as it was.
	Update(ctx context.Context, tenantID, typ, id string, change func(*store.Resource) error) error
}

// SchemaStore implements store.Schemas on a SchemaDB.
type SchemaStore struct{ DB SchemaDB }

// TenantSchemasQuery lists a tenant's declarations for TenantType, by URN
// so that the same declarations give the same registry key.
const TenantSchemasQuery = `SELECT urn, resource_type, definition, created_at FROM tenant_schemas WHERE tenant_id = $1 ORDER BY urn_key`

func scanSchema(row Row) (store.SchemaExtension, error) {
	var e store.SchemaExtension
	var def string
	err := row.Scan(&e.URN, &e.ResourceType, &def, TextTime(&e.Created))
	e.Definition = []byte(def)
	return e, err
}

// TenantType returns the resource type typ of tenantID's catalog: reg's
// base catalog extended with the tenant's declarations, read with q (lock
// is appended to the query: " FOR SHARE" where a write must keep the
// declarations it read until it commits).
func TenantType(ctx context.Context, q Querier, d sqlfilter.Dialect, reg *schema.Registry, tenantID, typ, lock string) (*schema.ResourceType, error) {
	if err := CheckType(reg.Base(), typ); err != nil {
		return nil, err
	}
	c, err := TenantCatalog(ctx, q, d, reg, tenantID, lock)
	if err != nil {
		return nil, err
	}
	return c.ResourceType(typ), nil
}

// CheckType returns an error unless typ is User or Group, the resource
// types the store keeps, in cat.
func CheckType(cat *schema.Catalog, typ string) error {
	if cat.ResourceType(typ) == nil || (typ != store.UserType && typ != store.GroupType) {
		return store.Invalid("unknown resource type %q", typ)
	}
	return nil
}

// TenantCatalog returns tenantID's catalog: reg's base catalog extended
// with the tenant's declarations, read with q (lock as in TenantType).
func TenantCatalog(ctx context.Context, q Querier, d sqlfilter.Dialect, reg *schema.Registry, tenantID, lock string) (*schema.Catalog, error) {
	exts, err := List(ctx, q, scanSchema, inDialect(d, TenantSchemasQuery+lock), tenantID)
	if err != nil {
		return nil, fmt.Errorf("read the tenant's schemas: %w", err)
	}
	decls := make([]schema.Declaration, len(exts))
	for i, e := range exts {
		decls[i] = schema.Declaration{ResourceType: e.ResourceType, Definition: e.Definition}
	}
	c, err := reg.Catalog(decls) // the base catalog when there are none
	if err != nil {
		return nil, fmt.Errorf("the tenant's schemas: %w", err)
	}
	return c, nil
}

// AddSchema implements store.Schemas.
func (s SchemaStore) AddSchema(ctx context.Context, e *store.SchemaExtension) error {
	if e.ResourceType != store.UserType && e.ResourceType != store.GroupType {
		return store.Invalid("an extension schema extends User or Group, not %q", e.ResourceType)
	}
	if e.URN == "" || len(e.Definition) == 0 {
		return store.Invalid("an extension schema needs a URN and a definition")
	}
	c := *e
	err := s.DB.Write(ctx, c.TenantID, func(w SchemaTx) error {
		c.Created = w.Now()
		_, err := w.Exec(ctx, inDialect(s.DB.Dialect, `INSERT INTO tenant_schemas (tenant_id, urn_key, urn, resource_type, definition, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`), c.TenantID, strings.ToLower(c.URN), c.URN, c.ResourceType, string(c.Definition), sqlfilter.TimeKey(c.Created))
		if err != nil && s.DB.NameTaken(err) {
			return store.Errorf(store.ErrNameTaken, "the schema %s is already declared; remove it first to change it", c.URN)
		}
		if err != nil {
			return err
		}
		return s.bumpSchemasVersion(ctx, w, c.TenantID)
	})
	if err != nil {
		return Wrap(err, "%s: add schema %s", s.DB.Backend, c.URN)
	}
	*e = c
	return nil
}

// SchemaExtensions implements store.Schemas.
func (s SchemaStore) SchemaExtensions(ctx context.Context, tenantID string) ([]store.SchemaExtension, error) {
	var out []store.SchemaExtension
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		out, err = List(ctx, q, scanSchema, inDialect(s.DB.Dialect, TenantSchemasQuery), tenantID)
		return err
	})
	for i := range out {
		out[i].TenantID = tenantID
	}
	return out, Wrap(err, "%s: list schemas", s.DB.Backend)
}

// VersionedSchemaExtensions implements store.Schemas.
func (s SchemaStore) VersionedSchemaExtensions(ctx context.Context, tenantID string) (int64, []store.SchemaExtension, error) {
	var version int64
	var out []store.SchemaExtension
	err := s.DB.Read(ctx, func(q Querier) error {
		// The version first: see store.Schemas.
		if err := q.QueryRow(ctx, inDialect(s.DB.Dialect, SchemasVersionQuery), tenantID).Scan(&version); err != nil {
			return err
		}
		var err error
		out, err = List(ctx, q, scanSchema, inDialect(s.DB.Dialect, TenantSchemasQuery), tenantID)
		return err
	})
	for i := range out {
		out[i].TenantID = tenantID
	}
	return version, out, Wrap(err, "%s: list schemas", s.DB.Backend)
}

// SchemasVersionQuery reads a tenant's schemas version
// (store.Schemas.VersionedSchemaExtensions); 0 for a tenant that does not
// exist, whose declarations are none.
const SchemasVersionQuery = `SELECT COALESCE((SELECT schemas_version FROM tenants WHERE id = $1), 0)`

// SchemasVersionColumn is SchemasVersionQuery as a column of a read of
// resources (store.ReadOptions.SchemasVersion), with tenant the query's
// parameter that holds the tenant's id.
func SchemasVersionColumn(tenant string) string {
	return `COALESCE((SELECT t.schemas_version FROM tenants t WHERE t.id = ` + tenant + `), 0)`
}

// bumpSchemasVersion moves the tenant's schemas version, in the write that
// changes its declarations.
func (s SchemaStore) bumpSchemasVersion(ctx context.Context, w SchemaTx, tenantID string) error {
	_, err := w.Exec(ctx, inDialect(s.DB.Dialect, `UPDATE tenants SET schemas_version = schemas_version + 1 WHERE id = $1`), tenantID)
	return err
}

// RemoveSchema implements store.Schemas. The row is locked first: where
// writes hold the declarations they read (PostgreSQL's FOR SHARE), that
// waits for them, so the resources counted next include every write that
// used the schema. Every check that can fail comes before the first
// statement that writes, as SQLite's batched writes need (see its
// writer.go).
func (s SchemaStore) RemoveSchema(ctx context.Context, tenantID, urn string, force bool) (int, error) {
	var n int
	err := s.DB.Write(ctx, tenantID, func(w SchemaTx) error {
		var typ string
		err := w.QueryRow(ctx, inDialect(s.DB.Dialect, `SELECT resource_type, urn FROM tenant_schemas WHERE tenant_id = $1 AND urn_key = $2`+s.DB.Lock),
			tenantID, strings.ToLower(urn)).Scan(&typ, &urn)
		if err != nil {
			return NoRowsAs(err, store.NotFound("no schema %s is declared in this tenant", urn))
		}
		// Every value under the schema has an attribute_values row whose
		// path starts with the lower-case URN and a colon
		// (sqlfilter.Flatten); ";" is the character after ":".
		prefix := strings.ToLower(urn)
		ids, err := List(ctx, w, func(r Row) (id string, err error) { return id, r.Scan(&id) },
			inDialect(s.DB.Dialect, `SELECT DISTINCT r.id FROM attr_paths p JOIN attribute_values v ON v.aid = p.aid
				JOIN resources r ON r.rid = v.rid
				WHERE p.tenant_id = $1 AND p.type = $2 AND p.path >= $3 AND p.path < $4 ORDER BY r.id`),
			tenantID, typ, prefix+":", prefix+";")
		if err != nil {
			return err
		}
		n = len(ids)
		if n > 0 && !force {
			return store.Errorf(store.ErrInUse, "%d %s resource(s) hold values of the schema %s; remove the values first, or remove the schema with force (ferry schemas remove --force, ?force=true) to delete them from every resource", n, typ, urn)
		}
		if _, err := w.Exec(ctx, inDialect(s.DB.Dialect, `DELETE FROM tenant_schemas WHERE tenant_id = $1 AND urn_key = $2`),
			tenantID, strings.ToLower(urn)); err != nil {
			return err
		}
		if err := s.bumpSchemasVersion(ctx, w, tenantID); err != nil {
			return err
		}
		for _, id := range ids {
			if err := w.Update(ctx, tenantID, typ, id, func(r *store.Resource) error {
				StripSchema(r.Doc, urn)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, Wrap(err, "%s: remove schema %s", s.DB.Backend, urn)
	}
	return n, nil
}

// StripSchema is the change a forced RemoveSchema makes to each resource
// holding values of the schema urn:
// the extension's object goes, and with it its URN from "schemas".
func StripSchema(doc map[string]any, urn string) {
	for k := range doc {
		if strings.EqualFold(k, urn) {
			delete(doc, k)
		}
	}
	if urns, ok := doc["schemas"].([]any); ok {
		kept := urns[:0:0]
		for _, u := range urns {
			if s, ok := u.(string); !ok || !strings.EqualFold(s, urn) {
				kept = append(kept, u)
			}
		}
		doc["schemas"] = kept
	}
}
