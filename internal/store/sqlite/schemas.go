package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
			return s.write(ctx, func(w *wtx) error { return fn(schemaTx{reader{w}, w}) })
		},
		NameTaken: func(err error) bool { return isUnique(err) && strings.Contains(err.Error(), "tenant_schemas") },
	}
}

// schemaTx is a write as sqlstore.SchemaTx.
type schemaTx struct {
	reader
	w *wtx
}

func (t schemaTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t schemaTx) Now() time.Time { return t.w.now }

func (t schemaTx) Strip(ctx context.Context, tenantID, typ, urn string, ids []string) error {
	rt, err := t.w.s.tenantType(ctx, t.reader, tenantID, typ)
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, err := t.w.update(ctx, rt, tenantID, typ, id, 0, func(r *store.Resource) error {
			sqlstore.StripSchema(r.Doc, urn)
			return nil
		})
		if err != nil && !errors.Is(err, errNoChange) {
			return err
		}
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
