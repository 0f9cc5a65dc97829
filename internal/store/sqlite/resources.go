package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
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
	c := *r
	if err := s.write(ctx, func(w *wtx) error { return w.create(ctx, &c) }); err != nil {
		return err
	}
	*r = c
	return nil
}

// create inserts r, setting the fields Create sets.
func (w *wtx) create(ctx context.Context, r *store.Resource) error {
	rt, err := w.s.resourceType(r.Type)
	if err != nil {
		return err
	}
	id := r.ID
	if id == "" {
		id = store.NewID()
	}
	doc := sqlfilter.StoredDoc(r.Doc, rt)
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: encode document: %w", r.Type, err)
	}
	nameKey, display := sqlfilter.Names(r.Type, doc)
	// Everything that can fail for the client is checked before the
	// first write (see writer.go): the members, then the insert, whose
	// only failure is a uniqueness violation.
	var members []member
	if r.Type == store.GroupType {
		if members, err = w.resolveMembers(ctx, r.TenantID, 0, r.Members); err != nil {
			return err
		}
	}
	res, err := w.ExecContext(ctx, `INSERT INTO resources
		(tenant_id, type, id, id_key, name_key, display, version, created_at, last_modified, doc)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, ?8)`,
		r.TenantID, r.Type, id, sqlfilter.FoldKey(id), nameKey, display, timeText(w.now), string(docJSON))
	if err != nil {
		return writeError(err, "create", r.TenantID, r.Type, id, doc)
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create %s %s: %w", r.Type, id, err)
	}
	if err := w.insertValues(ctx, r.TenantID, r.Type, rid, nil, sqlfilter.Flatten(doc, rt)); err != nil {
		return err
	}
	if err := w.change(ctx, r.TenantID, r.Type, id, store.OpCreate); err != nil {
		return err
	}
	if r.Type == store.GroupType {
		if err := w.addMembers(ctx, r.TenantID, rid, members); err != nil {
			return err
		}
		r.Members = memberList(members)
	}
	if err := w.count(ctx, r.TenantID, r.Type, 1); err != nil {
		return err
	}
	r.ID = id
	r.Version = 1
	r.Created = w.now
	r.LastModified = w.now
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
	if !opts.Members {
		res, _, err := load(ctx, c, tenantID, typ, id, false)
		return res, err
	}
	edges := membersOfRow
	if typ == store.UserType {
		edges = groupsOfRow
	}
	var list string
	res, _, err := scanResource(c.QueryRowContext(ctx, `SELECT `+resourceColumns+`, (`+edges+`) FROM resources r
		WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`, tenantID, typ, id), &list)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("%s %q not found", typ, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s %s: %w", typ, id, err)
	}
	if err := setEdges(res, list); err != nil {
		return nil, fmt.Errorf("sqlite: read memberships of %s %s: %w", typ, id, err)
	}
	return res, nil
}

// setEdges sets a user's groups, or a group's members, from the JSON of
// groupsOfRow or membersOfRow.
func setEdges(r *store.Resource, list string) error {
	ms, err := sqlfilter.DecodeEdges(list)
	if err != nil {
		return err
	}
	if r.Type == store.UserType {
		r.Groups = ms
	} else {
		r.Members = ms
	}
	return nil
}

