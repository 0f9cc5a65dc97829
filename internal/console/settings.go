package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision"
)

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "settings", page{Title: "Settings of " + d.App.Name, Session: s, Nav: "apps", Data: d})
}

// saveSettings saves the tutorial's Settings section: scope, notification
// email and the failure checkbox, the accidental-deletion threshold, the
// full-cycle interval and the rate limit. The engine validates them.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	cfg := d.App.Config
	cfg.Scope = r.PostFormValue("scope")
	cfg.NotificationEmail = strings.TrimSpace(r.PostFormValue("notificationEmail"))
	cfg.NotifyOnFailure = r.PostFormValue("notifyOnFailure") == "on"
	cfg.AccidentalDeletions.Off = r.PostFormValue("deletionsOff") == "on"
	var err error
	if cfg.AccidentalDeletions.Count, err = optionalInt(r, "deletionThreshold"); err == nil {
		var interval time.Duration
		if v := strings.TrimSpace(r.PostFormValue("fullCycleInterval")); v != "" {
			if interval, err = time.ParseDuration(v); err != nil {
				err = badRequest("the full-cycle interval is a duration such as 40m or 2h; got %q", v)
			}
		}
		cfg.FullCycleInterval = provision.Duration(interval)
		if err == nil {
			if v := strings.TrimSpace(r.PostFormValue("rateLimit")); v != "" {
				if cfg.RateLimit, err = strconv.ParseFloat(v, 64); err != nil {
					err = badRequest("the rate limit is a number of requests a second; got %q", v)
				}
			} else {
				cfg.RateLimit = 0
			}
		}
	}
	if err == nil {
		err = c.updateConfig(r, s, d.App, cfg)
	}
	if err != nil {
		status, message, ok := problem(err)
		if !ok {
			c.serverError(w, r, err)
			return
		}
		d.App.Config = cfg // show what was typed, with the reason it was refused
		c.render(w, r, status, "settings", page{Title: "Settings of " + d.App.Name, Session: s, Nav: "apps", Error: message, Data: d})
		return
	}
	d, ok = c.loadApp(w, r, s)
	if !ok {
		return
	}
	c.render(w, r, http.StatusOK, "settings", page{Title: "Settings of " + d.App.Name, Session: s, Nav: "apps", Notice: "Settings saved.", Data: d})
}

// optionalInt reads a whole number field; empty is 0, the default.
func optionalInt(r *http.Request, name string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("%s is a whole number; got %q", name, v)
	}
	return n, nil
}
