package csvimport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// pageSize is how many resources one read of LoadDirectory asks for.
const pageSize = 1000

// LoadDirectory reads what a plan needs of a tenant: every user, keyed by
// key, and every group with its members.
func LoadDirectory(ctx context.Context, st store.Store, tenantID, key string) (*Directory, error) {
	dir := &Directory{Users: map[string]*store.Resource{}, Groups: map[string]*store.Resource{}}
	err := eachResource(ctx, st, tenantID, store.UserType, false, func(r *store.Resource) {
		if k, ok := r.Doc.String(key); ok && k != "" {
			dir.Users[strings.ToLower(k)] = r
			dir.KeySpace = append(dir.KeySpace, r)
		}
	})
	if err != nil {
		return nil, err
	}
	err = eachResource(ctx, st, tenantID, store.GroupType, true, func(r *store.Resource) {
		if name, ok := r.Doc.String("displayName"); ok {
			dir.Groups[strings.ToLower(name)] = r
		}
	})
	return dir, err
}

// eachResource calls fn for every resource of a type, read in pages by
// id: each page starts after the last id of the one before (a keyset), so
// a page deep in a large directory costs what the first one does.
func eachResource(ctx context.Context, st store.Store, tenantID, typ string, members bool, fn func(*store.Resource)) error {
	var after filter.Expr
	for {
		page, err := st.Query(ctx, tenantID, typ, store.Query{Filter: after, Count: pageSize, ReadOptions: store.ReadOptions{Members: members}})
		if err != nil {
			return fmt.Errorf("reading the directory's %ss: %w", strings.ToLower(typ), err)
		}
		for _, r := range page.Resources {
			fn(r)
		}
		if len(page.Resources) < pageSize {
			return nil
		}
		last := page.Resources[len(page.Resources)-1].ID
		after = &filter.Compare{Path: filter.AttrPath{Name: "id"}, Op: filter.Gt, Value: filter.Value{Kind: filter.StringValue, Str: last}}
	}
}

// Outcome is what applying a plan did.
type Outcome struct {
	Counts Counts
	// Errors are the rows that failed: the file's, the plan's and the
	// writes'.
	Errors []RowError
}

// Writers is how many users Apply writes at once: writes wait mostly on
// commits, which a store batches when several are waiting. Twice the
// SQLite store's largest batch (256), so that the next batch is queued
// while one commits.
const Writers = 512

