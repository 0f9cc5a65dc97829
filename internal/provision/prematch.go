package provision

import (
	"context"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
)

// maxPrematch bounds the target objects a cycle lists to match against
// in memory. Matching an object by query costs a request, which a rate
// limit of 25 requests a second makes the slowest part of an initial cycle
// into an empty or small target; one listing of up to this many objects
// costs a request per page instead.
const maxPrematch = 20000

// targetIndex is the target's objects of one type by the value of each
// matching attribute (folded: SCIM servers compare these ignoring case),
// and by id, which a full cycle compares its linked objects with.
type targetIndex struct {
	byAttr map[string]map[string][]resource.Document
	byID   map[string]resource.Document
}

func (x *targetIndex) lookup(attr, value string) []resource.Document {
	return x.byAttr[attr][strings.ToLower(value)]
}

// prematch lists the target's objects of each mapped type when there are
// at most maxPrematch of them, and indexes them by matching attribute and
// id. A listing that fails or is too large leaves matching to queries, and
// the comparison of linked objects with the target to a read of each.
func (j *job) prematch(ctx context.Context, p *pass) error {
	for _, co := range j.cfg.objects {
		first, err := j.client.List(ctx, co.TargetType, 1, 1, scimclient.ReadOptions{})
		if err != nil {
			return err
		}
		if first.TotalResults > maxPrematch {
			continue
		}
		idx := &targetIndex{byAttr: map[string]map[string][]resource.Document{}, byID: map[string]resource.Document{}}
		for _, m := range co.match {
			idx.byAttr[m.Target] = map[string][]resource.Document{}
		}
		n := 0
		for doc, err := range j.client.All(ctx, co.TargetType, 100, scimclient.ReadOptions{}) {
			if err != nil {
				return err
			}
			if n++; n > maxPrematch {
				idx = nil
				break
			}
			if id, ok := doc.String("id"); ok {
				idx.byID[id] = doc
			}
			for _, m := range co.match {
				for _, v := range m.target.Values(doc, co.target) {
					if s, ok := v.(string); ok {
						k := strings.ToLower(s)
						idx.byAttr[m.Target][k] = append(idx.byAttr[m.Target][k], doc)
					}
				}
			}
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

// actual reads a linked object as the target holds it: from the cycle's
// listing of the target when there is one, by id otherwise (an object the
// listing lacks is read by id too, so that no object is taken for gone on
// a listing's word alone). Groups whose members are mapped are read by id
// with their members, which listings leave out.
func (p *pass) actual(ctx context.Context, co *compiledObject, targetID string) (resource.Document, bool, error) {
	if idx := p.prematch[co.TargetType]; idx != nil && !co.members {
		if doc := idx.byID[targetID]; doc != nil {
			return doc, true, nil
		}
	}
	doc, err := p.j.client.Get(ctx, co.TargetType, targetID, scimclient.ReadOptions{Members: co.members})
	if scimclient.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return doc, true, nil
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
