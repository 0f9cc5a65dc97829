package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// fakeSCIM is a test double of a remote SCIM application: an in-memory
// service provider built on the protocol core, correct by default, with
// switches that break it the ways real endpoints are broken.
type fakeSCIM struct {
	token   string
	catalog *schema.Catalog
	users   *schema.ResourceType
	groups  *schema.ResourceType
	broken  breakage

	mu   sync.Mutex
	seq  int
	data map[string]map[string]*fakeResource // type → id → resource
}

// breakage lists the defects the fake can be given.
type breakage struct {
	notFoundOnEmptyFilter bool // 404 instead of an empty ListResponse
	ignoreExcluded        bool // excludedAttributes has no effect
	removeAllMembers      bool // Remove of members with a value array clears them all
	numericStatus         bool // error bodies carry status as a number
	noContentType         bool // responses have no Content-Type
	noGroups              bool // /ResourceTypes lists no Group, /Groups is 404
	noCursor              bool // no pagination object; cursor parameters ignored
	cursorConfigStrings   bool // pagination's cursor and maxPageSize written as strings
	cursorIgnoresCount    bool // cursor pages of maxPageSize whatever the count
	cursorRestarts        bool // every cursor answers the first page again
	cursorAnyAccepted     bool // a cursor never issued answers the first page
}

type fakeResource struct {
	doc      resource.Document // normalized, without id and meta
	version  int
	created  time.Time
	modified time.Time
}

func newFakeSCIM(token string, b breakage) *fakeSCIM {
	c := schema.Builtin()
	return &fakeSCIM{
		token: token, catalog: c, users: c.ResourceType("User"), groups: c.ResourceType("Group"), broken: b,
		data: map[string]map[string]*fakeResource{"User": {}, "Group": {}},
	}
}

func (f *fakeSCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.fail(w, scim.Errorf(http.StatusUnauthorized, "", "bad token"))
		return
	}
	segs := strings.FieldsFunc(strings.TrimPrefix(r.URL.Path, "/scim/v2"), func(c rune) bool { return c == '/' })
	if len(segs) == 0 {
		f.fail(w, scim.Errorf(http.StatusNotFound, "", "no endpoint"))
		return
	}
	var rt *schema.ResourceType
	switch segs[0] {
	case "ServiceProviderConfig":
		spc := map[string]any{
			"schemas": []any{scim.ServiceProviderConfigURN},
			"patch":   map[string]any{"supported": true}, "bulk": map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
			"filter": map[string]any{"supported": true, "maxResults": 200}, "changePassword": map[string]any{"supported": false},
			"sort": map[string]any{"supported": true}, "etag": map[string]any{"supported": true},
			"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Bearer", "description": "token"}},
			"pagination": map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index",
				"defaultPageSize": fakeMaxPageSize, "maxPageSize": fakeMaxPageSize, "cursorTimeout": 600},
		}
		switch {
		case f.broken.noCursor:
			delete(spc, "pagination")
		case f.broken.cursorConfigStrings:
			spc["pagination"] = map[string]any{"cursor": "true", "index": true, "maxPageSize": strconv.Itoa(fakeMaxPageSize)}
		}
		f.write(w, http.StatusOK, spc)
		return
	case "ResourceTypes":
		var list []any
		for _, t := range []*schema.ResourceType{f.users, f.groups} {
			if t == f.groups && f.broken.noGroups {
				continue
			}
			doc := map[string]any{"schemas": []any{scim.ResourceTypeURN}, "id": t.ID, "name": t.Name, "endpoint": t.Endpoint, "schema": t.Schema.ID}
			if len(segs) == 2 && segs[1] == t.ID {
				f.write(w, http.StatusOK, doc)
				return
			}
			list = append(list, doc)
		}
		f.list(w, len(list), 1, list)
		return
	case "Schemas":
		var list []any
		for _, sc := range f.catalog.Schemas() {
			raw, _ := json.Marshal(sc)
			var doc map[string]any
			json.Unmarshal(raw, &doc)
			doc["schemas"] = []any{scim.SchemaURN}
			if len(segs) == 2 && strings.EqualFold(segs[1], sc.ID) {
				f.write(w, http.StatusOK, doc)
				return
			}
			list = append(list, doc)
		}
		f.list(w, len(list), 1, list)
		return
	case "Users":
		rt = f.users
	case "Groups":
		if f.broken.noGroups {
			f.fail(w, scim.Errorf(http.StatusNotFound, "", "no groups here"))
			return
		}
		rt = f.groups
	default:
		f.fail(w, scim.Errorf(http.StatusNotFound, "", "no endpoint %s", segs[0]))
		return
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodGet:
		f.query(w, r, rt, r.URL.Query())
	case len(segs) == 1 && r.Method == http.MethodPost:
		f.create(w, r, rt)
	case len(segs) == 2 && segs[1] == ".search" && r.Method == http.MethodPost:
		var req struct {
			Filter, SortBy, SortOrder string
			Attributes                []string
			StartIndex, Count         int
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			f.fail(w, scim.BadRequest(scim.InvalidSyntax, "%v", err))
			return
		}
		q := url.Values{"filter": {req.Filter}, "attributes": {strings.Join(req.Attributes, ",")}, "startIndex": {strconv.Itoa(req.StartIndex)}, "count": {strconv.Itoa(req.Count)}}
		f.query(w, r, rt, q)
	case len(segs) == 2:
		f.one(w, r, rt, segs[1])
	default:
		f.fail(w, scim.Errorf(http.StatusNotFound, "", "no endpoint"))
	}
}

