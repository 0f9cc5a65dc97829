package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// galleryItem is one template of the gallery.
type galleryItem struct {
	Name, Description string
}

// galleryData is the gallery page's: the templates, and the form as it
// was sent when creating failed.
type galleryData struct {
	Templates []galleryItem
	Form      newAppForm
}

type newAppForm struct {
	Template, Name, TenantURL string
}

func (c *Console) gallery() []galleryItem {
	var items []galleryItem
	for _, name := range c.cfg.Admin.Templates() {
		items = append(items, galleryItem{Name: name, Description: provision.TemplateDescription(name)})
	}
	return items
}

func (c *Console) galleryPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, http.StatusOK, "gallery", page{Title: "Add an application", Session: s, Nav: "apps",
		Data: galleryData{Templates: c.gallery(), Form: newAppForm{Template: r.URL.Query().Get("template")}}})
}

// createApp adds an application from a template, Off, and opens it: its
// credentials are the next step, as in Entra's tutorial.
func (c *Console) createApp(w http.ResponseWriter, r *http.Request, s *session) {
	form := newAppForm{Template: r.PostFormValue("template"), Name: strings.TrimSpace(r.PostFormValue("name")),
		TenantURL: strings.TrimSpace(r.PostFormValue("tenantUrl"))}
	in := provision.NewApp{Name: form.Name, Template: form.Template, TenantURL: form.TenantURL, SecretToken: r.PostFormValue("secretToken")}
	if _, err := c.cfg.Admin.CreateApp(r.Context(), s.TenantID, in); err != nil {
		status, message, ok := problem(err)
		if !ok {
			c.serverError(w, r, err)
			return
		}
		c.render(w, r, status, "gallery", page{Title: "Add an application", Session: s, Nav: "apps", Error: message,
			Data: galleryData{Templates: c.gallery(), Form: form}})
		return
	}
	http.Redirect(w, r, "/apps/"+pathEscape(form.Name)+"?created=1", http.StatusSeeOther)
}

// deletePage asks for confirmation before deleting.
func (c *Console) deletePage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "delete", page{Title: "Delete " + d.App.Name, Session: s, Nav: "apps", Data: d})
}

func (c *Console) deleteApp(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	if r.PostFormValue("confirm") != name {
		d, ok := c.loadApp(w, r, s)
		if !ok {
			return
		}
		c.render(w, r, http.StatusUnprocessableEntity, "delete", page{Title: "Delete " + name, Session: s, Nav: "apps",
			Error: "Type the application's name to confirm.", Data: d})
		return
	}
	if err := c.cfg.Admin.DeleteApp(r.Context(), s.TenantID, name); err != nil {
		c.adminError(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/apps?deleted="+url.QueryEscape(name), http.StatusSeeOther)
}
