package sqlstore

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

func TestResolveMembers(t *testing.T) {
	t.Parallel()
	rows := map[string]Member{
		"u1": {RID: 1, ID: "U1", Type: store.UserType},
		"u2": {RID: 2, ID: "u2", Type: store.UserType},
		"g9": {RID: 9, ID: "g9", Type: store.GroupType},
	}
	broken := errors.New("connection lost")
	find := func(id string) (Member, bool, error) {
		if id == "broken" {
			return Member{}, false, broken
		}
		m, ok := rows[strings.ToLower(id)]
		return m, ok, nil
	}
	tests := []struct {
		name    string
		members []string
		want    []int64 // rids
		wantErr error
	}{
		{"in the order given", []string{"u2", "u1"}, []int64{2, 1}, nil},
		{"once each, whatever the case", []string{"u1", "U1", "u2", "u1"}, []int64{1, 2}, nil},
		{"none", nil, nil, nil},
		{"a member without an id", []string{"u1", ""}, nil, store.ErrInvalid},
		{"a member that does not exist", []string{"u1", "nobody"}, nil, store.ErrInvalid},
		{"the group itself", []string{"u1", "g9"}, nil, store.ErrInvalid},
		{"a failed lookup", []string{"broken"}, nil, broken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ms []store.Member
			for _, id := range tc.members {
				ms = append(ms, store.Member{ID: id})
			}
			got, err := ResolveMembers(ms, 9, find)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ResolveMembers(%q) = %v, %v; want %v", tc.members, got, err, tc.wantErr)
				}
				return
			}
			var rids []int64
			for _, m := range got {
				rids = append(rids, m.RID)
			}
			if err != nil || !slices.Equal(rids, tc.want) {
				t.Errorf("ResolveMembers(%q) = rids %v, %v; want %v", tc.members, rids, err, tc.want)
			}
		})
	}
}

func TestDiffMembers(t *testing.T) {
	t.Parallel()
	cur := []store.Member{{ID: "a", Type: store.UserType, Display: "A"}, {ID: "b", Type: store.GroupType}}
	next := []Member{{RID: 2, ID: "b", Type: store.GroupType}, {RID: 3, ID: "c", Type: store.UserType}}
	added, removed := DiffMembers(cur, next)
	if want := []Member{next[1]}; !slices.Equal(added, want) {
		t.Errorf("added = %+v, want %+v", added, want)
	}
	if want := []Member{{ID: "a", Type: store.UserType}}; !slices.Equal(removed, want) {
		t.Errorf("removed = %+v, want %+v", removed, want)
	}
}
