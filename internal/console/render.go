package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/server"
)

// page is what every page's template gets.
type page struct {
	Title string
	// Session is the signed-in session; nil on the sign-in page.
	Session *session
	// Nav names the section the page belongs to, for the navigation.
	Nav string
	// Notice and Error are messages shown at the top of the page.
	Notice, Error string
	// Data is the page's own.
	Data any
}

// CSRF is the token every form of the page carries.
func (p page) CSRF() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.CSRF
}

// parsePages parses every page template with the layout: page NAME is
// templates/NAME.html, executed through the layout's "layout" template.
// Fragments (templates/fragments/*.html, refreshed in place by htmx) are
// parsed into every page, and served alone by name.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"since":   since,
		"when":    when,
		"percent": func(n int) string { return fmt.Sprintf("%d%%", n) },
		"eta":     eta,
		// dict makes a map of its key, value arguments, to range over
		// several lists in one table.
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/fragments/*.html", name)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes page name with status. It renders into a buffer first,
// so a template error is a clean 500, never half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	c.execute(w, r, status, name, "layout", p)
}

// renderFragment writes one fragment template of page name alone, for
// htmx to swap in.
func (c *Console) renderFragment(w http.ResponseWriter, r *http.Request, status int, name, fragment string, p page) {
	c.execute(w, r, status, name, fragment, p)
}

func (c *Console) execute(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, p page) {
	t, ok := c.pages[name]
	if !ok {
		c.serverError(w, r, fmt.Errorf("console: no page %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		c.serverError(w, r, fmt.Errorf("console: render %s/%s: %w", name, tmpl, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// refuse answers a request the session may not make with status and a
// message: a page of its own, or for htmx, the message to show in place.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, s *session, status int, message string) {
	if r.Header.Get("HX-Request") == "true" {
		c.renderFragment(w, r, status, "message", "flash", page{Session: s, Error: message})
		return
	}
	c.render(w, r, status, "message", page{Title: http.StatusText(status), Session: s, Error: message})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := c.sessionOf(r)
	c.render(w, r, http.StatusNotFound, "message", page{Title: "Not found", Session: s, Error: "There is no page at " + r.URL.Path + "."})
}

// serverError logs err and answers 500 without its detail, which may
// name internals.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Log.Error("console", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte("Something went wrong in Ferry; the server's log has the details.\n"))
}

// problem turns an error of the admin interface into what the page shows:
// a client's mistake (a *scim.Error below 500: an invalid value, a
// conflict) as its message and status; anything else is the server's.
func problem(err error) (status int, message string, ok bool) {
	if se, ok := server.ClientError(err); ok && se.Status < 500 {
		return se.Status, se.Detail, true
	}
	return 0, "", false
}

// badRequest is a client's mistake in a form or a query, as the admin
// interface reports its own.
func badRequest(format string, args ...any) error {
	return scim.Errorf(http.StatusBadRequest, "", format, args...)
}

// notFoundError is a page's object that does not exist.
func notFoundError(format string, args ...any) error {
	return scim.Errorf(http.StatusNotFound, "", format, args...)
}

// pathEscape escapes a name for a path segment of a console URL.
func pathEscape(name string) string { return url.PathEscape(name) }

// jsonString writes s as a JSON string: the form of a string in a SCIM
// filter (RFC 7644 §3.4.2.2).
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// since says how long ago t was, in words.
func since(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// when writes t in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// eta says how long a cycle has left.
func eta(seconds int64) string {
	if seconds <= 0 {
		return ""
	}
	d := time.Duration(seconds) * time.Second
	if d < time.Minute {
		return fmt.Sprintf("about %d s left", seconds)
	}
	return fmt.Sprintf("about %s left", d.Round(time.Minute).String())
}
