package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
)

// listingPageSize is the count a full cycle's listing of the target asks
// for; a target's maxPageSize (RFC 9865 §4) lowers it.
const listingPageSize = 100

// targetIndex is the target's objects of one type by the value of each
// matching attribute (folded: SCIM servers compare these ignoring case),
// and by id, which a full cycle compares its linked objects with.
//
// An object is kept as the JSON of its compact form (compact: its id and
// the attributes the mappings read), decoded again when it is used: a
// decoded document costs several times its JSON in maps and interfaces,
// and a cursor listing keeps the whole target, whatever its size.
// BenchmarkTargetIndex measures both.
type targetIndex struct {
	objects [][]byte
	byAttr  map[string]map[string][]int32
	byID    map[string]int32
	// bytes is the JSON kept, for the log.
	bytes int
}

func newTargetIndex(co *compiledObject) *targetIndex {
	x := &targetIndex{byAttr: map[string]map[string][]int32{}, byID: map[string]int32{}}
	for _, m := range co.match {
		x.byAttr[m.Target] = map[string][]int32{}
	}
	return x
}

// add indexes a target object.
func (x *targetIndex) add(co *compiledObject, doc resource.Document) error {
	raw, err := json.Marshal(co.compact(doc))
	if err != nil {
		return fmt.Errorf("index a target object: %w", err)
	}
	n := int32(len(x.objects))
	x.objects = append(x.objects, raw)
	x.bytes += len(raw)
	if id, ok := doc.String("id"); ok {
		x.byID[id] = n
	}
	for _, m := range co.match {
		for _, v := range m.target.Values(doc, co.target) {
			if s, ok := v.(string); ok {
				k := strings.ToLower(s)
				x.byAttr[m.Target][k] = append(x.byAttr[m.Target][k], n)
			}
		}
	}
	return nil
}

func (x *targetIndex) doc(n int32) resource.Document {
	d, err := resource.Decode(x.objects[n])
	if err != nil {
		return nil // it was encoded from a document: cannot happen
	}
	return d
}