// Apply carries out p in tenantID: users first (each in its own write, a
// failure reported and the others written), then managers and groups,
// which may name users the plan created. progress, when not nil, is
// called after each user with how many of them are done, by one goroutine
// at a time.
func Apply(ctx context.Context, st store.Store, tenantID string, rt *schema.ResourceType, dir *Directory, p *Plan, progress func(done, total int)) (*Outcome, error) {
	a := &applier{st: st, tenant: tenantID, rt: rt, ids: map[string]string{}, lines: map[string]int{}}
	for k, u := range dir.Users {
		a.ids[k] = u.ID
	}
	a.out.Errors = append(a.out.Errors, p.Errors...)
	a.out.Counts.Failed = len(p.Errors)
	work := make(chan Change)
	var (
		done   int
		doneMu sync.Mutex
		wg     sync.WaitGroup
	)
	for range Writers {
		wg.Go(func() {
			for c := range work {
				a.write(ctx, c)
				doneMu.Lock()
				done++
				if progress != nil {
					progress(done, len(p.Changes))
				}
				doneMu.Unlock()
			}
		})
	}
	for _, c := range p.Changes {
		a.lines[strings.ToLower(c.Key)] = c.Line
		select {
		case work <- c:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return &a.out, err
	}
	a.managers(ctx, p.Managers)
	a.groups(ctx, p.Groups)
	return &a.out, ctx.Err()
}

type applier struct {
	st     store.Store
	tenant string
	rt     *schema.ResourceType

	mu    sync.Mutex
	ids   map[string]string // folded key → user id, created ones included
	lines map[string]int    // folded key → line
	out   Outcome
}

func (a *applier) fail(line int, key, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.out.Counts.Failed++
	a.out.Errors = append(a.out.Errors, RowError{Line: line, Key: key, Reason: why})
}

func (a *applier) counted(fn func(c *Counts)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(&a.out.Counts)
}

// write carries out one user's change.
func (a *applier) write(ctx context.Context, c Change) {
	switch c.Action {
	case Create:
		r := &store.Resource{TenantID: a.tenant, Type: store.UserType, Doc: c.Doc}
		if err := a.st.Create(ctx, r); err != nil {
			a.fail(c.Line, c.Key, reason(err))
			return
		}
		a.mu.Lock()
		a.ids[strings.ToLower(c.Key)] = r.ID
		a.mu.Unlock()
		a.counted(func(n *Counts) { n.Created++ })
	case Update:
		changed, err := a.update(ctx, c.ID, func(doc resource.Document) (resource.Document, bool, error) {
			return patch.Apply(doc, a.rt, c.Ops)
		})
		if err != nil {
			a.fail(c.Line, c.Key, reason(err))
			return
		}
		a.counted(func(n *Counts) {
			if changed {
				n.Updated++
			} else {
				n.Unchanged++ // someone made the same change meanwhile
			}
		})
	case Disable:
		changed, err := a.update(ctx, c.ID, func(doc resource.Document) (resource.Document, bool, error) {
			if active, ok := doc["active"].(bool); ok && !active {
				return doc, false, nil
			}
			doc = doc.Clone()
			doc["active"] = false
			return doc, true, nil
		})
		if err != nil {
			a.fail(0, c.Key, "disabling: "+reason(err))
			return
		}
		if changed {
			a.counted(func(n *Counts) { n.Disabled++ })
		}
	case Unchanged:
		a.counted(func(n *Counts) { n.Unchanged++ })
	}
}

// errUnchanged abandons an update that would write nothing.
var errUnchanged = errors.New("unchanged")

// update applies change to a user in one store transaction, so that a
// write made meanwhile is patched rather than overwritten.
func (a *applier) update(ctx context.Context, id string, change func(resource.Document) (resource.Document, bool, error)) (bool, error) {
	_, err := a.st.Update(ctx, a.tenant, store.UserType, id, 0, func(r *store.Resource) error {
		doc, changed, err := change(r.Doc)
		if err != nil {
			return err
		}
		if !changed {
			return errUnchanged
		}
		r.Doc = doc
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}

// managers sets each user's enterprise manager to the id of the manager
// the row names by key.
func (a *applier) managers(ctx context.Context, managers map[string]string) {
	for userKey, managerKey := range managers {
		line := a.lines[strings.ToLower(userKey)]
		userID, managerID := a.ids[strings.ToLower(userKey)], a.ids[strings.ToLower(managerKey)]
		if userID == "" {
			continue // the user's own write failed, and was reported
		}
		if managerID == "" {
			a.fail(line, userKey, fmt.Sprintf("the manager %q is neither in the directory nor in the file", managerKey))
			continue
		}
		_, err := a.update(ctx, userID, func(doc resource.Document) (resource.Document, bool, error) {
			ext, _ := doc[scim.EnterpriseUserURN].(map[string]any)
			if m, _ := ext["manager"].(map[string]any); m != nil && m["value"] == managerID {
				return doc, false, nil
			}
			doc = doc.Clone()
			ext, _ = doc[scim.EnterpriseUserURN].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				doc[scim.EnterpriseUserURN] = ext
			}
			ext["manager"] = map[string]any{"value": managerID}
			out, err := resource.Normalize(doc, a.rt)
			return out, err == nil, err
		})
		if err != nil {
			a.fail(line, userKey, "setting the manager: "+reason(err))
		}
	}
}

// groups creates the groups the file names and sets their members.
func (a *applier) groups(ctx context.Context, groups []Membership) {
	for _, m := range groups {
		var add []store.Member
		for _, key := range m.Add {
			if id := a.ids[strings.ToLower(key)]; id != "" {
				add = append(add, store.Member{ID: id, Type: store.UserType})
			}
		}
		if m.GroupID == "" {
			g := &store.Resource{TenantID: a.tenant, Type: store.GroupType, Doc: resource.Document{"displayName": m.Group}, Members: add}
			if err := a.st.Create(ctx, g); err != nil {
				a.fail(0, "", fmt.Sprintf("creating the group %q: %s", m.Group, reason(err)))
				continue
			}
			a.counted(func(n *Counts) { n.GroupsCreated++; n.MembersAdded += len(add) })
			continue
		}
		leave := map[string]bool{}
		for _, id := range m.Remove {
			leave[id] = true
		}
		var added, removed int
		_, err := a.st.Update(ctx, a.tenant, store.GroupType, m.GroupID, 0, func(r *store.Resource) error {
			added, removed = 0, 0
			have := map[string]bool{}
			kept := r.Members[:0:0]
			for _, mem := range r.Members {
				if leave[mem.ID] {
					removed++
					continue
				}
				have[mem.ID] = true
				kept = append(kept, mem)
			}
			for _, mem := range add {
				if !have[mem.ID] {
					kept = append(kept, mem)
					added++
				}
			}
			r.Members = kept
			return nil
		})
		if err != nil {
			a.fail(0, "", fmt.Sprintf("updating the members of %q: %s", m.Group, reason(err)))
			continue
		}
		a.counted(func(n *Counts) { n.MembersAdded += added; n.MembersRemoved += removed })
	}
}
