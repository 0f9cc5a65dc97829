package ldapsource

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/store"
)

// Owned is what a source owns in Ferry's directory: the users and groups
// whose externalId carries its marker (see LoadOwned), by Object.ID. Groups
// come with their members.
type Owned struct {
	Users, Groups map[string]*store.Resource
	// Duplicates are resources whose externalId names an object another
	// resource already stands for (a SCIM client copied it); the source
	// leaves them alone.
	Duplicates []string
}

// PlanOptions tunes the read guard.
type PlanOptions struct {
	// MaxShrinkPercent is Config.MaxShrinkPercent: a full pass that finds
	// more than this share of the source's users, or of its groups, gone
	// plans no disables, deletes or membership removals.
	// DefaultMaxShrinkPercent when zero.
	MaxShrinkPercent int
	// AllowShrink lets one pass through the shrink guard, once an
	// administrator has confirmed the directory really shrank.
	AllowShrink bool
}

// Plan is what one pass changes in Ferry's directory.
type Plan struct {
	Full bool
	// Creates holds users first, then groups. Updates hold changes of
	// mapped attributes and of memberships. Disables set active to false:
	// users gone from a full pass, or disabled in the directory. Deletes
	// remove groups gone from a full pass.
	Creates, Updates, Disables, Deletes []Change
	// Guard says, for an administrator, why the read guard held changes
	// back; "" when it did not. Withheld counts the disables, deletes and
	// membership removals it held back.
	Guard    string
	Withheld int
	// Notes are what the pass could not use: entries that could not be
	// mapped, references to entries outside the source, duplicates.
	Notes []string

	mapping *Mapping
	// resources are the directory ids of the source's objects, by ID.
	resources map[string]store.Member
}

// Change is one object's change.
type Change struct {
	Type string // store.UserType or store.GroupType
	// ID is the object's ID in the directory read (Object.ID), ResourceID
	// its id in Ferry's directory ("" for a create).
	ID, ResourceID string
	Name           string // userName or displayName, for reports
	// Object is the object as read; nil for a disable or delete of an
	// object gone from the directory.
	Object *Object
	// Attributes reports that mapped attributes differ.
	Attributes bool
	// Add and Remove are member IDs (Object.ID) to add to and remove from
	// a group.
	Add, Remove []string
	// Version is the version of the resource the change was planned
	// against; a delete does not go through if the resource changed since.
	Version int64
	// Reason says why a user is disabled or a group deleted.
	Reason string
}

// Summary is the plan in one line, for logs and reports.
func (p *Plan) Summary() string {
	kind := "incremental"
	if p.Full {
		kind = "full"
	}
	s := fmt.Sprintf("%s pass: %d to create, %d to update, %d to disable, %d to delete",
		kind, len(p.Creates), len(p.Updates), len(p.Disables), len(p.Deletes))
	if p.Withheld > 0 {
		s += fmt.Sprintf(", %d held back by the read guard", p.Withheld)
	}
	return s
}

const goneReason = "no longer in the directory: a full pass did not find it"

