package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// CheckCatalog checks that a store's catalog defines the resource types
// the directory indexes documents by.
func CheckCatalog(catalog *schema.Catalog) error {
	if catalog == nil || catalog.ResourceType(store.UserType) == nil || catalog.ResourceType(store.GroupType) == nil {
		return errors.New("the catalog must define the User and Group resource types")
	}
	return nil
}

// ResourceType returns the resource type called typ, User or Group.
func ResourceType(catalog *schema.Catalog, typ string) (*schema.ResourceType, error) {
	if typ != store.UserType && typ != store.GroupType {
		return nil, fmt.Errorf("unknown resource type %q", typ)
	}
	return catalog.ResourceType(typ), nil
}

// StoredDoc returns doc without the keys the store manages itself (those
// sqlfilter.Builtin reports): what the resources.doc column holds.
func StoredDoc(doc resource.Document, rt *schema.ResourceType) resource.Document {
	out := make(resource.Document, len(doc))
	for k, v := range doc {
		if !sqlfilter.Builtin(rt, k) {
			out[k] = v
		}
	}
	return out
}

// Names returns the unique name key of a stored document (the folded
// userName of a User, the folded displayName of a Group), which
// resources.name_key holds, and the name its memberships show
// (resources.display).
func Names(typ string, doc resource.Document) (key, display sql.NullString) {
	switch typ {
	case store.UserType:
		if u, ok := doc.String("userName"); ok {
			key = sql.NullString{String: sqlfilter.FoldKey(u), Valid: true}
			display = sql.NullString{String: u, Valid: true}
		}
		if d, ok := doc.String("displayName"); ok && d != "" {
			display = sql.NullString{String: d, Valid: true}
		}
	case store.GroupType:
		if d, ok := doc.String("displayName"); ok {
			key = sql.NullString{String: sqlfilter.FoldKey(d), Valid: true}
			display = sql.NullString{String: d, Valid: true}
		}
	}
	return key, display
}

// Document is a resource's document as its resources row holds it.
type Document struct {
	// Doc is the document without the keys the store manages (StoredDoc).
	Doc resource.Document
	// JSON is Doc encoded: the doc column.
	JSON string
	// NameKey and Display are the name_key and display columns (Names).
	NameKey, Display sql.NullString
}

// NewDocument returns the row form of doc, a document of a resource of
// type rt.
//
// Values under a schema URN rt does not have are refused: the server
// checks a request against the tenant's declarations as it read them, and
// a schema removed since then must not get values back.
func NewDocument(rt *schema.ResourceType, doc resource.Document) (Document, error) {
	for k, v := range doc {
		if _, isObject := v.(map[string]any); isObject && len(k) > 4 && strings.EqualFold(k[:4], "urn:") && rt.SchemaByURN(k) == nil {
			return Document{}, store.Invalid("attributes of the schema %s are not accepted: it is not declared for %ss in this tenant (an administrator declares it with: ferry schemas add)", k, rt.Name)
		}
	}
	d := Document{Doc: StoredDoc(doc, rt)}
	b, err := json.Marshal(d.Doc)
	if err != nil {
		return Document{}, fmt.Errorf("encode document: %w", err)
	}
	d.JSON = string(b)
	d.NameKey, d.Display = Names(rt.Name, d.Doc)
	return d, nil
}

// SetCreated sets the fields Create sets on r, stored as id at now with
// the resolved members.
func SetCreated(r *store.Resource, id string, now time.Time, members []Member, doc Document) {
	r.ID = id
	r.DocJSON = []byte(doc.JSON)
	r.Version = 1
	r.Created = now
	r.LastModified = now
	if r.Type == store.GroupType {
		r.Members = MemberList(members)
	}
}

// NameTaken is the ErrNameTaken of a write whose name key is already taken.
func NameTaken(typ string, doc resource.Document) *store.Error {
	if typ == store.UserType {
		u, _ := doc.String("userName")
		return store.Errorf(store.ErrNameTaken, "userName %q is already taken", u)
	}
	d, _ := doc.String("displayName")
	return store.Errorf(store.ErrNameTaken, "a group with displayName %q already exists", d)
}

// IDTaken is the ErrIDTaken of a create whose id is already taken.
func IDTaken(id string) *store.Error {
	return store.Errorf(store.ErrIDTaken, "id %q is already taken", id)
}

// TenantNotFound is the ErrNotFound of a write into a tenant that does not
// exist.
func TenantNotFound(tenantID string) *store.Error {
	return store.NotFound("tenant %q not found", tenantID)
}

// ResourceNotFound is the ErrNotFound of a resource that does not exist.
func ResourceNotFound(typ, id string) *store.Error {
	return store.NotFound("%s %q not found", typ, id)
}

// CheckVersion returns the ErrVersionMismatch of a write on the condition
// of version ifVersion (0: none) of a resource at version have, or nil.
func CheckVersion(typ, id string, have, ifVersion int64) error {
	if ifVersion != 0 && have != ifVersion {
		return VersionMismatch(typ, id, have, ifVersion)
	}
	return nil
}

