package sqlstore

import (
	"database/sql"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// Member is a resolved membership edge: the resources row on its other
// side, a group's member or a user's group.
type Member struct {
	RID      int64
	ID, Type string
	Display  sql.NullString
}

// ScanMember reads a row of (rid, id, type, display) of resources.
func ScanMember(row Row) (Member, error) {
	var m Member
	err := row.Scan(&m.RID, &m.ID, &m.Type, &m.Display)
	return m, err
}

// MemberList returns the members as a resource shows them.
func MemberList(ms []Member) []store.Member {
	out := make([]store.Member, len(ms))
	for i, m := range ms {
		out[i] = store.Member{ID: m.ID, Type: m.Type, Display: m.Display.String}
	}
	return out
}

// MemberKeys returns the id keys (resources.id_key) of the resources the
// members name, in order.
func MemberKeys(ms []store.Member) ([]string, error) {
	keys := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.ID == "" {
			return nil, noMemberID()
		}
		keys = append(keys, sqlfilter.FoldKey(m.ID))
	}
	return keys, nil
}

// ResolveMembers finds the resources the members of the group groupRID (0
// for a group not yet stored) name, without duplicates, in the order
// given. find looks up the tenant's resource whose id is id ignoring case
// (whose id_key is sqlfilter.FoldKey(id)) and reports whether there is
// one. A member without an id, one that names no resource, or the group
// itself is store.ErrInvalid.
func ResolveMembers(ms []store.Member, groupRID int64, find func(id string) (Member, bool, error)) ([]Member, error) {
	seen := make(map[int64]bool, len(ms))
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if m.ID == "" {
			return nil, noMemberID()
		}
		r, ok, err := find(m.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, store.Invalid("member %q does not exist", m.ID)
		}
		if r.RID == groupRID {
			return nil, store.Invalid("group %q cannot be a member of itself", r.ID)
		}
		if !seen[r.RID] {
			seen[r.RID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func noMemberID() *store.Error { return store.Invalid("a member has no value (id)") }

// DiffMembers compares a group's current members with the resolved new
// ones. A removed member has its ID and Type only.
func DiffMembers(cur []store.Member, next []Member) (added, removed []Member) {
	have := make(map[string]bool, len(cur))
	for _, m := range cur {
		have[m.ID] = true
	}
	want := make(map[string]bool, len(next))
	for _, m := range next {
		want[m.ID] = true
		if !have[m.ID] {
			added = append(added, m)
		}
	}
	for _, m := range cur {
		if !want[m.ID] {
			removed = append(removed, Member{ID: m.ID, Type: m.Type})
		}
	}
	return added, removed
}