func (f *fakeSCIM) write(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	if f.broken.noContentType {
		w.Header()["Content-Type"] = nil // stop net/http from sniffing one
	} else {
		w.Header().Set("Content-Type", "application/scim+json")
	}
	w.WriteHeader(status)
	w.Write(body)
}

func (f *fakeSCIM) fail(w http.ResponseWriter, err error) {
	e, ok := scim.AsError(err)
	if !ok {
		e = scim.Errorf(http.StatusInternalServerError, "", "%v", err)
	}
	if f.broken.numericStatus {
		f.write(w, e.Status, map[string]any{"schemas": []any{scim.ErrorURN}, "status": e.Status, "scimType": e.ScimType, "detail": e.Detail})
		return
	}
	f.write(w, e.Status, e)
}

func (f *fakeSCIM) list(w http.ResponseWriter, total, start int, items []any) {
	if items == nil {
		items = []any{}
	}
	f.write(w, http.StatusOK, map[string]any{"schemas": []any{scim.ListResponseURN}, "totalResults": total, "startIndex": start, "itemsPerPage": len(items), "Resources": items})
}

func base(r *http.Request) string { return "http://" + r.Host + "/scim/v2" }

// render is the full document of a stored resource.
func (f *fakeSCIM) render(r *http.Request, rt *schema.ResourceType, id string) resource.Document {
	res := f.data[rt.Name][id]
	d := res.doc.Clone()
	d["id"] = id
	d["meta"] = map[string]any{
		"resourceType": rt.Name, "created": res.created.Format(time.RFC3339Nano), "lastModified": res.modified.Format(time.RFC3339Nano),
		"location": base(r) + rt.Endpoint + "/" + id, "version": fmt.Sprintf(`W/"%d"`, res.version),
	}
	if rt == f.groups {
		var ms []any
		for _, m := range lookupList(map[string]any(res.doc), "members") {
			mid, _ := lookupString(m, "value")
			e := map[string]any{"value": mid, "type": "User", "$ref": base(r) + "/Users/" + mid}
			if u := f.data["User"][mid]; u != nil {
				e["display"], _ = u.doc.String("userName")
			}
			ms = append(ms, e)
		}
		delete(d, "members")
		if len(ms) > 0 {
			d["members"] = ms
		}
	} else {
		var gs []any
		for gid, g := range f.data["Group"] {
			if slices.Contains(values(lookupList(map[string]any(g.doc), "members"), "value"), id) {
				gs = append(gs, map[string]any{"value": gid})
			}
		}
		if len(gs) > 0 {
			d["groups"] = gs
		}
	}
	return d
}