// NewPlan compares what the source owns with what a pass read. It is pure:
// it reads both and writes nothing.
//
// The read guard: a pass that did not finish (an error, a size limit, a
// dropped connection, a cancellation) plans nothing at all, since a partial
// read cannot tell a removed user, group or member from one not read yet.
// A full pass that finds more than opts.MaxShrinkPercent of the source's
// users, or of its groups, gone plans its creates and updates but no
// disables, deletes or membership removals, and says why in Guard. An
// incremental pass sees only what changed, so it never disables or deletes
// for absence; it still applies disables the directory itself records.
func NewPlan(owned *Owned, snap *Snapshot, opts PlanOptions) *Plan {
	if owned == nil {
		owned = &Owned{}
	}
	p := &Plan{}
	if snap != nil {
		p.Full = snap.Full
	}
	if snap == nil || !snap.Complete || snap.Mapping == nil {
		why := "nothing was read"
		if snap != nil && snap.Err != nil {
			why = snap.Err.Error()
		}
		p.Guard = "The pass did not finish (" + why + "), so nothing was changed: a partial read cannot tell " +
			"a removed user, group or member from one not read yet. The next pass tries again."
		return p
	}
	p.mapping = snap.Mapping
	m := snap.Mapping
	p.resources = map[string]store.Member{}
	sourceOf := map[string]string{} // directory id → ID
	for typ, objs := range map[string]map[string]*store.Resource{store.UserType: owned.Users, store.GroupType: owned.Groups} {
		for id, r := range objs {
			p.resources[id] = store.Member{ID: r.ID, Type: typ}
			sourceOf[r.ID] = id
		}
	}

	goneUsers, seenUsers := 0, 0
	for _, id := range slices.Sorted(maps.Keys(snap.Users)) {
		o := snap.Users[id]
		cur := owned.Users[id]
		if cur == nil {
			p.Creates = append(p.Creates, Change{Type: store.UserType, ID: id, Name: o.name(), Object: o})
			continue
		}
		wantManager := ""
		if o.Manager != "" {
			wantManager = "(created in this pass)"
			if r, ok := p.resources[o.Manager]; ok {
				wantManager = r.ID
			}
		}
		if !m.differs(store.UserType, cur.Doc, o.Doc) && m.managerValue(cur.Doc) == wantManager {
			continue
		}
		c := Change{Type: store.UserType, ID: id, ResourceID: cur.ID, Name: o.name(), Object: o, Attributes: true, Version: cur.Version}
		if o.Doc["active"] == false && cur.Doc["active"] != false {
			c.Reason = m.disabled.describe()
			p.Disables = append(p.Disables, c)
		} else {
			p.Updates = append(p.Updates, c)
		}
	}
	if snap.Full {
		for _, id := range slices.Sorted(maps.Keys(owned.Users)) {
			cur := owned.Users[id]
			_, present := snap.Users[id]
			_, invalid := snap.Invalid[id]
			active := cur.Doc["active"] != false
			if present || invalid || active {
				seenUsers++ // the users the directory had as of the last pass
			}
			if present || invalid || !active {
				continue
			}
			goneUsers++
			name, _ := cur.Doc.String("userName")
			p.Disables = append(p.Disables, Change{Type: store.UserType, ID: id, ResourceID: cur.ID, Name: name,
				Version: cur.Version, Reason: goneReason})
		}
	}

	for _, id := range slices.Sorted(maps.Keys(snap.Groups)) {
		o := snap.Groups[id]
		cur := owned.Groups[id]
		if cur == nil {
			p.Creates = append(p.Creates, Change{Type: store.GroupType, ID: id, Name: o.name(), Object: o, Add: o.Members})
			continue
		}
		have := map[string]bool{}
		for _, mem := range cur.Members {
			if sid, ok := sourceOf[mem.ID]; ok {
				have[sid] = true
			}
		}
		c := Change{Type: store.GroupType, ID: id, ResourceID: cur.ID, Name: o.name(), Object: o, Version: cur.Version,
			Attributes: m.differs(store.GroupType, cur.Doc, o.Doc)}
		for _, mid := range o.Members {
			if !have[mid] {
				c.Add = append(c.Add, mid)
			}
			delete(have, mid)
		}
		c.Remove = slices.Sorted(maps.Keys(have)) // members the directory no longer lists
		if c.Attributes || len(c.Add) > 0 || len(c.Remove) > 0 {
			p.Updates = append(p.Updates, c)
		}
	}
	goneGroups := 0
	if snap.Full {
		for _, id := range slices.Sorted(maps.Keys(owned.Groups)) {
			_, present := snap.Groups[id]
			_, invalid := snap.Invalid[id]
			if present || invalid {
				continue
			}
			cur := owned.Groups[id]
			goneGroups++
			name, _ := cur.Doc.String("displayName")
			p.Deletes = append(p.Deletes, Change{Type: store.GroupType, ID: id, ResourceID: cur.ID, Name: name,
				Version: cur.Version, Reason: goneReason})
		}
	}

	threshold := opts.MaxShrinkPercent
	if threshold == 0 {
		threshold = DefaultMaxShrinkPercent
	}
	over := func(gone, had int) bool { return gone > 0 && gone*100 > threshold*had }
	if snap.Full && !opts.AllowShrink && (over(goneUsers, seenUsers) || over(goneGroups, len(owned.Groups))) {
		p.hold(fmt.Sprintf("The full pass found %s of the %s users and %s of the %s groups this source created "+
			"missing from the directory, more than the %d%% the read guard allows. Nothing was disabled or deleted "+
			"and no membership was removed; creates and updates went ahead. If the directory really shrank, "+
			"allow the shrink for one pass; otherwise check the base DN, the filters and what the bind DN may read.",
			count(goneUsers), count(seenUsers), count(goneGroups), count(len(owned.Groups)), threshold))
	}
	p.note(snap, owned)
	return p
}

// hold withholds the plan's disables, deletes and membership removals.
func (p *Plan) hold(why string) {
	p.Guard = why
	p.Withheld = len(p.Disables) + len(p.Deletes)
	p.Disables, p.Deletes = nil, nil
	kept := p.Updates[:0]
	for _, c := range p.Updates {
		p.Withheld += len(c.Remove)
		c.Remove = nil
		if c.Attributes || len(c.Add) > 0 {
			kept = append(kept, c)
		}
	}
	p.Updates = kept
}

// note lists what the pass could not use, the first few of each kind.
func (p *Plan) note(snap *Snapshot, owned *Owned) {
	const most = 10
	invalid := slices.Sorted(maps.Values(snap.Invalid))
	for i, why := range invalid {
		if i == most {
			p.Notes = append(p.Notes, fmt.Sprintf("and %d more entries that could not be mapped", len(invalid)-most))
			break
		}
		p.Notes = append(p.Notes, "not mapped: "+why)
	}
	if snap.Unresolved > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d member or manager DNs name entries outside the source's users and groups; they were left out", snap.Unresolved))
	}
	if len(owned.Duplicates) > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("left alone, as their externalId copies another resource's: %s", strings.Join(owned.Duplicates, ", ")))
	}
}

// count writes n with thousands separators, as administrators read it.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
