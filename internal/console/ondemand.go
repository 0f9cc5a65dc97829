package console

import (
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// onDemandData is the provision on demand page's: the form, and what the
// provisioning did.
type onDemandData struct {
	App    *provision.AppView
	User   string
	Group  string
	Result *provision.OnDemandResult
}

func (c *Console) onDemandPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "ondemand", page{Title: "Provision on demand", Session: s, Nav: "apps", Data: onDemandData{App: d.App}})
}

// provisionOnDemand provisions one user, or one group and up to five of
// its members, now, and shows each step, as Entra's "Provision on
// demand" does.
func (c *Console) provisionOnDemand(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	data := onDemandData{App: d.App, User: strings.TrimSpace(r.PostFormValue("user")), Group: strings.TrimSpace(r.PostFormValue("group"))}
	res, err := c.cfg.Admin.ProvisionOnDemand(r.Context(), s.TenantID, d.App.Name, provision.OnDemandRequest{User: data.User, Group: data.Group})
	if err != nil {
		status, message, ok := problem(err)
		if !ok {
			c.serverError(w, r, err)
			return
		}
		c.render(w, r, status, "ondemand", page{Title: "Provision on demand", Session: s, Nav: "apps", Error: message, Data: data})
		return
	}
	data.Result = res
	c.render(w, r, http.StatusOK, "ondemand", page{Title: "Provision on demand", Session: s, Nav: "apps", Data: data})
}