func (f *fakeSCIM) project(r *http.Request, rt *schema.ResourceType, d resource.Document, q url.Values) resource.Document {
	excluded := q.Get("excludedAttributes")
	if f.broken.ignoreExcluded {
		excluded = ""
	}
	return resource.Project(d, rt, resource.ParseProjection(rt, q.Get("attributes")), resource.ParseProjection(rt, excluded))
}

func (f *fakeSCIM) query(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, q url.Values) {
	var expr filter.Expr
	if fs := q.Get("filter"); fs != "" {
		e, err := filter.Parse(fs)
		if err == nil {
			err = filter.Check(e, rt)
		}
		if err != nil {
			f.fail(w, err)
			return
		}
		expr = e
	}
	var docs []resource.Document
	for id := range f.data[rt.Name] {
		d := f.render(r, rt, id)
		if expr == nil || filter.Match(expr, d, rt) {
			docs = append(docs, d)
		}
	}
	sortBy := q.Get("sortBy")
	key := func(d resource.Document) string {
		if sortBy == "" {
			id, _ := d.String("id")
			return id
		}
		p, _ := filter.ParseAttrPath(sortBy)
		keys := []string{p.Name}
		if p.Sub != "" {
			keys = append(keys, p.Sub)
		}
		s, _ := lookupString(map[string]any(d), keys...)
		return strings.ToLower(s)
	}
	sort.SliceStable(docs, func(i, j int) bool {
		if q.Get("sortOrder") == "descending" {
			return key(docs[i]) > key(docs[j])
		}
		return key(docs[i]) < key(docs[j])
	})
	if len(docs) == 0 && expr != nil && f.broken.notFoundOnEmptyFilter {
		f.fail(w, scim.Errorf(http.StatusNotFound, "", "no such user"))
		return
	}
	if q.Has("cursor") && !f.broken.noCursor {
		f.cursorPage(w, r, rt, q, docs)
		return
	}
	start, _ := strconv.Atoi(q.Get("startIndex"))
	start = max(start, 1)
	count := 100
	if c := q.Get("count"); c != "" {
		count, _ = strconv.Atoi(c)
		count = max(count, 0)
	}
	var page []any
	for i := start - 1; i < len(docs) && len(page) < count; i++ {
		page = append(page, f.project(r, rt, docs[i], q))
	}
	f.list(w, len(docs), start, page)
}

// fakeMaxPageSize is the fake's RFC 9865 maxPageSize.
const fakeMaxPageSize = 10

// cursorPage answers an RFC 9865 cursor query: a cursor is "c" and the
// offset of the page's first result.
func (f *fakeSCIM) cursorPage(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, q url.Values, docs []resource.Document) {
	at := 0
	if c := q.Get("cursor"); c != "" && !f.broken.cursorRestarts {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "c"))
		switch {
		case (err != nil || !strings.HasPrefix(c, "c") || n < 0 || n > len(docs)) && f.broken.cursorAnyAccepted:
		case err != nil || !strings.HasPrefix(c, "c") || n < 0 || n > len(docs):
			f.fail(w, scim.Errorf(http.StatusBadRequest, "invalidCursor", "Cursor value is invalid."))
			return
		default:
			at = n
		}
	}
	count := 100
	if c := q.Get("count"); c != "" {
		count, _ = strconv.Atoi(c)
	}
	count = min(max(count, 1), fakeMaxPageSize)
	if f.broken.cursorIgnoresCount {
		count = fakeMaxPageSize
	}
	page := []any{}
	for i := at; i < len(docs) && len(page) < count; i++ {
		page = append(page, f.project(r, rt, docs[i], q))
	}
	out := map[string]any{"schemas": []any{scim.ListResponseURN}, "totalResults": len(docs), "itemsPerPage": len(page), "Resources": page}
	if at+len(page) < len(docs) {
		out["nextCursor"] = fmt.Sprintf("c%d", at+len(page))
	}
	if at > 0 {
		out["previousCursor"] = fmt.Sprintf("c%d", max(0, at-count))
	}
	f.write(w, http.StatusOK, out)
}

// unique reports a uniqueness conflict of doc with another resource.
func (f *fakeSCIM) unique(rt *schema.ResourceType, id string, doc resource.Document) error {
	key := "userName"
	if rt == f.groups {
		key = "displayName"
	}
	v, _ := doc.String(key)
	for oid, o := range f.data[rt.Name] {
		if ov, _ := o.doc.String(key); oid != id && strings.EqualFold(ov, v) {
			return scim.Errorf(http.StatusConflict, scim.Uniqueness, "%s %q is taken", key, v)
		}
	}
	return nil
}

