package console

import (
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// appRow is one application in the applications list.
type appRow struct {
	App    *provision.AppView
	Status *provision.Status
}

func (c *Console) appsPage(w http.ResponseWriter, r *http.Request, s *session) {
	apps, err := c.cfg.Admin.Apps(r.Context(), s.TenantID)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	rows := make([]appRow, 0, len(apps))
	for _, a := range apps {
		st, err := c.cfg.Admin.Status(r.Context(), s.TenantID, a.Name)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		rows = append(rows, appRow{App: a, Status: st})
	}
	c.render(w, r, http.StatusOK, "apps", page{Title: "Applications", Session: s, Nav: "apps", Data: rows})
}

// appData is the application page's.
type appData struct {
	App    *provision.AppView
	Status *provision.Status
	// Test is the result of Test Connection, when one was just run.
	Test *provision.TestResult
}

// loadApp reads the application of the request's {name} and its status;
// it answers the request itself (404, 500) and reports false when it
// cannot.
func (c *Console) loadApp(w http.ResponseWriter, r *http.Request, s *session) (appData, bool) {
	name := r.PathValue("name")
	app, err := c.cfg.Admin.App(r.Context(), s.TenantID, name)
	if err != nil {
		c.adminError(w, r, s, err)
		return appData{}, false
	}
	st, err := c.cfg.Admin.Status(r.Context(), s.TenantID, name)
	if err != nil {
		c.adminError(w, r, s, err)
		return appData{}, false
	}
	return appData{App: app, Status: st}, true
}

func (c *Console) appPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "app", page{Title: d.App.Name, Session: s, Nav: "apps", Data: d})
}

// appStatus is the live part of the application page: the provisioning
// status, the running cycle's progress and the quarantine banner, which
// the page polls.
func (c *Console) appStatus(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.renderFragment(w, r, http.StatusOK, "app", "status", page{Session: s, Data: d})
}

// saveCredentials saves the Tenant URL and, when one is typed, a new
// Secret Token: the secret is write-only, never shown, and an empty field
// keeps the one saved.
func (c *Console) saveCredentials(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	tenantURL := strings.TrimSpace(r.PostFormValue("tenantUrl"))
	ch := provision.AppChange{TenantURL: &tenantURL}
	if secret := r.PostFormValue("secretToken"); secret != "" {
		ch.SecretToken = &secret
	}
	if _, err := c.cfg.Admin.UpdateApp(r.Context(), s.TenantID, name, 0, ch); err != nil {
		c.adminError(w, r, s, err)
		return
	}
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "app", page{Title: d.App.Name, Session: s, Nav: "apps", Notice: "Admin credentials saved.", Data: d})
}

// testConnection runs Test Connection and shows its result in place.
func (c *Console) testConnection(w http.ResponseWriter, r *http.Request, s *session) {
	res, err := c.cfg.Admin.TestConnection(r.Context(), s.TenantID, r.PathValue("name"))
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.renderFragment(w, r, http.StatusOK, "app", "test-result", page{Session: s, Data: appData{Test: res}})
}

// setProvisioning turns provisioning On (after a passing Test
// Connection, as the engine requires) or Off.
func (c *Console) setProvisioning(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var err error
	notice := ""
	switch r.PostFormValue("status") {
	case "on":
		err, notice = c.cfg.Admin.Start(r.Context(), s.TenantID, name, false), "Provisioning is On."
	case "off":
		err, notice = c.cfg.Admin.Stop(r.Context(), s.TenantID, name), "Provisioning is Off."
	default:
		c.refuse(w, r, s, http.StatusBadRequest, "Provisioning Status is On or Off.")
		return
	}
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "app", page{Title: d.App.Name, Session: s, Nav: "apps", Notice: notice, Data: d})
}

// adminError answers an error of the admin interface: a client's mistake
// (not found, invalid, conflict) with its message and status, anything
// else as the server's.
func (c *Console) adminError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if status, message, ok := problem(err); ok {
		c.refuse(w, r, s, status, message)
		return
	}
	c.serverError(w, r, err)
}
