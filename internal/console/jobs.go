package console

import (
	"net/http"

	"github.com/ferryid/ferry/internal/provision"
)

// restartPage asks for confirmation before a restart: Restart provisioning
// (a full cycle next), or with "clear current state" (Entra's restart
// with reset: every object matched anew).
func (c *Console) restartPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "restart", page{Title: "Restart " + d.App.Name, Session: s, Nav: "apps", Data: d})
}

func (c *Console) restart(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	reset := r.PostFormValue("reset") == "on"
	if err := c.cfg.Admin.Restart(r.Context(), s.TenantID, name, reset); err != nil {
		c.adminError(w, r, s, err)
		return
	}
	notice := "Provisioning restarted: the next cycle is a full one."
	if reset {
		notice = "Provisioning restarted with its state cleared: the next cycle matches every object anew."
	}
	c.showApp(w, r, s, notice)
}

// decideDeletes allows or rejects the disables and deletes the
// accidental-deletion threshold holds.
func (c *Console) decideDeletes(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var err error
	notice := ""
	switch r.PostFormValue("decision") {
	case "allow":
		err, notice = c.cfg.Admin.AllowDeletes(r.Context(), s.TenantID, name), "The held disables and deletes are being sent."
	case "reject":
		err, notice = c.cfg.Admin.RejectDeletes(r.Context(), s.TenantID, name), "The held disables and deletes were dropped."
	default:
		c.refuse(w, r, s, http.StatusBadRequest, "Allow or reject the held disables and deletes.")
		return
	}
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.showApp(w, r, s, notice)
}

// retry retries every object in escrow now.
func (c *Console) retry(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.cfg.Admin.Retry(r.Context(), s.TenantID, r.PathValue("name")); err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.showApp(w, r, s, "The failed objects are being retried.")
}

// showApp renders the application's page with a notice.
func (c *Console) showApp(w http.ResponseWriter, r *http.Request, s *session, notice string) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "app", page{Title: d.App.Name, Session: s, Nav: "apps", Notice: notice, Data: d})
}

// failuresData is the failures page's.
type failuresData struct {
	App      *provision.AppView
	Failures []provision.Failure
}

// failuresPage lists the objects in escrow, with their errors.
func (c *Console) failuresPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	fs, err := c.cfg.Admin.Failures(r.Context(), s.TenantID, d.App.Name, 0)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "failures", page{Title: "Failures of " + d.App.Name, Session: s, Nav: "apps", Data: failuresData{App: d.App, Failures: fs}})
}

// planData is the plan page's.
type planData struct {
	App  *provision.AppView
	Plan *provision.Plan
}

// planPage offers to compute the plan: a full cycle's dry run reads the
// whole scope and the target, so the page does not run it on its own.
func (c *Console) planPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "plan", page{Title: "Plan of " + d.App.Name, Session: s, Nav: "apps", Data: planData{App: d.App}})
}

// computePlan shows what a full cycle would do now, without doing it. It
// changes nothing, so a viewer may run it too.
func (c *Console) computePlan(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	p, err := c.cfg.Admin.Plan(r.Context(), s.TenantID, d.App.Name)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "plan", page{Title: "Plan of " + d.App.Name, Session: s, Nav: "apps", Data: planData{App: d.App, Plan: p}})
}

// auditPageSize is how many audit entries a page shows.
const auditPageSize = 50

// auditData is the audit log page's.
type auditData struct {
	App     *provision.AppView
	Entries []provision.AuditEntry
	// Older is the id to continue after, "" on the last page.
	Older string
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	entries, err := c.cfg.Admin.Audit(r.Context(), s.TenantID, d.App.Name, r.URL.Query().Get("before"), auditPageSize+1)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	data := auditData{App: d.App, Entries: entries}
	if len(entries) > auditPageSize {
		data.Entries = entries[:auditPageSize]
		data.Older = entries[auditPageSize-1].ID
	}
	c.render(w, r, http.StatusOK, "audit", page{Title: "Audit log of " + d.App.Name, Session: s, Nav: "apps", Data: data})
}