// decode reads and normalizes a POST or PUT body.
func (f *fakeSCIM) decode(r *http.Request, rt *schema.ResourceType) (resource.Document, error) {
	body, _ := io.ReadAll(r.Body)
	in, err := resource.Decode(body)
	if err != nil {
		return nil, err
	}
	doc, err := resource.Normalize(in, rt)
	if err != nil {
		return nil, err
	}
	if rt == f.groups {
		for _, m := range lookupList(map[string]any(doc), "members") {
			if mid, _ := lookupString(m, "value"); f.data["User"][mid] == nil {
				return nil, scim.BadRequest(scim.InvalidValue, "no member %q", mid)
			}
		}
	}
	return doc, nil
}

func (f *fakeSCIM) create(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) {
	doc, err := f.decode(r, rt)
	if err == nil {
		err = f.unique(rt, "", doc)
	}
	if err != nil {
		f.fail(w, err)
		return
	}
	f.seq++
	id := fmt.Sprintf("%s-%04d", strings.ToLower(rt.Name), f.seq)
	now := time.Now().UTC()
	f.data[rt.Name][id] = &fakeResource{doc: doc, version: 1, created: now, modified: now}
	w.Header().Set("Location", base(r)+rt.Endpoint+"/"+id)
	f.answer(w, r, rt, id, http.StatusCreated)
}

func (f *fakeSCIM) answer(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string, status int) {
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, f.data[rt.Name][id].version))
	f.write(w, status, f.project(r, rt, f.render(r, rt, id), r.URL.Query()))
}

func (f *fakeSCIM) one(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, id string) {
	res := f.data[rt.Name][id]
	if res == nil {
		f.fail(w, scim.Errorf(http.StatusNotFound, "", "no %s %q", rt.Name, id))
		return
	}
	tag := fmt.Sprintf(`W/"%d"`, res.version)
	if m := r.Header.Get("If-Match"); m != "" && m != tag && m != "*" {
		f.fail(w, scim.Errorf(http.StatusPreconditionFailed, "", "version is %s", tag))
		return
	}
	switch r.Method {
	case http.MethodGet:
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		f.answer(w, r, rt, id, http.StatusOK)
	case http.MethodDelete:
		delete(f.data[rt.Name], id)
		for _, g := range f.data["Group"] {
			var keep []any
			for _, m := range lookupList(map[string]any(g.doc), "members") {
				if v, _ := lookupString(m, "value"); v != id {
					keep = append(keep, m)
				}
			}
			g.doc["members"] = keep
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		doc, err := f.decode(r, rt)
		if err == nil {
			err = resource.CheckImmutable(res.doc, doc, rt)
		}
		if err == nil {
			err = f.unique(rt, id, doc)
		}
		if err != nil {
			f.fail(w, err)
			return
		}
		f.store(res, doc)
		f.answer(w, r, rt, id, http.StatusOK)
	case http.MethodPatch:
		body, _ := io.ReadAll(r.Body)
		ops, err := patch.Parse(body)
		if err != nil {
			f.fail(w, err)
			return
		}
		if f.broken.removeAllMembers {
			for i, o := range ops {
				if o.Op == patch.Remove && o.Path != nil && strings.EqualFold(o.Path.Attr.Name, "members") && o.Path.Filter == nil {
					ops[i].Value = nil
				}
			}
		}
		doc, _, err := patch.Apply(res.doc, rt, ops)
		if err == nil {
			err = f.unique(rt, id, doc)
		}
		if err != nil {
			f.fail(w, err)
			return
		}
		f.store(res, doc)
		if rt == f.groups {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		f.answer(w, r, rt, id, http.StatusOK)
	default:
		f.fail(w, scim.Errorf(http.StatusMethodNotAllowed, "", "no"))
	}
}

func (f *fakeSCIM) store(res *fakeResource, doc resource.Document) {
	res.doc = doc
	res.version++
	res.modified = time.Now().UTC()
}
