package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/provision/scoping"
)

// scopingData is the scoping filters page's.
type scopingData struct {
	App       *provision.AppView
	Object    *provision.ObjectMapping
	Operators []scoping.Operator
	// Form is the clause being added, shown back when it was refused.
	Form scoping.Clause
}

func (c *Console) scopingPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	obj, err := objectOf(&d.App.Config, r)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "scoping", page{Title: "Scoping filters", Session: s, Nav: "apps",
		Data: scopingData{App: d.App, Object: obj, Operators: scoping.Operators()}})
}

// addClause adds a clause to a scoping filter (form field "filter": its
// index, or "new" for a new filter, whose clauses are ANDed; filters are
// ORed, as in Entra).
func (c *Console) addClause(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	clause := scoping.Clause{Attribute: strings.TrimSpace(r.PostFormValue("attribute")),
		Operator: scoping.Operator(r.PostFormValue("operator")), Value: r.PostFormValue("value")}
	err := c.changeObject(r, s, d.App, func(obj *provision.ObjectMapping) error {
		which := r.PostFormValue("filter")
		if which == "new" || which == "" {
			obj.Scoping = append(obj.Scoping, scoping.Filter{Title: strings.TrimSpace(r.PostFormValue("title")), Clauses: []scoping.Clause{clause}})
			return nil
		}
		i, err := strconv.Atoi(which)
		if err != nil || i < 0 || i >= len(obj.Scoping) {
			return notFoundError("no scoping filter %q", which)
		}
		obj.Scoping[i].Clauses = append(slices.Clone(obj.Scoping[i].Clauses), clause)
		return nil
	})
	c.scopingSaved(w, r, s, d.App, clause, err, "Scoping clause added.")
}

// removeClause removes a clause, and its filter when it was the last.
func (c *Console) removeClause(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	err := c.changeObject(r, s, d.App, func(obj *provision.ObjectMapping) error {
		fi, err1 := strconv.Atoi(r.PathValue("filter"))
		ci, err2 := strconv.Atoi(r.PathValue("clause"))
		if err1 != nil || err2 != nil || fi < 0 || fi >= len(obj.Scoping) || ci < 0 || ci >= len(obj.Scoping[fi].Clauses) {
			return notFoundError("no such scoping clause")
		}
		if clauses := slices.Delete(slices.Clone(obj.Scoping[fi].Clauses), ci, ci+1); len(clauses) > 0 {
			obj.Scoping[fi].Clauses = clauses
		} else {
			obj.Scoping = slices.Delete(obj.Scoping, fi, fi+1)
		}
		return nil
	})
	c.scopingSaved(w, r, s, d.App, scoping.Clause{}, err, "Scoping clause removed.")
}

// scopingSaved shows the scoping page after a change: with the notice, or
// with the error and the refused clause.
func (c *Console) scopingSaved(w http.ResponseWriter, r *http.Request, s *session, app *provision.AppView, clause scoping.Clause, err error, notice string) {
	status, message := http.StatusOK, ""
	if err != nil {
		var ok bool
		if status, message, ok = problem(err); !ok {
			c.serverError(w, r, err)
			return
		}
		notice = ""
	}
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	obj, oerr := objectOf(&d.App.Config, r)
	if oerr != nil {
		c.adminError(w, r, s, oerr)
		return
	}
	if err == nil {
		clause = scoping.Clause{}
	}
	c.render(w, r, status, "scoping", page{Title: "Scoping filters", Session: s, Nav: "apps", Notice: notice, Error: message,
		Data: scopingData{App: d.App, Object: obj, Operators: scoping.Operators(), Form: clause}})
}
