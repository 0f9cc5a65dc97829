package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// mappingsData is the attribute mappings page's, and the edit form's.
type mappingsData struct {
	App *provision.AppView
	// Object is the object mapping shown (Object.SourceType "User" or
	// "Group"); Index its place in the configuration.
	Object *provision.ObjectMapping
	// Edit is the mapping in the edit form; Row its index, -1 for a new
	// one.
	Edit provision.AttributeMapping
	Row  int
	// TryUser and Tried are the "try it" form and its result.
	TryUser string
	Tried   *tryResult
}

// tryResult is what an expression gave for a directory user.
type tryResult struct {
	Value string
	Error string
}

// objectOf finds the object mapping of the request's {object} (its source
// type, "User" or "Group") in cfg.
func objectOf(cfg *provision.Config, r *http.Request) (*provision.ObjectMapping, error) {
	want := r.PathValue("object")
	for i := range cfg.Objects {
		if cfg.Objects[i].SourceType == want {
			return &cfg.Objects[i], nil
		}
	}
	return nil, notFoundError("the application maps no objects of type %q", want)
}

func (c *Console) mappingsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "mappings", page{Title: "Attribute mappings of " + d.App.Name, Session: s, Nav: "apps", Data: mappingsData{App: d.App}})
}

// mappingForm shows the form of one mapping: row is its index, or "new".
func (c *Console) mappingForm(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	obj, err := objectOf(&d.App.Config, r)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	data := mappingsData{App: d.App, Object: obj, Row: -1, Edit: provision.AttributeMapping{Type: provision.Direct, Apply: provision.ApplyAlways}}
	if row := r.PathValue("row"); row != "new" {
		i, err := strconv.Atoi(row)
		if err != nil || i < 0 || i >= len(obj.Attributes) {
			c.adminError(w, r, s, notFoundError("no mapping %q", row))
			return
		}
		data.Row, data.Edit = i, obj.Attributes[i]
	}
	c.render(w, r, http.StatusOK, "mapping", page{Title: "Edit attribute mapping", Session: s, Nav: "apps", Data: data})
}

// mappingFromForm reads a mapping from the edit form.
func mappingFromForm(r *http.Request) provision.AttributeMapping {
	m := provision.AttributeMapping{
		Type: r.PostFormValue("type"), Source: strings.TrimSpace(r.PostFormValue("source")),
		Target: strings.TrimSpace(r.PostFormValue("target")), Default: r.PostFormValue("default"),
		Apply: r.PostFormValue("apply"), Match: r.PostFormValue("match") == "on",
	}
	if m.Match {
		m.MatchPriority, _ = strconv.Atoi(r.PostFormValue("matchPriority"))
	}
	return m
}