func (x *targetIndex) lookup(attr, value string) []resource.Document {
	ns := x.byAttr[attr][strings.ToLower(value)]
	out := make([]resource.Document, 0, len(ns))
	for _, n := range ns {
		if d := x.doc(n); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// get returns the object whose id is id, or nil.
func (x *targetIndex) get(id string) resource.Document {
	if n, ok := x.byID[id]; ok {
		return x.doc(n)
	}
	return nil
}

// compact is what a full cycle needs of a listed target object: its id and
// the top-level attributes (or extension attributes) that the mappings,
// matching included, read; for a group whose members are mapped, its
// members. observed and reconciled read nothing else.
func (co *compiledObject) compact(doc resource.Document) resource.Document {
	out := resource.Document{}
	if k, v, ok := resource.Lookup(doc, "id"); ok {
		out[k] = v
	}
	keep := func(name string, from, to map[string]any) {
		if k, v, ok := resource.Lookup(from, name); ok {
			to[k] = v
		}
	}
	for _, ca := range slices.Concat(co.attrs, co.match) {
		t := ca.target
		if t.Schema == nil || t.Schema == co.target.Schema {
			if t.Attr != nil {
				keep(t.Attr.Name, doc, out)
			}
			continue
		}
		// An extension's attributes live in an object named by its URN,
		// found as resource.Target.Values finds it.
		ext, ok := doc[t.Schema.ID].(map[string]any)
		if !ok {
			continue
		}
		if t.Attr == nil {
			out[t.Schema.ID] = ext
			continue
		}
		to, ok := out[t.Schema.ID].(map[string]any)
		if !ok {
			to = map[string]any{}
			out[t.Schema.ID] = to
		}
		keep(t.Attr.Name, ext, to)
	}
	if co.members {
		keep("members", doc, out)
	}
	return out
}

// prematch lists the target's objects of each mapped type and indexes them
// by matching attribute and id, so that matching and the comparison of
// linked objects with the target cost no request per object. A target
// that advertises cursor pagination (RFC 9865 §4) is listed by cursor
// whatever its size; one that pages by startIndex only when it holds at
// most Options.IndexListingLimit objects of the type. A listing that
// fails, or a type too large, leaves matching to queries and the
// comparison to a read of each object.
func (j *job) prematch(ctx context.Context, p *pass) error {
	pg, err := j.client.Pagination(ctx)
	if err != nil {
		// RFC 7644 targets page by index; many serve no
		// /ServiceProviderConfig worth the name.
		j.log.Debug("the target's /ServiceProviderConfig could not be read; listing it by startIndex", "app", j.app.Name, "err", err)
	}
	for _, co := range j.cfg.objects {
		idx, err := j.listTarget(ctx, co, pg)
		if err != nil {
			return err
		}
		if idx != nil {
			if p.prematch == nil {
				p.prematch = map[string]*targetIndex{}
			}
			p.prematch[co.TargetType] = idx
		}
	}
	return nil
}

// listTarget indexes the target's objects of co's type, or returns nil
// when the type is too large to list by index. A cursor that expires
// during the listing (RFC 9865 §2.1 expiredCursor: the walk took longer
// than the target keeps cursors) starts the listing again once, from an
// empty index, so that no object is counted twice; a second expiry, or a
// cursor the target calls invalid, is returned.
func (j *job) listTarget(ctx context.Context, co *compiledObject, pg scimclient.Pagination) (*targetIndex, error) {
	limit := j.e.opts.IndexListingLimit
	if !pg.Cursor {
		first, err := j.client.List(ctx, co.TargetType, 1, 1, scimclient.ReadOptions{})
		if err != nil {
			return nil, err
		}
		if first.TotalResults > limit {
			j.log.Info("the target is too large to list by startIndex; matching and reading its objects one at a time",
				"app", j.app.Name, "type", co.TargetType, "objects", first.TotalResults, "limit", limit)
			return nil, nil
		}
	}
	for attempt := 1; ; attempt++ {
		idx, err := j.indexTarget(ctx, co, pg, limit)
		if err != nil && attempt == 1 && scimclient.CursorProblem(err) == scimclient.ScimTypeExpiredCursor {
			j.log.Warn("the target's cursor expired during the listing; listing it again from the start", "app", j.app.Name, "type", co.TargetType, "err", err)
			continue
		}
		return idx, err
	}
}

// indexTarget walks the target's objects of co's type into an index; nil
// when a startIndex listing finds more than limit.
func (j *job) indexTarget(ctx context.Context, co *compiledObject, pg scimclient.Pagination, limit int) (*targetIndex, error) {
	idx := newTargetIndex(co)
	for doc, err := range j.client.Walk(ctx, co.TargetType, pg, listingPageSize, scimclient.ReadOptions{}) {
		if err != nil {
			return nil, err
		}
		if !pg.Cursor && len(idx.objects) >= limit {
			return nil, nil
		}
		if err := idx.add(co, doc); err != nil {
			return nil, err
		}
	}
	j.log.Info("listed the target", "app", j.app.Name, "type", co.TargetType, "paging", pg.Method(),
		"objects", len(idx.objects), "kept_bytes", idx.bytes)
	return idx, nil
}

// actual reads a linked object as the target holds it: from the cycle's
// listing of the target when there is one (listed), by id otherwise (an
// object the listing lacks is read by id too, so that no object is taken
// for gone on a listing's word alone). Groups whose members are mapped are
// read by id with their members, which listings leave out.
func (p *pass) actual(ctx context.Context, co *compiledObject, targetID string) (doc resource.Document, found, listed bool, err error) {
	if idx := p.prematch[co.TargetType]; idx != nil && !co.members {
		if doc := idx.get(targetID); doc != nil {
			return doc, true, true, nil
		}
	}
	doc, err = p.j.client.Get(ctx, co.TargetType, targetID, scimclient.ReadOptions{Members: co.members})
	if scimclient.IsNotFound(err) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, err
	}
	return doc, true, false, nil
}

// reconciled is the exported record to diff the mappings against for a
// target object as it is: the target's values of the mapped attributes,
// except for attributes a target never returns (a password), which keep
// what was exported; and of a group's members, those Ferry gave it that
// it still has (members others added are not Ferry's to remove).
func (co *compiledObject) reconciled(exp *exportedRecord, actual resource.Document) *exportedRecord {
	out := &exportedRecord{Values: co.observed(actual)}
	for _, ca := range co.attrs {
		a := ca.target.Attr
		if ca.target.Sub != nil {
			a = ca.target.Sub
		}
		if a == nil || (a.Returned != schema.Never && a.Mutability != schema.WriteOnly) {
			continue
		}
		if v, ok := exp.Values[ca.Target]; ok {
			out.Values[ca.Target] = v
		} else {
			delete(out.Values, ca.Target)
		}
	}
	if co.members {
		have := map[string]bool{}
		for _, id := range memberIDsOf(actual) {
			have[id] = true
		}
		for _, id := range exp.Members {
			if have[id] {
				out.Members = append(out.Members, id)
			}
		}
	}
	return out
}