// Revision is what an Update writes: the changed resource's document and,
// for a group, its members and the memberships that come and go.
type Revision struct {
	Document
	// DocChanged says the document differs from the stored one.
	DocChanged bool
	// Members are a group's members after the change, resolved.
	Members []Member
	// Added and Removed are the memberships the change adds and removes.
	Added, Removed []Member
}

// Revise checks that cur, a resource of type rt as stored, is at version
// ifVersion (0: any), applies change to a copy of it and works out what
// the update writes. resolve finds the resources a group's members name
// (see ResolveMembers). change's error is returned as it is.
func Revise(cur *store.Resource, rt *schema.ResourceType, ifVersion int64, change func(*store.Resource) error,
	resolve func([]store.Member) ([]Member, error)) (*Revision, error) {
	if err := CheckVersion(cur.Type, cur.ID, cur.Version, ifVersion); err != nil {
		return nil, err
	}
	next := CloneResource(cur)
	if err := change(next); err != nil {
		return nil, err
	}
	old, err := json.Marshal(StoredDoc(cur.Doc, rt))
	if err != nil {
		return nil, err
	}
	d, err := NewDocument(rt, next.Doc)
	if err != nil {
		return nil, fmt.Errorf("update %s %s: %w", cur.Type, cur.ID, err)
	}
	rev := &Revision{Document: d, DocChanged: string(old) != d.JSON}
	if cur.Type == store.GroupType {
		if rev.Members, err = resolve(next.Members); err != nil {
			return nil, err
		}
		rev.Added, rev.Removed = DiffMembers(cur.Members, rev.Members)
	}
	return rev, nil
}

// Unchanged says the update has nothing to write: neither the version nor
// the change feed moves.
func (rev *Revision) Unchanged() bool {
	return !rev.DocChanged && len(rev.Added) == 0 && len(rev.Removed) == 0
}

// Apply makes cur the resource the revision, written at now, leaves.
func (rev *Revision) Apply(cur *store.Resource, now time.Time) {
	cur.Doc = rev.Doc
	cur.DocJSON = []byte(rev.JSON)
	cur.Version++
	cur.LastModified = now
	if cur.Type == store.GroupType {
		cur.Members = MemberList(rev.Members)
	}
}

// CloneResource returns a copy of r that shares nothing a change could
// modify with it.
func CloneResource(r *store.Resource) *store.Resource {
	c := *r
	c.Doc = r.Doc.Clone()
	c.Members = slices.Clone(r.Members)
	c.Groups = slices.Clone(r.Groups)
	return &c
}

// ResourceColumns are the columns ScanResource reads, of the resources row
// aliased r.
const ResourceColumns = `r.rid, r.tenant_id, r.type, r.id, r.version, r.created_at, r.last_modified, r.doc`

// IDColumns are the columns of a page read with store.ReadOptions.IDsOnly.
const IDColumns = `r.id`

// ScanResource reads a row of ResourceColumns, and, when edges is not nil,
// a column of memberships (DecodeEdges) into it, which become the
// resource's groups or members, then the columns of extra. It returns the
// resource's rid as well. With encoded, the document is left encoded in
// DocJSON (store.ReadOptions.Encoded); otherwise it is decoded into Doc.
func ScanResource(row Row, edges *string, encoded bool, extra ...any) (*store.Resource, int64, error) {
	return scanResource(row, edges, encoded, extra...)
}

// scanResource is ScanResource, scanning the row's last columns into
// extra.
func scanResource(row Row, edges *string, encoded bool, extra ...any) (*store.Resource, int64, error) {
	var r store.Resource
	var rid int64
	var created, modified, doc string
	dest := []any{&rid, &r.TenantID, &r.Type, &r.ID, &r.Version, &created, &modified, &doc}
	if edges != nil {
		dest = append(dest, edges)
	}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, 0, err
	}
	var err error
	if r.Created, err = parseTime(created); err != nil {
		return nil, 0, err
	}
	if r.LastModified, err = parseTime(modified); err != nil {
		return nil, 0, err
	}
	if encoded {
		r.DocJSON = []byte(doc)
	} else if r.Doc, err = resource.Decode([]byte(doc)); err != nil {
		return nil, 0, err
	}
	if edges != nil {
		ms, err := DecodeEdges(*edges)
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

// DecodeEdges decodes a JSON array of [id, type, display] triples, the form
// in which both backends read a resource's memberships in the statement
// that reads the resource.
func DecodeEdges(list string) ([]store.Member, error) {
	var rows [][3]*string
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		return nil, err
	}
	ms := make([]store.Member, 0, len(rows))
	for _, r := range rows {
		if r[0] == nil || r[1] == nil {
			return nil, errors.New("membership row without id or type")
		}
		m := store.Member{ID: *r[0], Type: *r[1]}
		if r[2] != nil {
			m.Display = *r[2]
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// parseTime reads a timestamp column (sqlfilter.TimeKey).
func parseTime(s string) (time.Time, error) {
	return time.Parse(sqlfilter.TimeLayout, s)
}
