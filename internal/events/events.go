// Package events is the directory's change feed as events, for the
// applications that consume the directory (GET /api/v1/events, ferry
// events tail): user.created, user.updated, user.deactivated,
// user.reactivated, user.deleted, group.created, group.updated,
// group.deleted, group.member_added and group.member_removed.
//
// Events are derived when they are read from what the store recorded with
// each change, in the write's own transaction (store.ChangeDetail): the
// object's state after the change, the attributes it changed, the members
// it added and removed. So they come in commit order, none is lost between
// a write and its event, and reading them again gives the same events
// with the same ids, which is what a consumer de-duplicates by. A change
// of active is a user.deactivated or user.reactivated, never a
// user.updated, since that is what consumers act on.
//
// A cursor names the last event a reader has: "<seq>" for every event of
// the change-feed entry seq, "<seq>.<n>" for its events up to the n-th
// (from 0). It stays valid while the change feed keeps the events after
// it, across restarts and on every replica. Once the feed's retention
// (ferry serve --events-retention, store.Store.PruneChanges) deleted
// events after a cursor, reading after it is an *ExpiredError (410 Gone
// in the admin API): the reader starts again from the oldest event kept,
// with no cursor, or accepts the loss and continues after Oldest.
package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// The event types.
const (
	UserCreated        = "user.created"
	UserUpdated        = "user.updated"
	UserDeactivated    = "user.deactivated"
	UserReactivated    = "user.reactivated"
	UserDeleted        = "user.deleted"
	GroupCreated       = "group.created"
	GroupUpdated       = "group.updated"
	GroupDeleted       = "group.deleted"
	GroupMemberAdded   = "group.member_added"
	GroupMemberRemoved = "group.member_removed"
)

// Types lists the event types.
func Types() []string {
	return []string{UserCreated, UserUpdated, UserDeactivated, UserReactivated, UserDeleted,
		GroupCreated, GroupUpdated, GroupDeleted, GroupMemberAdded, GroupMemberRemoved}
}

// The bounds of a page of events.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Object names the user or group an event is about.
type Object struct {
	Type string `json:"type"` // User or Group
	ID   string `json:"id"`
}

// Event is one thing that happened in the directory.
type Event struct {
	// ID is unique in the tenant and the same each time the event is
	// read; it is also a cursor that continues after the event.
	ID     string    `json:"id"`
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Object Object    `json:"object"`
	// State is the object after the change (a SCIM document without id
	// and meta; a group's without members); none for a delete or a
	// membership event.
	State resource.Document `json:"state,omitempty"`
	// Changed names the attributes an update changed.
	Changed []string `json:"changed,omitempty"`
	// Member is the user (or group) that joined or left, for
	// group.member_added and group.member_removed.
	Member *Object `json:"member,omitempty"`
}

// Page is a page of events and the cursor that continues after it.
type Page struct {
	Events []Event `json:"events"`
	// Next is the cursor to ask with for the events after these: the last
	// event's, or the one asked with when there were none yet.
	Next string `json:"next"`
}

// Query says which events to read.
type Query struct {
	After string   // a cursor; "" reads from the first event kept
	Limit int      // DefaultLimit when 0, at most MaxLimit
	Types []string // event types, or a family such as "user.*"; all when empty
}

// cursor is a decoded cursor: every event of entry seq up to the n-th;
// n < 0 means all of them.
type cursor struct {
	seq int64
	n   int
}

func (c cursor) String() string {
	if c.n < 0 {
		return strconv.FormatInt(c.seq, 10)
	}
	return strconv.FormatInt(c.seq, 10) + "." + strconv.Itoa(c.n)
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{n: -1}, nil
	}
	seqText, nText, sub := strings.Cut(s, ".")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	c := cursor{seq: seq, n: -1}
	if err == nil && sub {
		c.n, err = strconv.Atoi(nText)
	}
	if err != nil || c.seq < 0 || (sub && c.n < 0) {
		return cursor{}, scim.BadRequest(scim.InvalidValue, "after %q is not a cursor of this API: pass the id of an event or a page's next", s)
	}
	return c, nil
}

// CheckTypes refuses a type that is no event type or family of them, with
// a 400 that lists the types.
func CheckTypes(types []string) error {
	known := Types()
	for _, t := range types {
		family, wild := strings.CutSuffix(t, ".*")
		ok := false
		for _, k := range known {
			if k == t || (wild && strings.HasPrefix(k, family+".")) {
				ok = true
				break
			}
		}
		if !ok {
			return scim.BadRequest(scim.InvalidValue, "types: %q is no event type; the types are %s, or user.* and group.*", t, strings.Join(known, ", "))
		}
	}
	return nil
}

// matches reports whether an event type is one of types (all when empty).
func matches(types []string, typ string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if family, wild := strings.CutSuffix(t, ".*"); t == typ || (wild && strings.HasPrefix(typ, family+".")) {
			return true
		}
	}
	return false
}

