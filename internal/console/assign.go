package console

import (
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/store"
)

// searchLimit is how many directory matches a search shows;
// assignPageSize how many assignments a page shows.
const (
	searchLimit    = 20
	assignPageSize = 50
)

// assignData is the users and groups page's.
type assignData struct {
	App         *provision.AppView
	Assignments []provision.AssignmentView
	// Next is where the next page of assignments starts ("Type/id"), ""
	// on the last.
	Next string
	// Search is the directory search typed, and Users and Groups what
	// it found.
	Search        string
	Users, Groups []found
	// Roles are the application's roles, for the assignment's role.
	Roles []string
}

// found is a directory user or group a search found.
type found struct {
	ID, Name, Detail string
}

func (c *Console) assignPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showAssignments(w, r, s, http.StatusOK, "", "")
}

// showAssignments renders the users and groups page with a notice or an
// error.
func (c *Console) showAssignments(w http.ResponseWriter, r *http.Request, s *session, status int, notice, problem string) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	afterType, afterID, _ := strings.Cut(r.URL.Query().Get("after"), "/")
	as, err := c.cfg.Admin.AssignmentsPage(r.Context(), s.TenantID, d.App.Name, afterType, afterID, assignPageSize+1)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	data := assignData{App: d.App, Assignments: as, Search: strings.TrimSpace(r.FormValue("q"))}
	if len(as) > assignPageSize {
		last := as[assignPageSize-1]
		data.Assignments, data.Next = as[:assignPageSize], last.PrincipalType+"/"+last.PrincipalID
	}
	for _, role := range d.App.Config.Roles {
		data.Roles = append(data.Roles, role.Name)
	}
	if data.Search != "" {
		if data.Users, err = c.search(r, s, store.UserType, data.Search); err == nil {
			data.Groups, err = c.search(r, s, store.GroupType, data.Search)
		}
		if err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	c.render(w, r, status, "assign", page{Title: "Users and groups of " + d.App.Name, Session: s, Nav: "apps",
		Notice: notice, Error: problem, Data: data})
}

// search finds users by userName, displayName or email, or groups by
// displayName, containing text, in the database.
func (c *Console) search(r *http.Request, s *session, typ, text string) ([]found, error) {
	f, err := searchFilter(typ, text)
	if err != nil {
		return nil, err
	}
	p, err := c.cfg.Store.Query(r.Context(), s.TenantID, typ, store.Query{Filter: f, SortBy: nameAttr(typ), Count: searchLimit})
	if err != nil {
		return nil, err
	}
	var out []found
	for _, res := range p.Resources {
		name, _ := res.Doc.String(nameAttr(typ))
		detail, _ := res.Doc.String("displayName")
		if typ == store.GroupType {
			detail = ""
		}
		out = append(out, found{ID: res.ID, Name: name, Detail: detail})
	}
	return out, nil
}

// searchFilter is the filter of a search of the directory: users whose
// userName, displayName or an email contains text, or groups whose
// displayName does.
func searchFilter(typ, text string) (filter.Expr, error) {
	lit := jsonString(text)
	expr := `displayName co ` + lit
	if typ == store.UserType {
		expr = `userName co ` + lit + ` or displayName co ` + lit + ` or emails.value co ` + lit
	}
	return filter.Parse(expr)
}

// nameAttr is what a user or group is named by.
func nameAttr(typ string) string {
	if typ == store.GroupType {
		return "displayName"
	}
	return "userName"
}

// assign assigns a user or a group, by id, with a role.
func (c *Console) assign(w http.ResponseWriter, r *http.Request, s *session) {
	p := provision.Principal{Type: r.PostFormValue("type"), ID: r.PostFormValue("id")}
	if _, err := c.cfg.Admin.Assign(r.Context(), s.TenantID, r.PathValue("name"), p, r.PostFormValue("role")); err != nil {
		c.assignFailed(w, r, s, err)
		return
	}
	c.showAssignments(w, r, s, http.StatusOK, p.Type+" assigned.", "")
}

func (c *Console) unassign(w http.ResponseWriter, r *http.Request, s *session) {
	p := provision.Principal{Type: r.PostFormValue("type"), ID: r.PostFormValue("id")}
	if err := c.cfg.Admin.Unassign(r.Context(), s.TenantID, r.PathValue("name"), p); err != nil {
		c.assignFailed(w, r, s, err)
		return
	}
	c.showAssignments(w, r, s, http.StatusOK, p.Type+" unassigned.", "")
}

func (c *Console) assignFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, message, ok := problem(err)
	if !ok {
		c.serverError(w, r, err)
		return
	}
	c.showAssignments(w, r, s, status, "", message)
}