// saveMapping saves one mapping, replacing row or added at the end. The
// engine validates the whole configuration (the expression, the target
// attribute against the target's schema): an invalid mapping is shown
// back with the reason, and nothing is saved. The form carries the
// application's version, so a configuration saved meanwhile by someone
// else is not overwritten.
func (c *Console) saveMapping(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	m := mappingFromForm(r)
	row := -1
	err := c.changeObject(r, s, d.App, func(obj *provision.ObjectMapping) error {
		v := r.PathValue("row")
		if v == "new" {
			obj.Attributes = append(obj.Attributes, m)
			return nil
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(obj.Attributes) {
			return notFoundError("no mapping %q", v)
		}
		row, obj.Attributes[i] = i, m
		return nil
	})
	if err != nil {
		status, message, ok := problem(err)
		orig, oerr := objectOf(&d.App.Config, r)
		if !ok || status == http.StatusNotFound || oerr != nil {
			c.adminError(w, r, s, err)
			return
		}
		c.render(w, r, status, "mapping", page{Title: "Edit attribute mapping", Session: s, Nav: "apps", Error: message,
			Data: mappingsData{App: d.App, Object: orig, Row: row, Edit: m}})
		return
	}
	http.Redirect(w, r, "/apps/"+pathEscape(d.App.Name)+"/mappings?saved="+pathEscape(m.Target), http.StatusSeeOther)
}

// removeMapping removes one mapping.
func (c *Console) removeMapping(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	err := c.changeObject(r, s, d.App, func(obj *provision.ObjectMapping) error {
		row, err := strconv.Atoi(r.PathValue("row"))
		if err != nil || row < 0 || row >= len(obj.Attributes) {
			return notFoundError("no mapping %q", r.PathValue("row"))
		}
		obj.Attributes = slices.Delete(obj.Attributes, row, row+1)
		return nil
	})
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/apps/"+pathEscape(d.App.Name)+"/mappings", http.StatusSeeOther)
}

// changeObject applies change to a copy of the object mapping of the
// request's {object} (its attribute mappings and scoping filters copied
// too, so that change may edit them in place) and saves the
// configuration; the engine validates it.
func (c *Console) changeObject(r *http.Request, s *session, app *provision.AppView, change func(*provision.ObjectMapping) error) error {
	cfg := app.Config
	cfg.Objects = slices.Clone(cfg.Objects)
	obj, err := objectOf(&cfg, r)
	if err != nil {
		return err
	}
	obj.Attributes, obj.Scoping = slices.Clone(obj.Attributes), slices.Clone(obj.Scoping)
	if err := change(obj); err != nil {
		return err
	}
	return c.updateConfig(r, s, app, cfg)
}

// updateConfig saves cfg as app's configuration, if app is still at the
// version the form was made from (form field "version").
func (c *Console) updateConfig(r *http.Request, s *session, app *provision.AppView, cfg provision.Config) error {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version <= 0 {
		return badRequest("the form lacks the application's version; reload the page")
	}
	_, err = c.cfg.Admin.UpdateApp(r.Context(), s.TenantID, app.Name, version, provision.AppChange{Config: &cfg})
	return err
}

// tryExpression evaluates the form's expression (or direct source) for a
// directory user, by userName, and shows the value in place: what the
// mapping would send for that user.
func (c *Console) tryExpression(w http.ResponseWriter, r *http.Request, s *session) {
	m := mappingFromForm(r)
	userName := strings.TrimSpace(r.PostFormValue("tryUser"))
	res := &tryResult{}
	if v, err := c.evaluate(r, s, m, userName); err != nil {
		res.Error = err.Error()
	} else {
		res.Value = v
	}
	c.renderFragment(w, r, http.StatusOK, "mapping", "tried", page{Session: s, Data: mappingsData{TryUser: userName, Tried: res}})
}

// evaluate is what m gives for the user called userName.
func (c *Console) evaluate(r *http.Request, s *session, m provision.AttributeMapping, userName string) (string, error) {
	users := schema.Builtin().ResourceType(store.UserType)
	src := m.Source
	switch m.Type {
	case provision.Constant:
		return m.Source, nil
	case provision.None:
		return m.Default, nil
	case provision.Direct:
		src = "[" + m.Source + "]"
	}
	e, err := expr.Compile(src, expr.SchemaChecker(users, "IsSoftDeleted"))
	if err != nil {
		return "", err
	}
	if userName == "" {
		return "", errors.New("name a directory user (userName) to try the mapping with")
	}
	f, err := filter.Parse(`userName eq ` + jsonString(userName))
	if err != nil {
		return "", err
	}
	page, err := c.cfg.Store.Query(r.Context(), s.TenantID, store.UserType, store.Query{Filter: f, Count: 1})
	if err != nil {
		return "", err
	}
	if len(page.Resources) == 0 {
		return "", errors.New("no directory user has the userName " + userName)
	}
	v, err := e.Eval(expr.DocumentSource{Doc: page.Resources[0].Doc, Type: users,
		Virtual: map[string]expr.Value{"IsSoftDeleted": expr.BoolValue(false)}}, expr.Env{})
	if err != nil {
		return "", err
	}
	if v.Text() == "" && m.Default != "" {
		return m.Default + " (the default: the source is empty)", nil
	}
	return v.Text(), nil
}
