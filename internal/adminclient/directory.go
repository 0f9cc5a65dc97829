package adminclient

import (
	"context"
	"net/url"
	"strconv"

	"github.com/ferryid/ferry/internal/directory"
)

// The directory's users and groups (ferry users, ferry groups). A user is
// named by userName or id, a group by displayName or id.

// listQuery is a listing's filter, offset and limit, each left out when
// zero.
func listQuery(filter string, offset, n int) url.Values {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if n > 0 {
		q.Set("limit", strconv.Itoa(n))
	}
	return q
}

func userPath(name string, rest ...string) string {
	p := "/users/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func groupPath(name string, rest ...string) string {
	p := "/groups/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// Users lists users matching a SCIM filter ("" for all), skipping offset,
// at most n (the server's default when 0).
func (c *Client) Users(ctx context.Context, filter string, offset, n int) (*directory.UserList, []byte, error) {
	return getOne[directory.UserList](ctx, c, "GET", "/users", listQuery(filter, offset, n), nil)
}

// User reads a user.
func (c *Client) User(ctx context.Context, name string) (*directory.User, []byte, error) {
	return getOne[directory.User](ctx, c, "GET", userPath(name), nil, nil)
}

// CreateUser creates an active user.
func (c *Client) CreateUser(ctx context.Context, in directory.NewUser) (*directory.User, []byte, error) {
	return getOne[directory.User](ctx, c, "POST", "/users", nil, in)
}

// DisableUser sets a user's active to false; EnableUser to true.
func (c *Client) DisableUser(ctx context.Context, name string) (*directory.User, []byte, error) {
	return getOne[directory.User](ctx, c, "POST", userPath(name, "disable"), nil, nil)
}

// EnableUser: see DisableUser.
func (c *Client) EnableUser(ctx context.Context, name string) (*directory.User, []byte, error) {
	return getOne[directory.User](ctx, c, "POST", userPath(name, "enable"), nil, nil)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.send(ctx, "DELETE", userPath(name), nil)
}

// Groups lists groups as Users lists users.
func (c *Client) Groups(ctx context.Context, filter string, offset, n int) (*directory.GroupList, []byte, error) {
	return getOne[directory.GroupList](ctx, c, "GET", "/groups", listQuery(filter, offset, n), nil)
}

// Group reads a group with its members.
func (c *Client) Group(ctx context.Context, name string) (*directory.Group, []byte, error) {
	return getOne[directory.Group](ctx, c, "GET", groupPath(name), nil, nil)
}

// CreateGroup creates an empty group.
func (c *Client) CreateGroup(ctx context.Context, displayName string) (*directory.Group, []byte, error) {
	return getOne[directory.Group](ctx, c, "POST", "/groups", nil, directory.NewGroup{DisplayName: displayName})
}

// DeleteGroup deletes a group; its members stay.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.send(ctx, "DELETE", groupPath(name), nil)
}

// AddMember adds a user to a group.
func (c *Client) AddMember(ctx context.Context, group, user string) (*directory.Group, []byte, error) {
	return getOne[directory.Group](ctx, c, "POST", groupPath(group, "members"), nil, directory.NewMember{User: user})
}

// RemoveMember takes a user out of a group.
func (c *Client) RemoveMember(ctx context.Context, group, user string) (*directory.Group, []byte, error) {
	return getOne[directory.Group](ctx, c, "DELETE", groupPath(group, "members", url.PathEscape(user)), nil, nil)
}
