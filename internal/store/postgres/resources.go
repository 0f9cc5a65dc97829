package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// Create stores a new resource and sets its ID (when empty), Version,
// Created and LastModified. Ids, names and members follow the same rules as
// in the SQLite store (see store.Store).
func (s *Store) Create(ctx context.Context, r *store.Resource) error {
	rt, err := s.resourceType(r.Type)
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
		return fmt.Errorf("postgres: create %s: encode document: %w", r.Type, err)
	}
	nameKey, display := sqlfilter.Names(r.Type, doc)
	rows := sqlfilter.Flatten(doc, rt)
	var members []member
	var now = s.now()
	err = s.write(ctx, r.TenantID, func(w *wtx) error {
		now = w.now
		if r.Type == store.GroupType {
			var err error
			if members, err = w.resolveMembers(ctx, r.TenantID, 0, r.Members); err != nil {
				return err
			}
		}
		var rid int64
		err := w.QueryRow(ctx, `INSERT INTO resources
			(tenant_id, type, id, id_key, name_key, display, version, created_at, last_modified, doc)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8) RETURNING rid`,
			r.TenantID, r.Type, id, sqlfilter.FoldKey(id), nullString(nameKey), nullString(display),
			timeText(w.now), string(docJSON)).Scan(&rid)
		if err != nil {
			return writeError(err, "create", r.TenantID, r.Type, id, doc)
		}
		if err := w.insertValues(ctx, r.TenantID, r.Type, rid, nil, rows); err != nil {
			return err
		}
		w.change(r.Type, id, store.OpCreate)
		if err := w.addMembers(ctx, rid, members); err != nil {
			return err
		}
		w.counts[r.Type]++
		return nil
	})
	if err != nil {
		return err
	}
	r.ID = id
	r.Version = 1
	r.Created = now
	r.LastModified = now
	if r.Type == store.GroupType {
		r.Members = memberList(members)
	}
	return nil
}

// resourceColumns are the columns scanResource reads, of the resources
// row aliased r.
const resourceColumns = `r.rid, r.tenant_id, r.type, r.id, r.version, r.created_at, r.last_modified, r.doc`

// membersOfRow and groupsOfRow are correlated subqueries giving a group's
// members, or a user's groups, of the resources row r as a JSON array of
// [id, type, display] in id order (sqlfilter.DecodeEdges), so that a
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