// membersOfRow and groupsOfRow are correlated subqueries giving a group's
// members, or a user's groups, of the resources row r as a JSON array of
// [id, type, display], in id order (as loadMembers orders them).
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
	rt, err := s.resourceType(typ)
	if err != nil {
		return nil, err
	}
	var out *store.Resource
	err = s.write(ctx, func(w *wtx) error {
		cur, rid, err := load(ctx, w, tenantID, typ, id, true)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return sqlfilter.VersionMismatch(typ, id, cur.Version, ifVersion)
		}
		next := cloneResource(cur)
		if err := change(next); err != nil {
			return err
		}
		doc := sqlfilter.StoredDoc(next.Doc, rt)
		oldJSON, err := json.Marshal(sqlfilter.StoredDoc(cur.Doc, rt))
		if err != nil {
			return err
		}
		docJSON, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("sqlite: update %s %s: encode document: %w", typ, id, err)
		}
		var added, removed, members []member
		if typ == store.GroupType {
			if members, err = w.resolveMembers(ctx, tenantID, rid, next.Members); err != nil {
				return err
			}
			added, removed = diffMembers(cur.Members, members)
		}
		if string(oldJSON) == string(docJSON) && len(added) == 0 && len(removed) == 0 {
			out = cur
			return errNoChange
		}
		nameKey, display := sqlfilter.Names(typ, doc)
		_, err = w.ExecContext(ctx, `UPDATE resources SET version = version + 1, last_modified = ?2,
			name_key = ?3, display = ?4, doc = ?5 WHERE rid = ?1`,
			rid, timeText(w.now), nameKey, display, string(docJSON))
		if err != nil {
			return writeError(err, "update", tenantID, typ, id, doc)
		}
		if string(oldJSON) != string(docJSON) {
			old, err := w.values(ctx, rid)
			if err != nil {
				return err
			}
			if err := w.insertValues(ctx, tenantID, typ, rid, old, sqlfilter.Flatten(doc, rt)); err != nil {
				return err
			}
		}
		if err := w.change(ctx, tenantID, typ, cur.ID, store.OpUpdate); err != nil {
			return err
		}
		if err := w.addMembers(ctx, tenantID, rid, added); err != nil {
			return err
		}
		if err := w.removeMembers(ctx, tenantID, rid, removed); err != nil {
			return err
		}
		out = cur
		out.Doc = doc
		out.Version++
		out.LastModified = w.now
		if typ == store.GroupType {
			out.Members = memberList(members)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
			return store.NotFound("%s %q not found", typ, id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete %s %s: %w", typ, id, err)
		}
		if ifVersion != 0 && version != ifVersion {
			return sqlfilter.VersionMismatch(typ, id, version, ifVersion)
		}
		if err := w.change(ctx, tenantID, typ, id, store.OpDelete); err != nil {
			return err
		}
		groups, err := related(ctx, w, `SELECT g.rid, g.id, g.type, g.display FROM memberships m
			JOIN resources g ON g.rid = m.group_rid WHERE m.member_rid = ?1 ORDER BY g.id`, rid)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := w.ExecContext(ctx, `UPDATE resources SET version = version + 1, last_modified = ?2 WHERE rid = ?1`,
				g.rid, timeText(w.now)); err != nil {
				return fmt.Errorf("sqlite: delete %s %s: %w", typ, id, err)
			}
			if err := w.change(ctx, tenantID, store.GroupType, g.id, store.OpUpdate); err != nil {
				return err
			}
		}
		members, err := related(ctx, w, `SELECT o.rid, o.id, o.type, o.display FROM memberships m
			JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = ?1 ORDER BY o.id`, rid)
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := w.change(ctx, tenantID, m.typ, m.id, store.OpMembership); err != nil {
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
		return store.NotFound("tenant %q not found", tenantID)
	case isUnique(err) && strings.Contains(err.Error(), "name_key"):
		return sqlfilter.NameTaken(typ, doc)
	case isUnique(err):
		return store.Errorf(store.ErrIDTaken, "id %q is already taken", id)
	}
	return fmt.Errorf("sqlite: %s %s %s: %w", op, typ, id, err)
}

func cloneResource(r *store.Resource) *store.Resource {
	c := *r
	c.Doc = r.Doc.Clone()
	c.Members = append([]store.Member(nil), r.Members...)
	c.Groups = append([]store.Member(nil), r.Groups...)
	return &c
}

// querier is what reads need: a read or a write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const resourceColumns = `rid, tenant_id, type, id, version, created_at, last_modified, doc`

