package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

func (s *Store) schemaDB() sqlstore.SchemaDB {
	return sqlstore.SchemaDB{
		Backend: "postgres",
		Dialect: sqlfilter.Postgres{},
		Read: func(_ context.Context, fn func(sqlstore.Querier) error) error {
			return fn(reader{s.pool})
		},
		Write: func(ctx context.Context, tenantID string, fn func(sqlstore.SchemaTx) error) error {
			return s.write(ctx, tenantID, func(w *wtx) error { return fn(schemaTx{sourceTx{reader{w}, w}}) })
		},
		NameTaken: func(err error) bool {
			code, constraint := pgCode(err)
			return code == uniqueViolation && constraint == "tenant_schemas_pkey"
		},
		Lock: " FOR UPDATE",
	}
}

// schemaTx is a transaction as sqlstore.SchemaTx: a sourceTx that also
// updates resources.
type schemaTx struct{ sourceTx }

func (t schemaTx) Update(ctx context.Context, tenantID, typ, id string, change func(*store.Resource) error) error {
	rt, err := t.w.s.writeType(ctx, t.w, tenantID, typ)
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
func (s *Store) tenantType(ctx context.Context, q sqlstore.Querier, tenantID, typ, lock string) (*schema.ResourceType, error) {
	rt, err := sqlstore.TenantType(ctx, q, sqlfilter.Postgres{}, s.registry, tenantID, typ, lock)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return rt, nil
}

// writeType is tenantType in a write: the declarations stay locked FOR
// SHARE until it commits, so that a RemoveSchema (which locks them FOR
// UPDATE) waits for it and then finds the values it wrote.
func (s *Store) writeType(ctx context.Context, w *wtx, tenantID, typ string) (*schema.ResourceType, error) {
	return s.tenantType(ctx, reader{w}, tenantID, typ, " FOR SHARE")
}
