// Package directory is the tenant's directory as an administrator handles
// it (ferry users, ferry groups and the admin API behind them): people and
// groups found by name, created from a few fields, disabled, enabled and
// deleted, and group members added and removed. It writes through the same
// store and schema checks as the SCIM API, so a change made here reaches
// the change feed, and from it every provisioned application, like any
// other.
package directory

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// The bounds of a listing.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// User is a directory user as an administrator reads it.
type User struct {
	ID           string    `json:"id"`
	UserName     string    `json:"userName"`
	DisplayName  string    `json:"displayName,omitempty"`
	GivenName    string    `json:"givenName,omitempty"`
	FamilyName   string    `json:"familyName,omitempty"`
	Email        string    `json:"email,omitempty"`
	Title        string    `json:"title,omitempty"`
	Department   string    `json:"department,omitempty"`
	ExternalID   string    `json:"externalId,omitempty"`
	Active       bool      `json:"active"`
	Groups       []string  `json:"groups"` // the names of the groups the user is a direct member of
	Version      int64     `json:"version"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
}

// Member is a group's member.
type Member struct {
	ID   string `json:"id"`
	Type string `json:"type"` // User or Group
	Name string `json:"name"` // the userName of a user, the displayName of a group
}

// Group is a directory group as an administrator reads it.
type Group struct {
	ID           string    `json:"id"`
	DisplayName  string    `json:"displayName"`
	ExternalID   string    `json:"externalId,omitempty"`
	Members      []Member  `json:"members"`
	Version      int64     `json:"version"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
}

// UserList is a page of users and the total of matches.
type UserList struct {
	Users []User `json:"users"`
	Total int    `json:"total"`
}

// GroupList is a page of groups and the total of matches.
type GroupList struct {
	Groups []Group `json:"groups"`
	Total  int     `json:"total"`
}

// NewGroup is what creating a group takes.
type NewGroup struct {
	DisplayName string `json:"displayName"`
}

// NewMember names the user to add to a group, by userName or id.
type NewMember struct {
	User string `json:"user"`
}

