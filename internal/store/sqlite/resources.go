package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// Create stores a new resource and sets its ID (when empty), Version,
// Created and LastModified.
//
// Ids are unique within a tenant across both types, ignoring case, so that
// a member id names one resource. For a group, each member id must name a
// resource of the tenant (matched ignoring case, as members.value is not
// caseExact); the members' ID, Type and Display are then set from the
// stored resources, whatever the caller gave. Members of a User and Groups
// are ignored. Keys of Doc that the store manages (id, meta, members or
// groups) are not stored.
func (s *Store) Create(ctx context.Context, r *store.Resource) error {
	e, err := s.encode(ctx, r)
	if err != nil {
		return err
	}
	c := *r
	if err := s.write(ctx, func(w *wtx) error { return w.create(ctx, &c, e) }); err != nil {
		return err
	}
	*r = c
	return nil
}

// encoded is what a create writes that its resource alone decides, given
// the tenant's resource type rt: the stored document, its index rows and,
// without members, the change detail's text.
type encoded struct {
	rt     *schema.ResourceType
	doc    sqlstore.Document
	rows   []sqlfilter.Row
	detail any // nil when the detail names members, which the write resolves
}

// encode makes what a create of r writes, against the tenant's schemas as
// a read sees them now. Create calls it in the caller's goroutine, so that
// the one writer goroutine spends its time on SQL only; the write checks
// that the schemas are still those (wtx.create).
func (s *Store) encode(ctx context.Context, r *store.Resource) (encoded, error) {
	rt, err := s.readType(ctx, r.TenantID, r.Type)
	if err != nil {
		return encoded{}, err
	}
	return encodeAs(rt, r)
}

// encodeAs makes what a create of r writes, as a resource of type rt.
func encodeAs(rt *schema.ResourceType, r *store.Resource) (encoded, error) {
	d, err := sqlstore.NewDocument(rt, r.Doc)
	if err != nil {
		return encoded{}, fmt.Errorf("sqlite: create %s: %w", r.Type, err)
	}
	e := encoded{rt: rt, doc: d, rows: sqlfilter.Flatten(d.Doc, rt)}
	if len(r.Members) == 0 {
		if e.detail, err = sqlstore.DetailText(sqlstore.CreateDetail(d.Doc, nil)); err != nil {
			return encoded{}, fmt.Errorf("sqlite: create %s: %w", r.Type, err)
		}
	}
	return e, nil
}

// create inserts r, encoded as e, setting the fields Create sets.
func (w *wtx) create(ctx context.Context, r *store.Resource, e encoded) error {
	rt, err := w.tenantType(ctx, r.TenantID, r.Type)
	if err != nil {
		return err
	}
	if rt != e.rt {
		// The tenant's schemas changed since e was made: what is written
		// follows the ones this transaction sees.
		if e, err = encodeAs(rt, r); err != nil {
			return err
		}
	}
	id := r.ID
	if id == "" {
		id = store.NewID()
	}
	d := e.doc
	// Everything that can fail for the client is checked before the
	// first write (see writer.go): the members, then the insert, whose
	// only failure is a uniqueness violation.
	var members []sqlstore.Member
	if r.Type == store.GroupType {
		if members, err = w.resolveMembers(ctx, r.TenantID, 0, r.Members); err != nil {
			return err
		}
	}
	res, err := w.ExecContext(ctx, `INSERT INTO resources
		(tenant_id, type, id, id_key, name_key, display, version, created_at, last_modified, doc)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, ?8)`,
		r.TenantID, r.Type, id, sqlfilter.FoldKey(id), d.NameKey, d.Display, timeText(w.now), d.JSON)
	if err != nil {
		return writeError(err, "create", r.TenantID, r.Type, id, d.Doc)
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create %s %s: %w", r.Type, id, err)
	}
	if err := w.insertValues(ctx, r.TenantID, r.Type, rid, nil, e.rows); err != nil {
		return err
	}
	detail := e.detail
	if detail == nil {
		if detail, err = sqlstore.DetailText(sqlstore.CreateDetail(d.Doc, members)); err != nil {
			return fmt.Errorf("sqlite: record change: %w", err)
		}
	}
	if err := w.changeText(ctx, r.TenantID, r.Type, id, store.OpCreate, detail); err != nil {
		return err
	}
	group := sqlstore.Member{RID: rid, ID: id, Type: r.Type, Display: d.Display}
	if err := w.addMembers(ctx, r.TenantID, group, members); err != nil {
		return err
	}
	if err := w.count(ctx, r.TenantID, r.Type, 1); err != nil {
		return err
	}
	sqlstore.SetCreated(r, id, w.now, members, d)
	w.wroteRow(r, d, true)
	return nil
}

