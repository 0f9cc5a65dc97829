package provision

import (
	"context"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scimclient"
)

// maxPrematch bounds the target objects a cycle lists to match against
// in memory. Matching an object by query costs a request, which a rate
// limit of 25 requests a second makes the slowest part of an initial cycle
// into an empty or small target; one listing of up to this many objects
// costs a request per page instead.
const maxPrematch = 20000

// targetIndex is the target's objects of one type by the value of each
// matching attribute (folded: SCIM servers compare these ignoring case).
type targetIndex struct {
	byAttr map[string]map[string][]resource.Document
}

func (x *targetIndex) lookup(attr, value string) []resource.Document {
	return x.byAttr[attr][strings.ToLower(value)]
}

// prematch lists the target's objects of each mapped type when there are
// at most maxPrematch of them, and indexes them by matching attribute.
// A listing that fails or is too large leaves matching to queries.
func (j *job) prematch(ctx context.Context, p *pass) error {
	for _, co := range j.cfg.objects {
		first, err := j.client.List(ctx, co.TargetType, 1, 1, scimclient.ReadOptions{})
		if err != nil {
			return err
		}
		if first.TotalResults > maxPrematch {
			continue
		}
		idx := &targetIndex{byAttr: map[string]map[string][]resource.Document{}}
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