// NewUser is what creating a user takes: userName and the usual fields.
type NewUser struct {
	UserName   string `json:"userName"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Email      string `json:"email,omitempty"`
	Title      string `json:"title,omitempty"`
	Department string `json:"department,omitempty"`
}

// Service handles a directory for administrators.
type Service struct {
	store  store.Store
	users  *schema.ResourceType
	groups *schema.ResourceType
}

// New returns a Service over st, whose schemas are catalog's.
func New(st store.Store, catalog *schema.Catalog) *Service {
	return &Service{store: st, users: catalog.ResourceType(store.UserType), groups: catalog.ResourceType(store.GroupType)}
}

// Users lists users, sorted by userName, at most limit (DefaultLimit when
// 0), starting after the first offset, matching a SCIM filter (RFC 7644
// §3.4.2.2) when it is not empty. It returns the total of matches too.
func (s *Service) Users(ctx context.Context, tenantID, filterText string, offset, limit int) ([]User, int, error) {
	q, err := s.query(s.users, filterText, "userName", offset, limit)
	if err != nil {
		return nil, 0, err
	}
	page, err := s.store.Query(ctx, tenantID, store.UserType, q)
	if err != nil {
		return nil, 0, err
	}
	out := make([]User, 0, len(page.Resources))
	for _, r := range page.Resources {
		out = append(out, userView(r))
	}
	return out, page.Total, nil
}

// Groups lists groups as Users lists users, sorted by displayName.
func (s *Service) Groups(ctx context.Context, tenantID, filterText string, offset, limit int) ([]Group, int, error) {
	q, err := s.query(s.groups, filterText, "displayName", offset, limit)
	if err != nil {
		return nil, 0, err
	}
	page, err := s.store.Query(ctx, tenantID, store.GroupType, q)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Group, 0, len(page.Resources))
	for _, r := range page.Resources {
		out = append(out, groupView(r))
	}
	return out, page.Total, nil
}

func (s *Service) query(rt *schema.ResourceType, filterText, sortBy string, offset, limit int) (store.Query, error) {
	if limit < 0 || limit > MaxLimit {
		return store.Query{}, scim.BadRequest(scim.InvalidValue, "limit must be between 1 and %d", MaxLimit)
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if offset < 0 {
		return store.Query{}, scim.BadRequest(scim.InvalidValue, "offset must not be negative")
	}
	q := store.Query{SortBy: sortBy, StartIndex: offset + 1, Count: limit, ReadOptions: store.ReadOptions{Members: true}}
	if filterText != "" {
		e, err := filter.Parse(filterText)
		if err != nil {
			return store.Query{}, err
		}
		if err := filter.Check(e, rt); err != nil {
			return store.Query{}, err
		}
		q.Filter = e
	}
	return q, nil
}

// User reads a user by userName (ignoring case) or id.
func (s *Service) User(ctx context.Context, tenantID, name string) (*User, error) {
	r, err := s.find(ctx, tenantID, store.UserType, name)
	if err != nil {
		return nil, err
	}
	u := userView(r)
	return &u, nil
}

// Group reads a group by displayName (ignoring case) or id.
func (s *Service) Group(ctx context.Context, tenantID, name string) (*Group, error) {
	r, err := s.find(ctx, tenantID, store.GroupType, name)
	if err != nil {
		return nil, err
	}
	g := groupView(r)
	return &g, nil
}

// find reads a resource by its name (userName or displayName, which are
// unique ignoring case) or by id, with its members or groups.
func (s *Service) find(ctx context.Context, tenantID, typ, name string) (*store.Resource, error) {
	if strings.TrimSpace(name) == "" {
		return nil, scim.BadRequest(scim.InvalidValue, "name a %s by its %s or its id", strings.ToLower(typ), nameAttr(typ))
	}
	e := &filter.Compare{Path: filter.AttrPath{Name: nameAttr(typ)}, Op: filter.Eq, Value: filter.Value{Kind: filter.StringValue, Str: name}}
	page, err := s.store.Query(ctx, tenantID, typ, store.Query{Filter: e, Count: 1, ReadOptions: store.ReadOptions{Members: true}})
	if err != nil {
		return nil, err
	}
	if len(page.Resources) == 1 {
		return page.Resources[0], nil
	}
	r, err := s.store.Get(ctx, tenantID, typ, name, store.ReadOptions{Members: true})
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.NotFound("no %s is called %q", strings.ToLower(typ), name)
	}
	return r, err
}

func nameAttr(typ string) string {
	if typ == store.UserType {
		return "userName"
	}
	return "displayName"
}

// CreateUser creates an active user.
func (s *Service) CreateUser(ctx context.Context, tenantID string, in NewUser) (*User, error) {
	doc := resource.Document{"userName": in.UserName, "active": true}
	name := map[string]any{}
	if in.GivenName != "" {
		name["givenName"] = in.GivenName
	}
	if in.FamilyName != "" {
		name["familyName"] = in.FamilyName
	}
	if len(name) > 0 {
		doc["name"] = name
	}
	if in.Email != "" {
		doc["emails"] = []any{map[string]any{"value": in.Email, "type": "work", "primary": true}}
	}
	if in.Title != "" {
		doc["title"] = in.Title
	}
	if in.Department != "" {
		doc[scim.EnterpriseUserURN] = map[string]any{"department": in.Department}
	}
	if strings.TrimSpace(in.UserName) == "" {
		return nil, scim.BadRequest(scim.InvalidValue, "a user needs a userName")
	}
	norm, err := resource.Normalize(doc, s.users)
	if err != nil {
		return nil, err
	}
	r := &store.Resource{TenantID: tenantID, Type: store.UserType, Doc: norm}
	if err := s.store.Create(ctx, r); err != nil {
		return nil, err
	}
	return s.User(ctx, tenantID, r.ID)
}

// SetActive enables or disables a user; it reports whether that changed
// anything.
func (s *Service) SetActive(ctx context.Context, tenantID, name string, active bool) (*User, bool, error) {
	r, err := s.find(ctx, tenantID, store.UserType, name)
	if err != nil {
		return nil, false, err
	}
	changed := false
	_, err = s.store.Update(ctx, tenantID, store.UserType, r.ID, 0, func(cur *store.Resource) error {
		if v, ok := cur.Doc["active"].(bool); ok && v == active {
			return nil
		}
		cur.Doc = cur.Doc.Clone()
		cur.Doc["active"] = active
		changed = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	u, err := s.User(ctx, tenantID, r.ID)
	return u, changed, err
}

// DeleteUser deletes a user and its memberships.
func (s *Service) DeleteUser(ctx context.Context, tenantID, name string) error {
	return s.delete(ctx, tenantID, store.UserType, name)
}

// DeleteGroup deletes a group; its members stay.
func (s *Service) DeleteGroup(ctx context.Context, tenantID, name string) error {
	return s.delete(ctx, tenantID, store.GroupType, name)
}

func (s *Service) delete(ctx context.Context, tenantID, typ, name string) error {
	r, err := s.find(ctx, tenantID, typ, name)
	if err != nil {
		return err
	}
	return s.store.Delete(ctx, tenantID, typ, r.ID, 0)
}

// CreateGroup creates an empty group.
func (s *Service) CreateGroup(ctx context.Context, tenantID, displayName string) (*Group, error) {
	if strings.TrimSpace(displayName) == "" {
		return nil, scim.BadRequest(scim.InvalidValue, "a group needs a displayName")
	}
	norm, err := resource.Normalize(resource.Document{"displayName": displayName}, s.groups)
	if err != nil {
		return nil, err
	}
	r := &store.Resource{TenantID: tenantID, Type: store.GroupType, Doc: norm}
	if err := s.store.Create(ctx, r); err != nil {
		return nil, err
	}
	return s.Group(ctx, tenantID, r.ID)
}

// AddMember adds a user (by userName or id) to a group; RemoveMember
// takes one out. Each reports whether the membership changed: adding a
// member twice, or removing one that is not there, is not an error.
func (s *Service) AddMember(ctx context.Context, tenantID, group, user string) (*Group, bool, error) {
	return s.membership(ctx, tenantID, group, user, true)
}

// RemoveMember: see AddMember.
func (s *Service) RemoveMember(ctx context.Context, tenantID, group, user string) (*Group, bool, error) {
	return s.membership(ctx, tenantID, group, user, false)
}

func (s *Service) membership(ctx context.Context, tenantID, group, user string, add bool) (*Group, bool, error) {
	g, err := s.find(ctx, tenantID, store.GroupType, group)
	if err != nil {
		return nil, false, err
	}
	u, err := s.find(ctx, tenantID, store.UserType, user)
	if err != nil {
		return nil, false, err
	}
	changed := false
	_, err = s.store.Update(ctx, tenantID, store.GroupType, g.ID, 0, func(cur *store.Resource) error {
		kept := cur.Members[:0:0]
		for _, m := range cur.Members {
			if m.ID == u.ID {
				if add {
					return nil // a member already
				}
				changed = true
				continue
			}
			kept = append(kept, m)
		}
		if add {
			kept = append(kept, store.Member{ID: u.ID, Type: store.UserType})
			changed = true
		}
		cur.Members = kept
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	view, err := s.Group(ctx, tenantID, g.ID)
	return view, changed, err
}

// userView is a stored user as User.
func userView(r *store.Resource) User {
	d := r.Doc
	u := User{ID: r.ID, Version: r.Version, Created: r.Created.UTC(), LastModified: r.LastModified.UTC(), Active: true, Groups: []string{}}
	u.UserName, _ = d.String("userName")
	u.DisplayName, _ = d.String("displayName")
	u.ExternalID, _ = d.String("externalId")
	u.Title, _ = d.String("title")
	if v, ok := d["active"].(bool); ok {
		u.Active = v
	}
	if n, ok := d["name"].(map[string]any); ok {
		u.GivenName, _ = n["givenName"].(string)
		u.FamilyName, _ = n["familyName"].(string)
	}
	u.Email = primaryEmail(d)
	if ext, ok := d[scim.EnterpriseUserURN].(map[string]any); ok {
		u.Department, _ = ext["department"].(string)
	}
	for _, g := range r.Groups {
		u.Groups = append(u.Groups, g.Display)
	}
	return u
}

// primaryEmail is the primary email, else the work one, else the first.
func primaryEmail(d resource.Document) string {
	list, _ := d["emails"].([]any)
	pick := ""
	for i, e := range list {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		switch {
		case m["primary"] == true:
			return v
		case m["type"] == "work" && pick == "", i == 0:
			pick = v
		}
	}
	return pick
}

// groupView is a stored group as Group.
func groupView(r *store.Resource) Group {
	g := Group{ID: r.ID, Version: r.Version, Created: r.Created.UTC(), LastModified: r.LastModified.UTC(), Members: []Member{}}
	g.DisplayName, _ = r.Doc.String("displayName")
	g.ExternalID, _ = r.Doc.String("externalId")
	for _, m := range r.Members {
		g.Members = append(g.Members, Member{ID: m.ID, Type: m.Type, Name: m.Display})
	}
	return g
}
