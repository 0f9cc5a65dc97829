package ldapsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
)

// Marker is the start of the externalId of every object the source named
// source creates: "ldap:<source>:". The rest is the object's ID.
func Marker(source string) string { return "ldap:" + source + ":" }

// ExternalID is the externalId of the object id that the source creates.
func ExternalID(source, id string) string { return Marker(source) + id }

// ownedPage is how many resources LoadOwned reads at a time.
const ownedPage = 1000

// LoadOwned reads what the source owns in a tenant of st: the users and
// groups whose externalId starts with its Marker, groups with their
// members. It pages by id (keyset), so that writes meanwhile neither skip
// nor repeat a resource.
func LoadOwned(ctx context.Context, st store.Store, tenantID, source string) (*Owned, error) {
	owned := &Owned{Users: map[string]*store.Resource{}, Groups: map[string]*store.Resource{}}
	marker := Marker(source)
	for _, typ := range []string{store.UserType, store.GroupType} {
		into := owned.Users
		if typ == store.GroupType {
			into = owned.Groups
		}
		after := ""
		for {
			var f filter.Expr = &filter.Compare{Path: filter.AttrPath{Name: "externalId"}, Op: filter.Sw,
				Value: filter.Value{Kind: filter.StringValue, Str: marker}}
			if after != "" {
				f = &filter.Logical{Op: filter.And, Left: f, Right: &filter.Compare{Path: filter.AttrPath{Name: "id"},
					Op: filter.Gt, Value: filter.Value{Kind: filter.StringValue, Str: after}}}
			}
			page, err := st.Query(ctx, tenantID, typ, store.Query{Filter: f, SortBy: "id", Count: ownedPage,
				ReadOptions: store.ReadOptions{Members: typ == store.GroupType}})
			if err != nil {
				return nil, fmt.Errorf("read the %ss source %s owns: %w", strings.ToLower(typ), source, err)
			}
			for _, r := range page.Resources {
				ext, _ := r.Doc.String("externalId")
				id := strings.TrimPrefix(ext, marker)
				if have := into[id]; have != nil {
					owned.Duplicates = append(owned.Duplicates, fmt.Sprintf("%s %s (copies %s)", typ, r.ID, have.ID))
					continue
				}
				into[id] = r
			}
			if len(page.Resources) < ownedPage {
				break
			}
			after = page.Resources[len(page.Resources)-1].ID
		}
	}
	return owned, nil
}

// Target is the tenant a plan is applied to.
type Target struct {
	Store    store.Store
	TenantID string
	// Source is the source's Config.Name, which its objects' externalId
	// carries.
	Source string
	// Check, when set, is called before each write: it is where the
	// scheduler confirms that it still holds the source's lease and that
	// the configuration has not changed. Its error stops the apply.
	Check func(context.Context) error
	// Workers is how many writes run at once; DefaultWorkers when zero.
	// Each write is its own transaction; running several lets the store
	// commit them together (SQLite's group commit) or side by side.
	Workers int
}

// DefaultWorkers is Target.Workers' default.
const DefaultWorkers = 8

// Result counts what an apply did. Updated counts the objects whose mapped
// attributes were written; membership changes are counted as members.
type Result struct {
	Created, Updated, Disabled, Deleted int
	MembersAdded, MembersRemoved        int
	// Failures are the changes that failed, each reported with why; the
	// others went ahead.
	Failures []Failure
}

// Failure is one change that failed.
type Failure struct {
	Type, Name string
	Err        error
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s %s: %v", strings.ToLower(f.Type), f.Name, f.Err)
}

// errNotOwned abandons an update of a resource whose externalId no longer
// carries the source's marker.
var errNotOwned = errors.New("its externalId no longer carries this source's marker (a SCIM client changed it), so the source leaves it alone")

// Apply carries p out in t: creates (users before groups, and managers
// before the users they manage), then updates, then the references creates
// could not make yet (a member group created after its group), then
// disables, then deletes. Each object is its own write; one that fails is
// reported in the Result and the others go ahead. Apply returns an error
// only when it stopped: ctx ended, or t.Check refused.
func Apply(ctx context.Context, t Target, p *Plan) (Result, error) {
	a := &applier{t: t, p: p, ids: map[string]store.Member{}, workers: t.Workers}
	if a.workers <= 0 {
		a.workers = DefaultWorkers
	}
	if p.mapping == nil {
		return a.res, nil // a plan of a pass that did not finish changes nothing
	}
	for id, r := range p.resources {
		a.ids[id] = r
	}
	err := a.createAll(ctx)
	if err == nil {
		err = a.parallel(ctx, p.Updates, func(ctx context.Context, c Change) error { return a.update(ctx, c, false) })
	}
	if err == nil {
		err = a.parallel(ctx, a.later, func(ctx context.Context, c Change) error { return a.update(ctx, c, true) })
	}
	if err == nil {
		err = a.parallel(ctx, p.Disables, a.disable)
	}
	if err == nil {
		err = a.parallel(ctx, p.Deletes, func(ctx context.Context, c Change) error {
			ok, err := a.write(ctx, c, func() error {
				return a.t.Store.Delete(ctx, a.t.TenantID, c.Type, c.ResourceID, c.Version)
			})
			if ok {
				a.count(func(r *Result) { r.Deleted++ })
			}
			return err
		})
	}
	return a.result(), err
}