// Get reads one resource, or returns store.ErrNotFound.
func (s *Store) Get(ctx context.Context, tenantID, typ, id string, opts store.ReadOptions) (*store.Resource, error) {
	if _, err := s.resourceType(typ); err != nil {
		return nil, err
	}
	// One statement reads one snapshot, so a GET needs no transaction
	// (which would cost two more round trips through the driver): the
	// memberships come along as a JSON column of the same statement.
	c, err := s.r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.r.release(c)
	query := `SELECT ` + sqlstore.ResourceColumns
	var edges *string
	if opts.Members {
		edgesOfRow := membersOfRow
		if typ == store.UserType {
			edgesOfRow = groupsOfRow
		}
		query += `, (` + edgesOfRow + `)`
		edges = new(string)
	}
	var extra []any
	var schemasVersion int64
	if opts.SchemasVersion {
		query += `, ` + sqlstore.SchemasVersionColumn("?1")
		extra = append(extra, &schemasVersion)
	}
	res, _, err := sqlstore.ScanResource(c.QueryRowContext(ctx, query+`
		FROM resources r WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`, tenantID, typ, id), edges, opts.Encoded, extra...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlstore.ResourceNotFound(typ, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s %s: %w", typ, id, err)
	}
	res.SchemasVersion = schemasVersion
	return res, nil
}

// membersOfRow and groupsOfRow are correlated subqueries giving a group's
// members, or a user's groups, of the resources row r as a JSON array of
// [id, type, display] (sqlstore.DecodeEdges), in id order (as loadMembers
// orders them).
const (
	membersOfRow = `SELECT json_group_array(json_array(id, type, display)) FROM (SELECT o.id, o.type, o.display
		FROM memberships m JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = r.rid ORDER BY o.id)`
	groupsOfRow = `SELECT json_group_array(json_array(id, type, display)) FROM (SELECT g.id, g.type, g.display
		FROM memberships m JOIN resources g ON g.rid = m.group_rid WHERE m.member_rid = r.rid ORDER BY g.id)`
)

// Update reads the resource with its members, applies change and writes the
// result, in one transaction. Members of a group are resolved as in
// Create. When change leaves Doc and the members as they were, nothing is
// written: neither the version nor the change feed moves. change must only
// modify the resource it is given: in the rare case of a batch of writes
// failing with an I/O error it is called again, on a fresh copy.
func (s *Store) Update(ctx context.Context, tenantID, typ, id string, ifVersion int64, change func(*store.Resource) error) (*store.Resource, error) {
	if _, err := s.resourceType(typ); err != nil {
		return nil, err
	}
	var out *store.Resource
	err := s.write(ctx, func(w *wtx) error {
		rt, err := w.tenantType(ctx, tenantID, typ)
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
	cur, rid, err := load(ctx, w, tenantID, typ, id, true, false)
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
	_, err = w.ExecContext(ctx, `UPDATE resources SET version = version + 1, last_modified = ?2,
		name_key = ?3, display = ?4, doc = ?5 WHERE rid = ?1`,
		rid, timeText(w.now), rev.NameKey, rev.Display, rev.JSON)
	if err != nil {
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
	if err := w.change(ctx, tenantID, typ, cur.ID, store.OpUpdate, sqlstore.UpdateDetail(cur.Doc, rev)); err != nil {
		return nil, err
	}
	group := sqlstore.Member{RID: rid, ID: cur.ID, Type: typ, Display: rev.Display}
	if err := w.addMembers(ctx, tenantID, group, rev.Added); err != nil {
		return nil, err
	}
	if err := w.removeMembers(ctx, tenantID, group, rev.Removed); err != nil {
		return nil, err
	}
	rev.Apply(cur, w.now)
	w.wroteRow(cur, rev.Document, false)
	return cur, nil
}

// Delete removes a resource, its memberships both ways and its assignments
// to applications. Each group that loses it as a member gets a new version
// and an OpUpdate; each member of a deleted group gets an OpMembership.
func (s *Store) Delete(ctx context.Context, tenantID, typ, id string, ifVersion int64) error {
	if _, err := s.resourceType(typ); err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		var rid, version int64
		err := w.QueryRowContext(ctx, `SELECT rid, version FROM resources WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`,
			tenantID, typ, id).Scan(&rid, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.ResourceNotFound(typ, id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete %s %s: %w", typ, id, err)
		}
		if err := sqlstore.CheckVersion(typ, id, version, ifVersion); err != nil {
			return err
		}
		if err := w.change(ctx, tenantID, typ, id, store.OpDelete, store.ChangeDetail{}); err != nil {
			return err
		}
		groups, err := related(ctx, w, `SELECT g.rid, g.id, g.type, g.display FROM memberships m
			JOIN resources g ON g.rid = m.group_rid WHERE m.member_rid = ?1 ORDER BY g.id`, rid)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := w.ExecContext(ctx, `UPDATE resources SET version = version + 1, last_modified = ?2 WHERE rid = ?1`,
				g.RID, timeText(w.now)); err != nil {
				return fmt.Errorf("sqlite: delete %s %s: %w", typ, id, err)
			}
			if err := w.change(ctx, tenantID, store.GroupType, g.ID, store.OpUpdate, sqlstore.LeftDetail(typ, id)); err != nil {
				return err
			}
		}
		members, err := related(ctx, w, `SELECT o.rid, o.id, o.type, o.display FROM memberships m
			JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = ?1 ORDER BY o.id`, rid)
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := w.change(ctx, tenantID, m.Type, m.ID, store.OpMembership, store.ChangeDetail{}); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM memberships WHERE member_rid = ?1`,
			`DELETE FROM memberships WHERE group_rid = ?1`,
			`DELETE FROM app_assignments WHERE principal_rid = ?1`,
			`DELETE FROM attribute_values WHERE rid = ?1`,
			`DELETE FROM resources WHERE rid = ?1`,
		} {
			if _, err := w.ExecContext(ctx, q, rid); err != nil {
				return fmt.Errorf("sqlite: delete %s %s: %w", typ, id, err)
			}
		}
		return w.count(ctx, tenantID, typ, -1)
	})
}

// writeError turns a failed insert or update of a resources row into the
// client error it stands for.
func writeError(err error, op, tenantID, typ, id string, doc resource.Document) error {
	switch {
	case isForeignKey(err):
		return sqlstore.TenantNotFound(tenantID)
	case isUnique(err) && strings.Contains(err.Error(), "name_key"):
		return sqlstore.NameTaken(typ, doc)
	case isUnique(err):
		return sqlstore.IDTaken(id)
	}
	return fmt.Errorf("sqlite: %s %s %s: %w", op, typ, id, err)
}

// querier is what reads need: a read or a write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// load reads one resource, with its members or groups when asked, its
// document left encoded when asked (store.ReadOptions.Encoded).
func load(ctx context.Context, q querier, tenantID, typ, id string, withMembers, encoded bool) (*store.Resource, int64, error) {
	res, rid, err := sqlstore.ScanResource(q.QueryRowContext(ctx, `SELECT `+sqlstore.ResourceColumns+` FROM resources r
		WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`, tenantID, typ, id), nil, encoded)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, sqlstore.ResourceNotFound(typ, id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: read %s %s: %w", typ, id, err)
	}
	if withMembers {
		if err := loadMembers(ctx, q, map[int64]*store.Resource{rid: res}); err != nil {
			return nil, 0, err
		}
	}
	return res, rid, nil
}

// loadMembers fills the members of the groups and the groups of the users
// among byRID.
func loadMembers(ctx context.Context, q querier, byRID map[int64]*store.Resource) error {
	var groups, users []any
	for rid, r := range byRID {
		switch r.Type {
		case store.GroupType:
			groups = append(groups, rid)
			r.Members = []store.Member{}
		case store.UserType:
			users = append(users, rid)
			r.Groups = []store.Member{}
		}
	}
	load := func(rids []any, query string, add func(r *store.Resource, m store.Member)) error {
		if len(rids) == 0 {
			return nil
		}
		list, err := json.Marshal(rids)
		if err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, query, string(list))
		if err != nil {
			return fmt.Errorf("sqlite: read memberships: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var rid int64
			var m store.Member
			var display sql.NullString
			if err := rows.Scan(&rid, &m.ID, &m.Type, &display); err != nil {
				return fmt.Errorf("sqlite: read memberships: %w", err)
			}
			m.Display = display.String
			add(byRID[rid], m)
		}
		return rows.Err()
	}
	if err := load(groups, `SELECT m.group_rid, o.id, o.type, o.display FROM memberships m
		JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid IN (SELECT value FROM json_each(?1)) ORDER BY m.group_rid, o.id`,
		func(r *store.Resource, m store.Member) { r.Members = append(r.Members, m) }); err != nil {
		return err
	}
	return load(users, `SELECT m.member_rid, g.id, g.type, g.display FROM memberships m
		JOIN resources g ON g.rid = m.group_rid WHERE m.member_rid IN (SELECT value FROM json_each(?1)) ORDER BY m.member_rid, g.id`,
		func(r *store.Resource, m store.Member) { r.Groups = append(r.Groups, m) })
}

// --- memberships ------------------------------------------------------------

// resolveMembers finds the resources the members name in the tenant (see
// sqlstore.ResolveMembers).
func (w *wtx) resolveMembers(ctx context.Context, tenantID string, groupRID int64, ms []store.Member) ([]sqlstore.Member, error) {
	return sqlstore.ResolveMembers(ms, groupRID, func(id string) (sqlstore.Member, bool, error) {
		m, err := sqlstore.ScanMember(w.QueryRowContext(ctx, `SELECT rid, id, type, display FROM resources
			WHERE tenant_id = ?1 AND id_key = ?2`, tenantID, sqlfilter.FoldKey(id)))
		if errors.Is(err, sql.ErrNoRows) {
			return sqlstore.Member{}, false, nil
		}
		if err != nil {
			return sqlstore.Member{}, false, fmt.Errorf("sqlite: resolve member %s: %w", id, err)
		}
		return m, true, nil
	})
}

func (w *wtx) addMembers(ctx context.Context, tenantID string, group sqlstore.Member, ms []sqlstore.Member) error {
	// A group created or extended with thousands of members (an import's
	// groups) writes its rows by a few statements rather than two per
	// member; each member's OpMembership entry keeps the members' order.
	at := timeText(w.now)
	for len(ms) > 0 {
		n := min(len(ms), maxRowsPerInsert)
		links := make([]any, 0, 2*n)
		changes := make([]any, 0, 5*n)
		for _, m := range ms[:n] {
			links = append(links, group.RID, m.RID)
			changes = append(changes, tenantID, m.Type, m.ID, string(store.OpMembership), at)
		}
		if _, err := w.ExecContext(ctx, insertRowsSQL("INSERT INTO memberships (group_rid, member_rid)", 2, n), links...); err != nil {
			return fmt.Errorf("sqlite: add members: %w", err)
		}
		if _, err := w.ExecContext(ctx, insertRowsSQL("INSERT INTO changes (tenant_id, type, id, op, at)", 5, n), changes...); err != nil {
			return fmt.Errorf("sqlite: record change: %w", err)
		}
		for _, m := range ms[:n] {
			w.changed(tenantID, m.Type, m.ID, store.OpMembership)
		}
		w.wroteEdges(tenantID, group, ms[:n], false)
		ms = ms[n:]
	}
	return nil
}

func (w *wtx) removeMembers(ctx context.Context, tenantID string, group sqlstore.Member, ms []sqlstore.Member) error {
	for _, m := range ms {
		if _, err := w.ExecContext(ctx, `DELETE FROM memberships WHERE group_rid = ?1
			AND member_rid = (SELECT rid FROM resources WHERE tenant_id = ?2 AND id_key = ?3)`,
			group.RID, tenantID, sqlfilter.FoldKey(m.ID)); err != nil {
			return fmt.Errorf("sqlite: remove member %s: %w", m.ID, err)
		}
		if err := w.change(ctx, tenantID, m.Type, m.ID, store.OpMembership, store.ChangeDetail{}); err != nil {
			return err
		}
	}
	w.wroteEdges(tenantID, group, ms, true)
	return nil
}

// related reads the resources on the other side of memberships: rows of
// (rid, id, type, display).
func related(ctx context.Context, q querier, query string, rid int64) ([]sqlstore.Member, error) {
	rows, err := q.QueryContext(ctx, query, rid)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read memberships: %w", err)
	}
	defer rows.Close()
	return sqlstore.ScanAll(rows, sqlstore.ScanMember)
}

// count moves a tenant's resource count.
func (w *wtx) count(ctx context.Context, tenantID, typ string, delta int) error {
	_, err := w.ExecContext(ctx, `INSERT INTO resource_counts (tenant_id, type, n) VALUES (?1, ?2, ?3)
		ON CONFLICT (tenant_id, type) DO UPDATE SET n = n + excluded.n`, tenantID, typ, delta)
	if err != nil {
		return fmt.Errorf("sqlite: count %s: %w", typ, err)
	}
	return nil
}

// --- attribute values ---------------------------------------------------------

// values reads a resource's attribute_values rows.
func (w *wtx) values(ctx context.Context, rid int64) ([]sqlstore.Value, error) {
	rows, err := w.QueryContext(ctx, `SELECT rowid, aid, elem, kind, val, eqv, num, fts FROM attribute_values WHERE rid = ?1`, rid)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read attribute values: %w", err)
	}
	defer rows.Close()
	vs, err := sqlstore.ScanAll(rows, sqlstore.ScanValue)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read attribute values: %w", err)
	}
	return vs, nil
}

// maxRowsPerInsert bounds the rows of one multi-row insert: a typical
// user has fewer attribute values, so they go in at once, and no insert
// nears SQLite's limit of 32,766 parameters.
const maxRowsPerInsert = 32

// insertRowsSQL is head (an INSERT with its column list) with rows rows
// of cols parameters each.
func insertRowsSQL(head string, cols, rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + "),"
	return head + " VALUES " + strings.TrimSuffix(strings.Repeat(row, rows), ",")
}

// insertValues makes a resource's attribute_values rows the ones in rows,
// given the rows it has now (old): rows already there stay, the others are
// deleted or inserted (sqlstore.DiffValues).
func (w *wtx) insertValues(ctx context.Context, tenantID, typ string, rid int64, old []sqlstore.Value, rows []sqlfilter.Row) error {
	next := make([]sqlstore.Value, 0, len(rows))
	for _, r := range rows {
		aid, err := w.aid(ctx, sqlstore.PathKey{Tenant: tenantID, Type: typ, Path: r.Path})
		if err != nil {
			return err
		}
		next = append(next, sqlstore.NewValue(aid, r))
	}
	next, gone := sqlstore.DiffValues(old, next)
	for _, id := range gone {
		if _, err := w.ExecContext(ctx, `DELETE FROM attribute_values WHERE rowid = ?1`, id); err != nil {
			return fmt.Errorf("sqlite: delete attribute value: %w", err)
		}
	}
	// Rows go in by one statement of up to maxRowsPerInsert rows: a
	// statement's fixed cost (its savepoint, the trigger's pending-list
	// insert being prepared) outweighs keeping one prepared statement per
	// row count.
	for len(next) > 0 {
		n := min(len(next), maxRowsPerInsert)
		args := make([]any, 0, 8*n)
		for _, v := range next[:n] {
			args = append(args, rid, v.AID, v.Elem, v.Kind, v.Val, v.Eqv, v.Num, v.FTS)
		}
		if _, err := w.ExecContext(ctx, insertRowsSQL("INSERT INTO attribute_values (rid, aid, elem, kind, val, eqv, num, fts)", 8, n), args...); err != nil {
			return fmt.Errorf("sqlite: insert attribute values: %w", err)
		}
		next = next[n:]
	}
	return nil
}
