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

// ProvisionOnDemand provisions one user, or one group and up to five of its
// members, now, whether the job is On or Off, and returns the steps taken:
// test connection, import, scope, match and action (Entra's five), with
// the log record of each object. An object that fails is reported in its
// steps, not as an error: errors are for requests that cannot be run.
func (m *Manager) ProvisionOnDemand(ctx context.Context, tenantID, app string, req OnDemandRequest) (*OnDemandResult, error) {
	if (req.User == "") == (req.Group == "") {
		return nil, invalid("name one user or one group to provision")
	}
	if len(req.Members) > maxOnDemandMembers {
		return nil, invalid("a provision on demand takes at most %d members of a group, not %d", maxOnDemandMembers, len(req.Members))
	}
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	j, err := m.openJob(ctx, a, false)
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
	var primary objectKey
	var keys []objectKey
	if req.User != "" {
		r, err := m.principal(ctx, tenantID, Principal{Type: store.UserType, Name: req.User})
		if err != nil {
			return nil, err
		}
		primary = objectKey{store.UserType, r.ID}
		keys = append(keys, primary)
	} else {
		if j.cfg.object(store.GroupType) == nil {
			return nil, invalid("the application does not provision groups")
		}
		g, err := m.principal(ctx, tenantID, Principal{Type: store.GroupType, Name: req.Group})
		if err != nil {
			return nil, err
		}
		g, err = m.store.Get(ctx, tenantID, store.GroupType, g.ID, store.ReadOptions{Members: true})
		if err != nil {
			return nil, err
		}
		primary = objectKey{store.GroupType, g.ID}
		members, err := m.onDemandMembers(ctx, tenantID, g, req.Members)
		if err != nil {
			return nil, err
		}
		keys = append(members, primary)
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
	if err := m.writeLogs(ctx, a, p.records); err != nil {
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

// onDemandMembers picks the group members a provision on demand takes:
// those named (userName or id, each a member of the group), or the first
// five.
func (m *Manager) onDemandMembers(ctx context.Context, tenantID string, g *store.Resource, names []string) ([]objectKey, error) {
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
		r, err := m.principal(ctx, tenantID, Principal{Type: store.UserType, Name: n})
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
