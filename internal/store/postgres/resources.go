package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Create stores a new resource and sets its ID (when empty), Version,
// Created and LastModified. Ids, names and members follow the same rules as
// in the SQLite store (see store.Store).
func (s *Store) Create(ctx context.Context, r *store.Resource) error {
	if _, err := s.resourceType(r.Type); err != nil {
		return err
	}
	id := r.ID
	if id == "" {
		id = store.NewID()
	}
	var d sqlstore.Document
	var members []sqlstore.Member
	var now = s.now()
	err := s.write(ctx, r.TenantID, func(w *wtx) error {
		now = w.now
		rt, err := s.writeType(ctx, w, r.TenantID, r.Type)
		if err != nil {
			return err
		}
		if d, err = sqlstore.NewDocument(rt, r.Doc); err != nil {
			return fmt.Errorf("postgres: create %s: %w", r.Type, err)
		}
		rows := sqlfilter.Flatten(d.Doc, rt)
		if r.Type == store.GroupType {
			var err error
			if members, err = w.resolveMembers(ctx, r.TenantID, 0, r.Members); err != nil {
				return err
			}
		}
		var rid int64
		err = w.QueryRow(ctx, `INSERT INTO resources
			(tenant_id, type, id, id_key, name_key, display, version, created_at, last_modified, doc)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8) RETURNING rid`,
			r.TenantID, r.Type, id, sqlfilter.FoldKey(id), nullString(d.NameKey), nullString(d.Display),
			timeText(w.now), d.JSON).Scan(&rid)
		if err != nil {
			return writeError(err, "create", r.TenantID, r.Type, id, d.Doc)
		}
		if err := w.insertValues(ctx, r.TenantID, r.Type, rid, nil, rows); err != nil {
			return err
		}
		w.change(r.Type, id, store.OpCreate, sqlstore.CreateDetail(d.Doc, members))
		if err := w.addMembers(ctx, rid, members); err != nil {
			return err
		}
		w.counts[r.Type]++
		return nil
	})
	if err != nil {
		return err
	}
	sqlstore.SetCreated(r, id, now, members, d)
	return nil
}

// membersOfRow and groupsOfRow are correlated subqueries giving a group's
// members, or a user's groups, of the resources row r as a JSON array of
// [id, type, display] in id order (sqlstore.DecodeEdges), so that a
// resource and its memberships are read by one statement.
const (
	membersOfRow = `SELECT coalesce(json_agg(json_build_array(o.id, o.type, o.display) ORDER BY o.id), '[]')::text
		FROM memberships m JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = r.rid`
	groupsOfRow = `SELECT coalesce(json_agg(json_build_array(g.id, g.type, g.display) ORDER BY g.id), '[]')::text
		FROM memberships m JOIN resources g ON g.rid = m.group_rid WHERE m.member_rid = r.rid`
)