// scanResource reads a row of resourceColumns, and of extra columns after
// them into extra.
func scanResource(row interface{ Scan(...any) error }, extra ...any) (*store.Resource, int64, error) {
	var r store.Resource
	var rid int64
	var created, modified, doc string
	dest := append([]any{&rid, &r.TenantID, &r.Type, &r.ID, &r.Version, &created, &modified, &doc}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, 0, err
	}
	var err error
	if r.Created, err = parseTime(created); err != nil {
		return nil, 0, err
	}
	if r.LastModified, err = parseTime(modified); err != nil {
		return nil, 0, err
	}
	if r.Doc, err = resource.Decode([]byte(doc)); err != nil {
		return nil, 0, err
	}
	return &r, rid, nil
}

// load reads one resource, with its members or groups when asked.
func load(ctx context.Context, q querier, tenantID, typ, id string, withMembers bool) (*store.Resource, int64, error) {
	res, rid, err := scanResource(q.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE tenant_id = ?1 AND type = ?2 AND id = ?3`, tenantID, typ, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, store.NotFound("%s %q not found", typ, id)
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

// member is a resolved membership edge: the member's row.
type member struct {
	rid     int64
	id, typ string
	display sql.NullString
}

func memberList(ms []member) []store.Member {
	out := make([]store.Member, len(ms))
	for i, m := range ms {
		out[i] = store.Member{ID: m.id, Type: m.typ, Display: m.display.String}
	}
	return out
}

// resolveMembers finds the resources the members name in the tenant,
// without duplicates, in the order given.
func (w *wtx) resolveMembers(ctx context.Context, tenantID string, groupRID int64, ms []store.Member) ([]member, error) {
	seen := make(map[int64]bool, len(ms))
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		if m.ID == "" {
			return nil, store.Invalid("a member has no value (id)")
		}
		var r member
		err := w.QueryRowContext(ctx, `SELECT rid, id, type, display FROM resources WHERE tenant_id = ?1 AND id_key = ?2`,
			tenantID, sqlfilter.FoldKey(m.ID)).Scan(&r.rid, &r.id, &r.typ, &r.display)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.Invalid("member %q does not exist", m.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: resolve member %s: %w", m.ID, err)
		}
		if r.rid == groupRID {
			return nil, store.Invalid("group %q cannot be a member of itself", r.id)
		}
		if !seen[r.rid] {
			seen[r.rid] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// diffMembers compares a group's current members with the resolved new
// ones.
func diffMembers(cur []store.Member, next []member) (added, removed []member) {
	have := make(map[string]bool, len(cur))
	for _, m := range cur {
		have[m.ID] = true
	}
	want := make(map[string]bool, len(next))
	for _, m := range next {
		want[m.id] = true
		if !have[m.id] {
			added = append(added, m)
		}
	}
	for _, m := range cur {
		if !want[m.ID] {
			removed = append(removed, member{id: m.ID, typ: m.Type})
		}
	}
	return added, removed
}

func (w *wtx) addMembers(ctx context.Context, tenantID string, groupRID int64, ms []member) error {
	for _, m := range ms {
		if _, err := w.ExecContext(ctx, `INSERT INTO memberships (group_rid, member_rid) VALUES (?1, ?2)`,
			groupRID, m.rid); err != nil {
			return fmt.Errorf("sqlite: add member %s: %w", m.id, err)
		}
		if err := w.change(ctx, tenantID, m.typ, m.id, store.OpMembership); err != nil {
			return err
		}
	}
	return nil
}

func (w *wtx) removeMembers(ctx context.Context, tenantID string, groupRID int64, ms []member) error {
	for _, m := range ms {
		if _, err := w.ExecContext(ctx, `DELETE FROM memberships WHERE group_rid = ?1
			AND member_rid = (SELECT rid FROM resources WHERE tenant_id = ?2 AND id_key = ?3)`,
			groupRID, tenantID, sqlfilter.FoldKey(m.id)); err != nil {
			return fmt.Errorf("sqlite: remove member %s: %w", m.id, err)
		}
		if err := w.change(ctx, tenantID, m.typ, m.id, store.OpMembership); err != nil {
			return err
		}
	}
	return nil
}

// related reads the resources on the other side of memberships.
func related(ctx context.Context, q querier, query string, rid int64) ([]member, error) {
	rows, err := q.QueryContext(ctx, query, rid)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read memberships: %w", err)
	}
	defer rows.Close()
	var out []member
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.rid, &m.id, &m.typ, &m.display); err != nil {
			return nil, fmt.Errorf("sqlite: read memberships: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
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

// storedValue is an attribute_values row as stored.
type storedValue struct {
	rowid int64
	aid   int64
	elem  int64
	kind  int64
	val   sql.NullString
	eqv   sql.NullString
	num   sql.NullString
	fts   bool
}

func (v storedValue) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%d|%d|%t", v.aid, v.elem, v.kind, v.fts)
	for _, s := range []sql.NullString{v.val, v.eqv, v.num} {
		if s.Valid {
			b.WriteString("|s")
			b.WriteString(s.String)
		} else {
			b.WriteString("|n")
		}
	}
	return b.String()
}

// values reads a resource's attribute_values rows.
func (w *wtx) values(ctx context.Context, rid int64) ([]storedValue, error) {
	rows, err := w.QueryContext(ctx, `SELECT rowid, aid, elem, kind, val, eqv, num, fts FROM attribute_values WHERE rid = ?1`, rid)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read attribute values: %w", err)
	}
	defer rows.Close()
	var out []storedValue
	for rows.Next() {
		var v storedValue
		if err := rows.Scan(&v.rowid, &v.aid, &v.elem, &v.kind, &v.val, &v.eqv, &v.num, &v.fts); err != nil {
			return nil, fmt.Errorf("sqlite: read attribute values: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func insertValuesSQL(rows int) string {
	return "INSERT INTO attribute_values (rid, aid, elem, kind, val, eqv, num, fts) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?),", rows), ",")
}

// insertValues makes a resource's attribute_values rows the ones in rows,
// given the rows it has now (old): rows already there stay, the others are
// deleted or inserted. Keeping unchanged rows spares the trigram index.
func (w *wtx) insertValues(ctx context.Context, tenantID, typ string, rid int64, old []storedValue, rows []sqlfilter.Row) error {
	next := make([]storedValue, 0, len(rows))
	for _, r := range rows {
		aid, err := w.aid(ctx, aidKey{tenantID, typ, r.Path})
		if err != nil {
			return err
		}
		next = append(next, storedValue{aid: aid, elem: int64(r.Elem), kind: int64(r.Kind),
			val: r.Val, eqv: r.Eqv, num: r.Num, fts: r.Substring})
	}
	if len(old) > 0 {
		have := make(map[string][]int64, len(old))
		for _, v := range old {
			k := v.key()
			have[k] = append(have[k], v.rowid)
		}
		kept := next[:0]
		for _, v := range next {
			k := v.key()
			if ids := have[k]; len(ids) > 0 {
				have[k] = ids[1:]
				continue
			}
			kept = append(kept, v)
		}
		next = kept
		for _, ids := range have {
			for _, id := range ids {
				if _, err := w.ExecContext(ctx, `DELETE FROM attribute_values WHERE rowid = ?1`, id); err != nil {
					return fmt.Errorf("sqlite: delete attribute value: %w", err)
				}
			}
		}
	}
	// Rows go in by statements of 16, 4 and 1 rows: few executions, and
	// only three statements to keep prepared.
	for len(next) > 0 {
		n := 1
		for _, size := range []int{16, 4} {
			if len(next) >= size {
				n = size
				break
			}
		}
		args := make([]any, 0, 8*n)
		for _, v := range next[:n] {
			args = append(args, rid, v.aid, v.elem, v.kind, v.val, v.eqv, v.num, v.fts)
		}
		if _, err := w.ExecContext(ctx, insertValuesSQL(n), args...); err != nil {
			return fmt.Errorf("sqlite: insert attribute values: %w", err)
		}
		next = next[n:]
	}
	return nil
}
