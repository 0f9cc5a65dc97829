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
		Write: func(ctx context.Context, _ string, fn func(sqlstore.SchemaTx) error) error {
			return s.write(ctx, func(w *wtx) error { return fn(schemaTx{sourceTx{reader{w}, w}}) })
		},
		NameTaken: func(err error) bool { return isUnique(err) && strings.Contains(err.Error(), "tenant_schemas") },
	}
}

// schemaTx is a write as sqlstore.SchemaTx: a sourceTx that also updates
// resources.
type schemaTx struct{ sourceTx }

func (t schemaTx) Update(ctx context.Context, tenantID, typ, id string, change func(*store.Resource) error) error {
	rt, err := t.w.s.tenantType(ctx, t.reader, tenantID, typ)
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
