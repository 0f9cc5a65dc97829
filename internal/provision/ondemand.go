package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/store"
)

// maxOnDemandMembers is how many members of a group a provision on demand
// takes, as Entra's does.
const maxOnDemandMembers = 5

// provisionOnDemand provisions the objects req names in application a's
// target now, as Service.ProvisionOnDemand describes: a pass of its own,
// outside any cycle and without the job's lease, as it acts for an
// administrator rather than for the job.
func (e *Engine) provisionOnDemand(ctx context.Context, a *store.App, req OnDemandRequest) (*OnDemandResult, error) {
	j, err := e.openJob(ctx, a, false)
	if err != nil {
		return nil, err
	}
	res := &OnDemandResult{}
	if err := j.client.TestConnection(ctx); err != nil {
		res.Steps = append(res.Steps, Step{Name: "Test connection", Type: "import", Status: StatusFailure, Description: err.Error()})
		return res, nil
	}
	res.Steps = append(res.Steps, Step{Name: "Test connection", Type: "import", Status: StatusSuccess,
		Description: "The application's SCIM endpoint answered Test Connection"})

	p := newPass(j, "on-demand-"+store.NewID())
	p.onDemand = true
	// On demand compares a linked object with the target as it is, so
	// that the steps show the real difference.
	p.reconcile = true
	p.configVersion = j.version
	primary, keys, err := e.onDemandKeys(ctx, j, req)
	if err != nil {
		return nil, err
	}
	var primaryRecord *LogRecord
	for _, k := range keys {
		// Twice at most: an object the target lost (its link dropped) is
		// matched or created again at once, as a cycle's follow-up would.
		for range 2 {
			o := p.object(ctx, k.typ, k.id)
			if o.record != nil {
				if o.count == nil && o.record.Status == "" {
					o.record.Action, o.record.Status = ActionOther, StatusSuccess
				}
				p.record(o)
				res.Records = append(res.Records, *o.record)
				if k == primary {
					primaryRecord = o.record
				}
			}
			if !p.takeFollowUp(k) {
				break
			}
		}
	}
	if err := e.writeLogs(ctx, a, p.records); err != nil {
		return nil, err
	}
	for i := range res.Records {
		res.Records[i].ID = p.records[i].ID
	}
	if primaryRecord != nil {
		res.Steps = append(res.Steps, primaryRecord.Steps...)
	}
	return res, nil
}

// onDemandKeys returns the objects a provision on demand takes, the one
// req names (primary) last: a user, or a group after its members.
func (e *Engine) onDemandKeys(ctx context.Context, j *job, req OnDemandRequest) (primary objectKey, keys []objectKey, err error) {
	tenantID := j.app.TenantID
	if req.User != "" {
		r, err := findPrincipal(ctx, e.store, tenantID, Principal{Type: store.UserType, Name: req.User})
		if err != nil {
			return objectKey{}, nil, err
		}
		primary = objectKey{store.UserType, r.ID}
		return primary, []objectKey{primary}, nil
	}
	if j.cfg.object(store.GroupType) == nil {
		return objectKey{}, nil, invalid("the application does not provision groups")
	}
	g, err := findPrincipal(ctx, e.store, tenantID, Principal{Type: store.GroupType, Name: req.Group})
	if err != nil {
		return objectKey{}, nil, err
	}
	g, err = e.store.Get(ctx, tenantID, store.GroupType, g.ID, store.ReadOptions{Members: true})
	if err != nil {
		return objectKey{}, nil, err
	}
	members, err := e.onDemandMembers(ctx, tenantID, g, req.Members)
	if err != nil {
		return objectKey{}, nil, err
	}
	primary = objectKey{store.GroupType, g.ID}
	return primary, append(members, primary), nil
}

// onDemandMembers picks the group members a provision on demand takes:
// those named (userName or id, each a member of the group), or the first
// five.
func (e *Engine) onDemandMembers(ctx context.Context, tenantID string, g *store.Resource, names []string) ([]objectKey, error) {
	members := map[string]bool{}
	var users []string
	for _, mb := range g.Members {
		if mb.Type == store.UserType {
			members[mb.ID] = true
			users = append(users, mb.ID)
		}
	}
	var out []objectKey
	if len(names) == 0 {
		for _, id := range users[:min(len(users), maxOnDemandMembers)] {
			out = append(out, objectKey{store.UserType, id})
		}
		return out, nil
	}
	for _, n := range names {
		r, err := findPrincipal(ctx, e.store, tenantID, Principal{Type: store.UserType, Name: n})
		if err != nil {
			return nil, err
		}
		if !members[r.ID] {
			return nil, invalid("%s is not a member of the group %q", n, strings.TrimSpace(fmt.Sprint(displayName(g))))
		}
		out = append(out, objectKey{store.UserType, r.ID})
	}
	return out, nil
}