type applier struct {
	t       Target
	p       *Plan
	workers int

	mu  sync.Mutex
	res Result
	// ids are the directory ids of the source's objects, by ID: those it
	// owned when planned and those created since.
	ids map[string]store.Member
	// later are creates that referred to objects not created yet.
	later []Change
}

func (a *applier) count(f func(*Result)) {
	a.mu.Lock()
	f(&a.res)
	a.mu.Unlock()
}

func (a *applier) result() Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.res
}

func (a *applier) lookup(id string) (store.Member, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.ids[id]
	return r, ok
}

// parallel runs do for every change, a.workers at a time, and stops at the
// first error do returns (which only a stop is).
func (a *applier) parallel(ctx context.Context, cs []Change, do func(context.Context, Change) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan Change)
	var wg sync.WaitGroup
	for range min(a.workers, len(cs)) {
		wg.Go(func() {
			for c := range work {
				if err := do(ctx, c); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, c := range cs {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// createAll creates users in rounds, each round the users whose manager
// exists by then (or is none of this pass's creates), so that a user is
// created with its manager set; then groups. What still refers to an
// object not created (a manager whose create failed, a member group
// created after its group) is completed after the updates.
func (a *applier) createAll(ctx context.Context) error {
	var users, groups []Change
	creating := map[string]bool{}
	for _, c := range a.p.Creates {
		if c.Type == store.UserType {
			users = append(users, c)
			creating[c.ID] = true
		} else {
			groups = append(groups, c)
		}
	}
	create := func(ctx context.Context, c Change) error { return a.create(ctx, c) }
	for len(users) > 0 {
		var round, wait []Change
		for _, c := range users {
			mgr := c.Object.Manager
			if _, made := a.lookup(mgr); mgr == "" || made || !creating[mgr] {
				round = append(round, c)
			} else {
				wait = append(wait, c)
			}
		}
		if len(round) == 0 { // a cycle of managers: break it
			round, wait = wait, nil
		}
		if err := a.parallel(ctx, round, create); err != nil {
			return err
		}
		for _, c := range round {
			delete(creating, c.ID) // created, or failed: not to wait for
		}
		users = wait
	}
	return a.parallel(ctx, groups, create)
}

// write checks the right to write, then runs w. A failure of w is the
// change's, recorded and not returned; ok reports that w succeeded.
func (a *applier) write(ctx context.Context, c Change, w func() error) (ok bool, stop error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if a.t.Check != nil {
		if err := a.t.Check(ctx); err != nil {
			return false, fmt.Errorf("stopped before writing %s %s: %w", strings.ToLower(c.Type), c.Name, err)
		}
	}
	err := w()
	if err == nil {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, store.ErrNameTaken) {
		attr := "userName"
		if c.Type == store.GroupType {
			attr = "displayName"
		}
		err = fmt.Errorf("the %s %q belongs to a %s this source did not create; rename or delete that one, "+
			"or set its externalId to %q to let the source take it over: %w",
			attr, c.Name, strings.ToLower(c.Type), ExternalID(a.t.Source, c.ID), err)
	}
	a.fail(c, err)
	return false, nil
}

func (a *applier) fail(c Change, err error) {
	a.count(func(r *Result) { r.Failures = append(r.Failures, Failure{Type: c.Type, Name: c.Name, Err: err}) })
}

// manager returns the directory id of o's manager, and whether it is
// still to be created.
func (a *applier) manager(o *Object) (string, bool) {
	if o == nil || o.Manager == "" {
		return "", false
	}
	r, ok := a.lookup(o.Manager)
	return r.ID, !ok
}

// members resolves member IDs; missing counts those not (yet) in the
// directory.
func (a *applier) members(ids []string) (out []store.Member, missing int) {
	for _, id := range ids {
		if r, ok := a.lookup(id); ok {
			out = append(out, store.Member{ID: r.ID, Type: r.Type})
		} else {
			missing++
		}
	}
	return out, missing
}

// create writes a new object, and keeps it for later when it refers to
// objects not created yet.
func (a *applier) create(ctx context.Context, c Change) error {
	o := c.Object
	mgr, mgrPending := a.manager(o)
	doc, err := a.p.mapping.merge(c.Type, nil, o.Doc, mgr)
	if err != nil {
		a.fail(c, err)
		return nil
	}
	doc["externalId"] = ExternalID(a.t.Source, o.ID)
	r := &store.Resource{TenantID: a.t.TenantID, Type: c.Type, Doc: doc}
	var missing int
	if c.Type == store.GroupType {
		r.Members, missing = a.members(c.Add)
	}
	ok, err := a.write(ctx, c, func() error { return a.t.Store.Create(ctx, r) })
	if !ok {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[o.ID] = store.Member{ID: r.ID, Type: c.Type}
	a.res.Created++
	a.res.MembersAdded += len(r.Members)
	if mgrPending || missing > 0 {
		a.later = append(a.later, c)
	}
	return nil
}

// update writes a change of mapped attributes and memberships into the
// resource as it is now, leaving what the source does not map alone.
// completing marks the second write of a create that referred to objects
// created after it.
func (a *applier) update(ctx context.Context, c Change, completing bool) error {
	id := c.ResourceID
	if completing {
		r, ok := a.lookup(c.ID)
		if !ok {
			return nil
		}
		id = r.ID
	}
	mgr, _ := a.manager(c.Object)
	var added, removed int
	ok, err := a.write(ctx, c, func() error {
		_, err := a.t.Store.Update(ctx, a.t.TenantID, c.Type, id, 0, func(cur *store.Resource) error {
			if err := a.owns(cur, c); err != nil {
				return err
			}
			if c.Attributes || completing {
				doc, err := a.p.mapping.merge(c.Type, cur.Doc, c.Object.Doc, mgr)
				if err != nil {
					return err
				}
				cur.Doc = doc
			}
			if c.Type == store.GroupType {
				cur.Members, added, removed = a.memberChange(cur.Members, c.Add, c.Remove)
			}
			return nil
		})
		return err
	})
	if !ok {
		return err
	}
	a.count(func(r *Result) {
		if c.Attributes && !completing {
			r.Updated++
		}
		r.MembersAdded += added
		r.MembersRemoved += removed
	})
	return nil
}

// memberChange adds and removes members, by ID, leaving members the source
// does not own alone.
func (a *applier) memberChange(cur []store.Member, add, remove []string) ([]store.Member, int, int) {
	drop := map[string]bool{}
	for _, id := range remove {
		if r, ok := a.lookup(id); ok {
			drop[r.ID] = true
		}
	}
	out := make([]store.Member, 0, len(cur)+len(add))
	have := map[string]bool{}
	removed := 0
	for _, m := range cur {
		if drop[m.ID] {
			removed++
			continue
		}
		have[m.ID] = true
		out = append(out, store.Member{ID: m.ID, Type: m.Type})
	}
	resolved, _ := a.members(add)
	added := 0
	for _, m := range resolved {
		if !have[m.ID] {
			have[m.ID] = true
			out = append(out, m)
			added++
		}
	}
	return out, added, removed
}

// disable sets a user's active to false: with the rest of the source's
// values when the directory disabled it, alone when it left the directory.
func (a *applier) disable(ctx context.Context, c Change) error {
	mgr, _ := a.manager(c.Object)
	ok, err := a.write(ctx, c, func() error {
		_, err := a.t.Store.Update(ctx, a.t.TenantID, c.Type, c.ResourceID, 0, func(cur *store.Resource) error {
			if err := a.owns(cur, c); err != nil {
				return err
			}
			if c.Object != nil {
				doc, err := a.p.mapping.merge(c.Type, cur.Doc, c.Object.Doc, mgr)
				if err != nil {
					return err
				}
				cur.Doc = doc
				return nil
			}
			doc := cur.Doc.Clone()
			doc["active"] = false
			cur.Doc = doc
			return nil
		})
		return err
	})
	if ok {
		a.count(func(r *Result) { r.Disabled++ })
	}
	return err
}

// owns checks, in the write's transaction, that the resource is still the
// source's object c.ID.
func (a *applier) owns(cur *store.Resource, c Change) error {
	if ext, _ := cur.Doc.String("externalId"); ext != ExternalID(a.t.Source, c.ID) {
		return errNotOwned
	}
	return nil
}