// scanResource reads a row of resourceColumns, and, when edges is not nil,
// a last column of memberships into it.
func scanResource(row pgx.Row, edges *string) (*store.Resource, int64, error) {
	var r store.Resource
	var rid int64
	var created, modified, doc string
	dest := []any{&rid, &r.TenantID, &r.Type, &r.ID, &r.Version, &created, &modified, &doc}
	if edges != nil {
		dest = append(dest, edges)
	}
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
	if edges != nil {
		ms, err := sqlfilter.DecodeEdges(*edges)
		if err != nil {
			return nil, 0, fmt.Errorf("memberships: %w", err)
		}
		if r.Type == store.UserType {
			r.Groups = ms
		} else {
			r.Members = ms
		}
	}
	return &r, rid, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// load reads one resource, with its memberships when asked. lock takes the
// row for update, in a write.
func load(ctx context.Context, q querier, tenantID, typ, id string, withMembers, lock bool) (*store.Resource, int64, error) {
	query := `SELECT ` + resourceColumns
	var edges *string
	if withMembers {
		query += `, (` + edgesOf(typ) + `)`
		edges = new(string)
	}
	query += ` FROM resources r WHERE r.tenant_id = $1 AND r.type = $2 AND r.id = $3`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	res, rid, err := scanResource(q.QueryRow(ctx, query, tenantID, typ, id), edges)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, store.NotFound("%s %q not found", typ, id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: read %s %s: %w", typ, id, err)
	}
	return res, rid, nil
}

// Get reads one resource, or returns store.ErrNotFound.
func (s *Store) Get(ctx context.Context, tenantID, typ, id string, opts store.ReadOptions) (*store.Resource, error) {
	if _, err := s.resourceType(typ); err != nil {
		return nil, err
	}
	res, _, err := load(ctx, s.pool, tenantID, typ, id, opts.Members, false)
	return res, err
}

// Update reads the resource with its members, locked, applies change and
// writes the result, in one transaction; see store.Store. change may be
// called more than once, on a fresh copy each time, when PostgreSQL aborts
// the transaction for a deadlock and it is run again.
func (s *Store) Update(ctx context.Context, tenantID, typ, id string, ifVersion int64, change func(*store.Resource) error) (*store.Resource, error) {
	rt, err := s.resourceType(typ)
	if err != nil {
		return nil, err
	}
	var out *store.Resource
	err = s.write(ctx, tenantID, func(w *wtx) error {
		cur, rid, err := load(ctx, w, tenantID, typ, id, true, true)
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
			return fmt.Errorf("postgres: update %s %s: encode document: %w", typ, id, err)
		}
		var added, removed, members []member
		if typ == store.GroupType {
			if members, err = w.resolveMembers(ctx, tenantID, rid, next.Members); err != nil {
				return err
			}
			added, removed = diffMembers(cur.Members, members)
		}
		docChanged := string(oldJSON) != string(docJSON)
		if !docChanged && len(added) == 0 && len(removed) == 0 {
			out = cur
			return errNoChange
		}
		nameKey, display := sqlfilter.Names(typ, doc)
		if _, err := w.Exec(ctx, `UPDATE resources SET version = version + 1, last_modified = $2,
			name_key = $3, display = $4, doc = $5 WHERE rid = $1`,
			rid, timeText(w.now), nullString(nameKey), nullString(display), string(docJSON)); err != nil {
			return writeError(err, "update", tenantID, typ, id, doc)
		}
		if docChanged {
			old, err := w.values(ctx, rid)
			if err != nil {
				return err
			}
			if err := w.insertValues(ctx, tenantID, typ, rid, old, sqlfilter.Flatten(doc, rt)); err != nil {
				return err
			}
		}
		w.change(typ, cur.ID, store.OpUpdate)
		if err := w.addMembers(ctx, rid, added); err != nil {
			return err
		}
		if err := w.removeMembers(ctx, rid, removed); err != nil {
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
	return s.write(ctx, tenantID, func(w *wtx) error {
		var rid, version int64
		err := w.QueryRow(ctx, `SELECT rid, version FROM resources WHERE tenant_id = $1 AND type = $2 AND id = $3
			FOR UPDATE`, tenantID, typ, id).Scan(&rid, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.NotFound("%s %q not found", typ, id)
		}
		if err != nil {
			return fmt.Errorf("postgres: delete %s %s: %w", typ, id, err)
		}
		if ifVersion != 0 && version != ifVersion {
			return sqlfilter.VersionMismatch(typ, id, version, ifVersion)
		}
		w.change(typ, id, store.OpDelete)
		groups, err := related(ctx, w, `UPDATE resources g SET version = version + 1, last_modified = $2
			FROM memberships m WHERE m.member_rid = $1 AND g.rid = m.group_rid RETURNING g.id, g.type`, rid, timeText(w.now))
		if err != nil {
			return err
		}
		for _, g := range groups {
			w.change(store.GroupType, g.id, store.OpUpdate)
		}
		members, err := related(ctx, w, `SELECT o.id, o.type FROM memberships m
			JOIN resources o ON o.rid = m.member_rid WHERE m.group_rid = $1 ORDER BY o.id`, rid)
		if err != nil {
			return err
		}
		for _, m := range members {
			w.change(m.typ, m.id, store.OpMembership)
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
		return store.NotFound("tenant %q not found", tenantID)
	case code == uniqueViolation && constraint == "resources_name_key":
		return sqlfilter.NameTaken(typ, doc)
	case code == uniqueViolation:
		return store.Errorf(store.ErrIDTaken, "id %q is already taken", id)
	}
	return fmt.Errorf("postgres: %s %s %s: %w", op, typ, id, err)
}

func cloneResource(r *store.Resource) *store.Resource {
	c := *r
	c.Doc = r.Doc.Clone()
	c.Members = slices.Clone(r.Members)
	c.Groups = slices.Clone(r.Groups)
	return &c
}

// --- memberships --------------------------------------------------------------

// member is a resolved membership edge: the member's row.
type member struct {
	rid     int64
	id, typ string
	display *string
}

func memberList(ms []member) []store.Member {
	out := make([]store.Member, len(ms))
	for i, m := range ms {
		out[i] = store.Member{ID: m.id, Type: m.typ}
		if m.display != nil {
			out[i].Display = *m.display
		}
	}
	return out
}

// resolveMembers finds the resources the members name in the tenant,
// without duplicates, in the order given. It locks their rows against
// deletion (FOR KEY SHARE) until the write commits, so that a member
// deleted concurrently is either found gone here or deleted after.
func (w *wtx) resolveMembers(ctx context.Context, tenantID string, groupRID int64, ms []store.Member) ([]member, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.ID == "" {
			return nil, store.Invalid("a member has no value (id)")
		}
		keys = append(keys, sqlfilter.FoldKey(m.ID))
	}
	rows, err := w.Query(ctx, `SELECT rid, id, id_key, type, display FROM resources
		WHERE tenant_id = $1 AND id_key = ANY($2) ORDER BY rid FOR KEY SHARE`, tenantID, keys)
	if err != nil {
		return nil, fmt.Errorf("postgres: resolve members: %w", err)
	}
	found := map[string]member{}
	for rows.Next() {
		var m member
		var key string
		if err := rows.Scan(&m.rid, &m.id, &key, &m.typ, &m.display); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: resolve members: %w", err)
		}
		found[key] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: resolve members: %w", err)
	}
	seen := make(map[int64]bool, len(ms))
	out := make([]member, 0, len(ms))
	for i, m := range ms {
		r, ok := found[keys[i]]
		if !ok {
			return nil, store.Invalid("member %q does not exist", m.ID)
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

func (w *wtx) addMembers(ctx context.Context, groupRID int64, ms []member) error {
	if len(ms) == 0 {
		return nil
	}
	rids := make([]int64, len(ms))
	for i, m := range ms {
		rids[i] = m.rid
		w.change(m.typ, m.id, store.OpMembership)
	}
	if _, err := w.Exec(ctx, `INSERT INTO memberships (group_rid, member_rid) SELECT $1, unnest($2::bigint[])`,
		groupRID, rids); err != nil {
		return fmt.Errorf("postgres: add members: %w", err)
	}
	return nil
}

func (w *wtx) removeMembers(ctx context.Context, groupRID int64, ms []member) error {
	if len(ms) == 0 {
		return nil
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = sqlfilter.FoldKey(m.id)
		w.change(m.typ, m.id, store.OpMembership)
	}
	if _, err := w.Exec(ctx, `DELETE FROM memberships WHERE group_rid = $1 AND member_rid IN
		(SELECT rid FROM resources WHERE tenant_id = $2 AND id_key = ANY($3))`, groupRID, w.tenant, keys); err != nil {
		return fmt.Errorf("postgres: remove members: %w", err)
	}
	return nil
}

// related runs a query returning (id, type) rows of resources on the other
// side of memberships.
func related(ctx context.Context, w *wtx, query string, args ...any) ([]member, error) {
	rows, err := w.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read memberships: %w", err)
	}
	defer rows.Close()
	var out []member
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.id, &m.typ); err != nil {
			return nil, fmt.Errorf("postgres: read memberships: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// --- attribute values -------------------------------------------------------------

// storedValue is an attribute_values row as stored.
type storedValue struct {
	vid           int64
	aid           int64
	elem, kind    int32
	val, eqv, num *string
	fts           bool
}

func (v storedValue) key() string {
	k := fmt.Sprintf("%d|%d|%d|%t", v.aid, v.elem, v.kind, v.fts)
	for _, s := range []*string{v.val, v.eqv, v.num} {
		if s != nil {
			k += "|s" + *s
		} else {
			k += "|n"
		}
	}
	return k
}

// values reads a resource's attribute_values rows.
func (w *wtx) values(ctx context.Context, rid int64) ([]storedValue, error) {
	rows, err := w.Query(ctx, `SELECT vid, aid, elem, kind, val, eqv, num, fts FROM attribute_values WHERE rid = $1`, rid)
	if err != nil {
		return nil, fmt.Errorf("postgres: read attribute values: %w", err)
	}
	defer rows.Close()
	var out []storedValue
	for rows.Next() {
		var v storedValue
		if err := rows.Scan(&v.vid, &v.aid, &v.elem, &v.kind, &v.val, &v.eqv, &v.num, &v.fts); err != nil {
			return nil, fmt.Errorf("postgres: read attribute values: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// insertValues makes a resource's attribute_values rows the ones in rows,
// given the rows it has now (old): rows already there stay, the others are
// deleted or inserted, which spares the indexes (the trigram index most).
func (w *wtx) insertValues(ctx context.Context, tenantID, typ string, rid int64, old []storedValue, rows []sqlfilter.Row) error {
	paths := make([]string, len(rows))
	for i, r := range rows {
		paths[i] = r.Path
	}
	aids, err := w.aids(ctx, tenantID, typ, paths)
	if err != nil {
		return err
	}
	next := make([]storedValue, 0, len(rows))
	for _, r := range rows {
		next = append(next, storedValue{aid: aids[r.Path], elem: int32(r.Elem), kind: int32(r.Kind),
			val: nullString(r.Val), eqv: nullString(r.Eqv), num: nullString(r.Num), fts: r.Substring})
	}
	if len(old) > 0 {
		have := make(map[string][]int64, len(old))
		for _, v := range old {
			k := v.key()
			have[k] = append(have[k], v.vid)
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
		var gone []int64
		for _, ids := range have {
			gone = append(gone, ids...)
		}
		if len(gone) > 0 {
			if _, err := w.Exec(ctx, `DELETE FROM attribute_values WHERE rid = $1 AND vid = ANY($2)`, rid, gone); err != nil {
				return fmt.Errorf("postgres: delete attribute values: %w", err)
			}
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
		aidCol[i], elems[i], kinds[i] = v.aid, v.elem, v.kind
		vals[i], eqvs[i], nums[i], fts[i] = v.val, v.eqv, v.num, v.fts
	}
	if _, err := w.Exec(ctx, `INSERT INTO attribute_values (rid, aid, elem, kind, val, eqv, num, fts)
		SELECT $1, * FROM unnest($2::bigint[], $3::integer[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::boolean[])`,
		rid, aidCol, elems, kinds, vals, eqvs, nums, fts); err != nil {
		return fmt.Errorf("postgres: insert attribute values: %w", err)
	}
	return nil
}
