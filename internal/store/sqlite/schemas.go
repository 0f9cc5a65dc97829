package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

func (s *Store) schemaDB() sqlstore.SchemaDB {
	return sqlstore.SchemaDB{
		Backend: "sqlite",
		Dialect: sqlfilter.SQLite{},
		Read: func(ctx context.Context, fn func(sqlstore.Querier) error) error {
			return s.readConn(ctx, func(c *conn) error { return fn(reader{c}) })
		},
		Write: func(ctx context.Context, tenantID string, fn func(sqlstore.SchemaTx) error) error {
			return s.write(ctx, func(w *wtx) error {
				// Marked first: the batch's later writes, and this one's
				// updates, must read the tenant's schemas, not the cache's.
				w.commit.Schemas = append(w.commit.Schemas, tenantID)
				return fn(schemaTx{sourceTx{reader{w}, w}})
			})
		},
		NameTaken: func(err error) bool { return isUnique(err) && strings.Contains(err.Error(), "tenant_schemas") },
	}
}

// schemaTx is a write as sqlstore.SchemaTx: a sourceTx that also updates
// resources.
type schemaTx struct{ sourceTx }

func (t schemaTx) Update(ctx context.Context, tenantID, typ, id string, change func(*store.Resource) error) error {
	rt, err := t.w.tenantType(ctx, tenantID, typ)
	if err != nil {
		return err
	}
	if _, err := t.w.update(ctx, rt, tenantID, typ, id, 0, change); err != nil && !errors.Is(err, errNoChange) {
		return err
	}
	return nil
}

// tenantType returns the resource type typ as tenantID declared it,
// reading the declarations with q.
func (s *Store) tenantType(ctx context.Context, q sqlstore.Querier, tenantID, typ string) (*schema.ResourceType, error) {
	rt, err := sqlstore.TenantType(ctx, q, sqlfilter.SQLite{}, s.registry, tenantID, typ, "")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return rt, nil
}

// readType returns the resource type typ as tenantID declared it, as a
// read sees it now: from the store's catalog cache when the store owns the
// directory (Options.Owner), which the writer clears at every commit that
// changes a tenant's schemas; else read on a connection of its own.
func (s *Store) readType(ctx context.Context, tenantID, typ string) (*schema.ResourceType, error) {
	if err := sqlstore.CheckType(s.catalog, typ); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	cat, since := s.catalogs.Get(tenantID)
	if cat == nil {
		err := s.readConn(ctx, func(c *conn) (err error) {
			cat, err = sqlstore.TenantCatalog(ctx, reader{c}, sqlfilter.SQLite{}, s.registry, tenantID, "")
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		s.catalogs.Put(tenantID, cat, since)
	}
	return cat.ResourceType(typ), nil
}

// tenantType returns the resource type typ as tenantID declared it, as
// this write sees it: from the cache unless this batch changed schemas.
func (w *wtx) tenantType(ctx context.Context, tenantID, typ string) (*schema.ResourceType, error) {
	if len(w.commit.Schemas) == 0 && sqlstore.CheckType(w.s.catalog, typ) == nil {
		if cat, _ := w.s.catalogs.Get(tenantID); cat != nil {
			return cat.ResourceType(typ), nil
		}
	}
	return w.s.tenantType(ctx, reader{w}, tenantID, typ)
}