// edgesOf returns the memberships subquery for resources of type typ.
func edgesOf(typ string) string {
	if typ == store.UserType {
		return groupsOfRow
	}
	return membersOfRow
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// load reads one resource, with its memberships when asked. lock takes the
// row for update, in a write.
func load(ctx context.Context, q querier, tenantID, typ, id string, opts store.ReadOptions, lock bool) (*store.Resource, int64, error) {
	query := `SELECT ` + sqlstore.ResourceColumns
	var edges *string
	if opts.Members {
		query += `, (` + edgesOf(typ) + `)`
		edges = new(string)
	}
	var extra []any
	var schemasVersion int64
	if opts.SchemasVersion {
		query += `, ` + sqlstore.SchemasVersionColumn("$1")
		extra = append(extra, &schemasVersion)
	}
	query += ` FROM resources r WHERE r.tenant_id = $1 AND r.type = $2 AND r.id = $3`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	res, rid, err := sqlstore.ScanResource(q.QueryRow(ctx, query, tenantID, typ, id), edges, opts.Encoded, extra...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, sqlstore.ResourceNotFound(typ, id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: read %s %s: %w", typ, id, err)
	}
	res.SchemasVersion = schemasVersion
	return res, rid, nil
}

// Get reads one resource, or returns store.ErrNotFound.
func (s *Store) Get(ctx context.Context, tenantID, typ, id string, opts store.ReadOptions) (*store.Resource, error) {
	if _, err := s.resourceType(typ); err != nil {
		return nil, err
	}
	res, _, err := load(ctx, s.pool, tenantID, typ, id, opts, false)
	return res, err
}

// Update reads the resource with its members, locked, applies change and
// writes the result, in one transaction; see store.Store. change may be
// called more than once, on a fresh copy each time, when PostgreSQL aborts
// the transaction for a deadlock and it is run again.
func (s *Store) Update(ctx context.Context, tenantID, typ, id string, ifVersion int64, change func(*store.Resource) error) (*store.Resource, error) {
	if _, err := s.resourceType(typ); err != nil {
		return nil, err
	}
	var out *store.Resource
	err := s.write(ctx, tenantID, func(w *wtx) error {
		rt, err := s.writeType(ctx, w, tenantID, typ)
		if err != nil {
			return err
		}
		out, err = w.update(ctx, rt, tenantID, typ, id, ifVersion, change)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// update is Update within w: it returns the resource as it was, and
// errNoChange with it when change left it as it was.
func (w *wtx) update(ctx context.Context, rt *schema.ResourceType, tenantID, typ, id string, ifVersion int64, change func(*store.Resource) error) (*store.Resource, error) {
	cur, rid, err := load(ctx, w, tenantID, typ, id, store.ReadOptions{Members: true}, true)
	if err != nil {
		return nil, err
	}
	rev, err := sqlstore.Revise(cur, rt, ifVersion, change, func(ms []store.Member) ([]sqlstore.Member, error) {
		return w.resolveMembers(ctx, tenantID, rid, ms)
	})
	if err != nil {
		return nil, err
	}
	if rev.Unchanged() {
		return cur, errNoChange
	}
	if _, err := w.Exec(ctx, `UPDATE resources SET version = version + 1, last_modified = $2,
		name_key = $3, display = $4, doc = $5 WHERE rid = $1`,
		rid, timeText(w.now), nullString(rev.NameKey), nullString(rev.Display), rev.JSON); err != nil {
		return nil, writeError(err, "update", tenantID, typ, id, rev.Doc)
	}
	if rev.DocChanged {
		old, err := w.values(ctx, rid)
		if err != nil {
			return nil, err
		}
		if err := w.insertValues(ctx, tenantID, typ, rid, old, sqlfilter.Flatten(rev.Doc, rt)); err != nil {
			return nil, err
		}
	}
	w.change(typ, cur.ID, store.OpUpdate, sqlstore.UpdateDetail(cur.Doc, rev))
	if err := w.addMembers(ctx, rid, rev.Added); err != nil {
		return nil, err
	}
	if err := w.removeMembers(ctx, rid, rev.Removed); err != nil {
		return nil, err
	}
	rev.Apply(cur, w.now)
	return cur, nil
}

// Delete removes a resource, its memberships both ways and its assignments
// to applications. Each group that loses it as a member gets a new version
// and an OpUpdate; each member of a deleted group gets an OpMembership.
func (s *Store) Delete(ctx context.Context, tenantID, typ, id string, ifVersion int64) error {
	if _, err := s.resourceType(typ); err != nil {
		return err
	}
	return s.write(ctx, tenantID, func(w *wtx) error {
		var rid, version int64
		err := w.QueryRow(ctx, `SELECT rid, version FROM resources WHERE tenant_id = $1 AND type = $2 AND id = $3
			FOR UPDATE`, tenantID, typ, id).Scan(&rid, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return sqlstore.ResourceNotFound(typ, id)
		}
		if err != nil {
			return fmt.Errorf("postgres: delete %s %s: %w", typ, id, err)
		}
		if err := sqlstore.CheckVersion(typ, id, version, ifVersion); err != nil {
			return err
		}
		w.change(typ, id, store.OpDelete, store.ChangeDetail{})
		groups, err := related(ctx, w, `UPDATE resources g SET version = version + 1, last_modified = $2
			FROM memberships m WHERE m.member_rid = $1 AND g.rid = m.group_rid RETURNING g.rid, g.id, g.type, g.display`,
			rid, timeText(w.now))
		if err != nil {
			return err
		}
		for _, g := range groups {
			w.change(store.GroupType, g.ID, store.OpUpdate, sqlstore.LeftDetail(typ, id))
		}
		members, err := related(ctx, w, `SELECT o.rid, o.id, o.type, o.display FROM memberships m
			JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = $1 ORDER BY o.id`, rid)
		if err != nil {
			return err
		}
		for _, m := range members {
			w.change(m.Type, m.ID, store.OpMembership, store.ChangeDetail{})
		}
		for _, q := range []string{
			`DELETE FROM memberships WHERE member_rid = $1`,
			`DELETE FROM memberships WHERE group_rid = $1`,
			`DELETE FROM app_assignments WHERE principal_rid = $1`,
			`DELETE FROM attribute_values WHERE rid = $1`,
			`DELETE FROM resources WHERE rid = $1`,
		} {
			if _, err := w.Exec(ctx, q, rid); err != nil {
				return fmt.Errorf("postgres: delete %s %s: %w", typ, id, err)
			}
		}
		w.counts[typ]--
		return nil
	})
}

// writeError turns a failed insert or update of a resources row into the
// client error it stands for.
func writeError(err error, op, tenantID, typ, id string, doc resource.Document) error {
	switch code, constraint := pgCode(err); {
	case code == foreignKeyViolation:
		return sqlstore.TenantNotFound(tenantID)
	case code == uniqueViolation && constraint == "resources_name_key":
		return sqlstore.NameTaken(typ, doc)
	case code == uniqueViolation:
		return sqlstore.IDTaken(id)
	}
	return fmt.Errorf("postgres: %s %s %s: %w", op, typ, id, err)
}

// --- memberships --------------------------------------------------------------

// resolveMembers finds the resources the members name in the tenant (see
// sqlstore.ResolveMembers), in one statement. It locks their rows against
// deletion (FOR KEY SHARE) until the write commits, so that a member
// deleted concurrently is either found gone here or deleted after.
func (w *wtx) resolveMembers(ctx context.Context, tenantID string, groupRID int64, ms []store.Member) ([]sqlstore.Member, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	keys, err := sqlstore.MemberKeys(ms)
	if err != nil {
		return nil, err
	}
	rows, err := w.Query(ctx, `SELECT rid, id, type, display FROM resources
		WHERE tenant_id = $1 AND id_key = ANY($2) ORDER BY rid FOR KEY SHARE`, tenantID, keys)
	if err != nil {
		return nil, fmt.Errorf("postgres: resolve members: %w", err)
	}
	found, err := sqlstore.ScanAll(rows, sqlstore.ScanMember)
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("postgres: resolve members: %w", err)
	}
	byKey := make(map[string]sqlstore.Member, len(found))
	for _, m := range found {
		byKey[sqlfilter.FoldKey(m.ID)] = m
	}
	return sqlstore.ResolveMembers(ms, groupRID, func(id string) (sqlstore.Member, bool, error) {
		m, ok := byKey[sqlfilter.FoldKey(id)]
		return m, ok, nil
	})
}

func (w *wtx) addMembers(ctx context.Context, groupRID int64, ms []sqlstore.Member) error {
	if len(ms) == 0 {
		return nil
	}
	rids := make([]int64, len(ms))
	for i, m := range ms {
		rids[i] = m.RID
		w.change(m.Type, m.ID, store.OpMembership, store.ChangeDetail{})
	}
	if _, err := w.Exec(ctx, `INSERT INTO memberships (group_rid, member_rid) SELECT $1, unnest($2::bigint[])`,
		groupRID, rids); err != nil {
		return fmt.Errorf("postgres: add members: %w", err)
	}
	return nil
}

func (w *wtx) removeMembers(ctx context.Context, groupRID int64, ms []sqlstore.Member) error {
	if len(ms) == 0 {
		return nil
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = sqlfilter.FoldKey(m.ID)
		w.change(m.Type, m.ID, store.OpMembership, store.ChangeDetail{})
	}
	if _, err := w.Exec(ctx, `DELETE FROM memberships WHERE group_rid = $1 AND member_rid IN
		(SELECT rid FROM resources WHERE tenant_id = $2 AND id_key = ANY($3))`, groupRID, w.tenant, keys); err != nil {
		return fmt.Errorf("postgres: remove members: %w", err)
	}
	return nil
}

// related runs a query returning (rid, id, type, display) rows of
// resources on the other side of memberships.
func related(ctx context.Context, w *wtx, query string, args ...any) ([]sqlstore.Member, error) {
	rows, err := w.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read memberships: %w", err)
	}
	defer rows.Close()
	return sqlstore.ScanAll(rows, sqlstore.ScanMember)
}

// --- attribute values -------------------------------------------------------------

// values reads a resource's attribute_values rows.
func (w *wtx) values(ctx context.Context, rid int64) ([]sqlstore.Value, error) {
	rows, err := w.Query(ctx, `SELECT vid, aid, elem, kind, val, eqv, num, fts FROM attribute_values WHERE rid = $1`, rid)
	if err != nil {
		return nil, fmt.Errorf("postgres: read attribute values: %w", err)
	}
	defer rows.Close()
	vs, err := sqlstore.ScanAll(rows, sqlstore.ScanValue)
	if err != nil {
		return nil, fmt.Errorf("postgres: read attribute values: %w", err)
	}
	return vs, nil
}

// insertValues makes a resource's attribute_values rows the ones in rows,
// given the rows it has now (old): rows already there stay, the others are
// deleted or inserted (sqlstore.DiffValues).
func (w *wtx) insertValues(ctx context.Context, tenantID, typ string, rid int64, old []sqlstore.Value, rows []sqlfilter.Row) error {
	paths := make([]string, len(rows))
	for i, r := range rows {
		paths[i] = r.Path
	}
	aids, err := w.aids(ctx, tenantID, typ, paths)
	if err != nil {
		return err
	}
	next := make([]sqlstore.Value, 0, len(rows))
	for _, r := range rows {
		next = append(next, sqlstore.NewValue(aids[r.Path], r))
	}
	next, gone := sqlstore.DiffValues(old, next)
	if len(gone) > 0 {
		if _, err := w.Exec(ctx, `DELETE FROM attribute_values WHERE rid = $1 AND vid = ANY($2)`, rid, gone); err != nil {
			return fmt.Errorf("postgres: delete attribute values: %w", err)
		}
	}
	if len(next) == 0 {
		return nil
	}
	n := len(next)
	aidCol, elems, kinds := make([]int64, n), make([]int32, n), make([]int32, n)
	vals, eqvs, nums := make([]*string, n), make([]*string, n), make([]*string, n)
	fts := make([]bool, n)
	for i, v := range next {
		aidCol[i], elems[i], kinds[i] = v.AID, int32(v.Elem), int32(v.Kind)
		vals[i], eqvs[i], nums[i], fts[i] = nullString(v.Val), nullString(v.Eqv), nullString(v.Num), v.FTS
	}
	if _, err := w.Exec(ctx, `INSERT INTO attribute_values (rid, aid, elem, kind, val, eqv, num, fts)
		SELECT $1, * FROM unnest($2::bigint[], $3::integer[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::boolean[])`,
		rid, aidCol, elems, kinds, vals, eqvs, nums, fts); err != nil {
		return fmt.Errorf("postgres: insert attribute values: %w", err)
	}
	return nil
}