// batch is how many change-feed entries one read of List takes: more
// than a page of events, as some entries give none (a member's side of a
// membership, an assignment).
const batch = 500

// List reads a page of a tenant's events after q.After.
func List(ctx context.Context, st store.Store, tenantID string, q Query) (*Page, error) {
	cur, err := parseCursor(q.After)
	if err != nil {
		return nil, err
	}
	if err := CheckTypes(q.Types); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit < 0 || limit > MaxLimit {
		return nil, scim.BadRequest(scim.InvalidValue, "limit must be between 1 and %d", MaxLimit)
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	page := &Page{Events: []Event{}, Next: q.After}
	// A cursor inside an entry reads that entry again for its later
	// events.
	from := cur.seq
	if cur.n >= 0 {
		from--
	}
	for range maxBatches {
		changes, err := st.Changes(ctx, tenantID, from, batch)
		if from == 0 && cur.n >= 0 && err == nil && (len(changes) == 0 || changes[0].Seq != cur.seq) {
			// The cursor is inside entry 1, which is gone: the store cannot
			// tell, since after 0 reads from the oldest entry kept. Asked
			// after the entry, it tells how far the loss goes.
			if _, err = st.Changes(ctx, tenantID, cur.seq, 1); err == nil {
				err = &store.PrunedError{TenantID: tenantID, Horizon: cur.seq}
			}
		}
		if pe, ok := errors.AsType[*store.PrunedError](err); ok {
			return nil, &ExpiredError{After: q.After, Oldest: cursor{seq: pe.Horizon, n: -1}.String(), err: pe}
		}
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			for i, e := range FromChange(c) {
				if c.Seq == cur.seq && cur.n >= 0 && i <= cur.n {
					continue // the reader has it
				}
				if !matches(q.Types, e.Type) {
					page.Next = e.ID // passed over
					continue
				}
				if len(page.Events) == limit {
					return page, nil
				}
				page.Events = append(page.Events, e)
				page.Next = e.ID
			}
			// An entry read whole moves the cursor past it, events or
			// none, so that the next page does not read it again.
			page.Next = cursor{seq: c.Seq, n: -1}.String()
			from = c.Seq
			if len(page.Events) == limit {
				return page, nil
			}
		}
		if len(changes) < batch {
			break
		}
	}
	return page, nil
}

// ExpiredError says that events after a reader's cursor were deleted by
// the change feed's retention. errors.Is(err, store.ErrChangesPruned)
// holds for it.
type ExpiredError struct {
	After string // the cursor read after
	// Oldest is the cursor of the last event deleted: reading after it
	// gives the oldest event kept.
	Oldest string
	err    *store.PrunedError
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("the events after cursor %q, up to %s, were deleted by the server's event retention; read without after to start again from the oldest event kept (or after %s to go on from there, accepting the loss)",
		e.After, e.Oldest, e.Oldest)
}

// Unwrap returns the store's error.
func (e *ExpiredError) Unwrap() error { return e.err }

// maxBatches bounds the entries one page reads (maxBatches × batch): a
// reader of a rare type over a long feed gets a page with fewer events,
// or none, and a Next past what was read, and asks again.
const maxBatches = 10

// FromChange is the events of one change-feed entry, in order, each with
// its id.
func FromChange(c store.Change) []Event {
	d := c.Detail
	obj := Object{Type: c.Type, ID: c.ID}
	base := Event{Time: c.At.UTC(), Object: obj}
	var out []Event
	add := func(typ string, state resource.Document, changed []string, member *Object) {
		e := base
		e.Type, e.State, e.Changed, e.Member = typ, state, changed, member
		e.ID = cursor{seq: c.Seq, n: len(out)}.String()
		out = append(out, e)
	}
	user := c.Type == store.UserType
	switch c.Op {
	case store.OpCreate:
		if user {
			add(UserCreated, d.State, nil, nil)
		} else {
			add(GroupCreated, d.State, nil, nil)
		}
	case store.OpUpdate:
		switch {
		case user && contains(d.Changed, "active"):
			if active, ok := d.State["active"].(bool); ok && !active {
				add(UserDeactivated, d.State, d.Changed, nil)
			} else {
				add(UserReactivated, d.State, d.Changed, nil)
			}
		case user:
			add(UserUpdated, d.State, d.Changed, nil)
		case len(d.Changed) > 0 || (d.Empty()):
			// A group renamed; or an entry from before the store kept
			// details, which says only that the group changed.
			add(GroupUpdated, d.State, d.Changed, nil)
		}
	case store.OpDelete:
		if user {
			add(UserDeleted, nil, nil, nil)
		} else {
			add(GroupDeleted, nil, nil, nil)
		}
	}
	if !user {
		for _, m := range d.Added {
			add(GroupMemberAdded, nil, nil, &Object{Type: m.Type, ID: m.ID})
		}
		for _, m := range d.Removed {
			add(GroupMemberRemoved, nil, nil, &Object{Type: m.Type, ID: m.ID})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// ParseTypes splits a comma-separated list of types.
func ParseTypes(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
