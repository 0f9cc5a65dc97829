package console

import (
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// directoryPageSize is how many users or groups a page of the directory
// shows; pages are keyset pages in the database (store.Query.After).
const directoryPageSize = 50

// directoryData is the directory pages'.
type directoryData struct {
	// Type is store.UserType or store.GroupType; Search the text typed.
	Type, Search string
	Rows         []directoryRow
	// Next is the id the next page starts after, "" on the last.
	Next  string
	Total int
	// One is the resource shown alone, with Members its group's members
	// or its user's groups.
	One     *directoryRow
	Members []store.Member
}

// directoryRow is a user or a group as the directory pages show it.
type directoryRow struct {
	ID, Name, DisplayName, Email string
	Active                       bool
	Modified                     string
}

func rowOf(res *store.Resource) directoryRow {
	d := res.Doc
	row := directoryRow{ID: res.ID, Modified: when(res.LastModified)}
	row.Name, _ = d.String(nameAttr(res.Type))
	row.DisplayName, _ = d.String("displayName")
	row.Active, _ = d["active"].(bool)
	if emails, ok := d["emails"].([]any); ok {
		for _, e := range emails {
			if m, ok := e.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					row.Email = v
					if p, _ := m["primary"].(bool); p {
						break
					}
				}
			}
		}
	}
	return row
}

// directoryList lists the tenant's users or groups (the request's {type}:
// "users" or "groups"), searched by name when q is given.
func (c *Console) directoryList(w http.ResponseWriter, r *http.Request, s *session) {
	typ, ok := directoryType(r.PathValue("type"))
	if !ok {
		c.notFound(w, r)
		return
	}
	data := directoryData{Type: typ, Search: strings.TrimSpace(r.URL.Query().Get("q"))}
	q := store.Query{Count: directoryPageSize, After: &store.Position{ID: r.URL.Query().Get("after")}}
	if data.Search != "" {
		f, err := searchFilter(typ, data.Search)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		q.Filter = f
	}
	p, err := c.cfg.Store.Query(r.Context(), s.TenantID, typ, q)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	data.Total = p.Total
	for _, res := range p.Resources {
		data.Rows = append(data.Rows, rowOf(res))
	}
	if p.Next != nil {
		data.Next = p.Next.ID
	}
	c.render(w, r, http.StatusOK, "directory", page{Title: typ + "s", Session: s, Nav: "directory", Data: data})
}

// directoryOne shows one user with its groups, or one group with its
// members.
func (c *Console) directoryOne(w http.ResponseWriter, r *http.Request, s *session) {
	typ, ok := directoryType(r.PathValue("type"))
	if !ok {
		c.notFound(w, r)
		return
	}
	res, err := c.cfg.Store.Get(r.Context(), s.TenantID, typ, r.PathValue("id"), store.ReadOptions{Members: true})
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	row := rowOf(res)
	data := directoryData{Type: typ, One: &row, Members: res.Members}
	if typ == store.UserType {
		data.Members = res.Groups
	}
	c.render(w, r, http.StatusOK, "directory-one", page{Title: row.Name, Session: s, Nav: "directory", Data: struct {
		directoryData
		Doc resource.Document
	}{data, res.Doc}})
}

// directoryType is the store type of a directory page's {type}.
func directoryType(segment string) (string, bool) {
	switch segment {
	case "users":
		return store.UserType, true
	case "groups":
		return store.GroupType, true
	}
	return "", false
}
