package provision

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
)

// findPrincipal finds the user or group p names in a tenant's directory:
// what an assignment and a provision on demand name.
func findPrincipal(ctx context.Context, st store.Store, tenantID string, p Principal) (*store.Resource, error) {
	typ := p.Type
	switch strings.ToLower(typ) {
	case "user", "users":
		typ = store.UserType
	case "group", "groups":
		typ = store.GroupType
	default:
		return nil, invalid("a principal is a User or a Group, not %q", p.Type)
	}
	if p.ID != "" {
		return st.Get(ctx, tenantID, typ, p.ID, store.ReadOptions{})
	}
	if p.Name == "" {
		return nil, invalid("name the %s by id or name", strings.ToLower(typ))
	}
	attr := "userName"
	if typ == store.GroupType {
		attr = "displayName"
	}
	b, _ := json.Marshal(p.Name)
	f, err := filter.Parse(attr + " eq " + string(b))
	if err != nil {
		return nil, err
	}
	page, err := st.Query(ctx, tenantID, typ, store.Query{Filter: f, Count: 2})
	if err != nil {
		return nil, err
	}
	switch len(page.Resources) {
	case 0:
		// Let an id given as a name work too.
		if r, err := st.Get(ctx, tenantID, typ, p.Name, store.ReadOptions{}); err == nil {
			return r, nil
		}
		return nil, scim.Errorf(404, "", "no %s named %q", strings.ToLower(typ), p.Name)
	case 1:
		return page.Resources[0], nil
	}
	return nil, scim.Errorf(409, "", "several groups are named %q; name it by id", p.Name)
}
