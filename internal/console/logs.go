package console

import (
	"encoding/csv"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision"
)

// logsPageSize is how many provisioning log records a page shows; the
// engine reads one page at a time (LogFilter.Before), in the database.
const logsPageSize = 50

// logsData is the provisioning logs page's.
type logsData struct {
	App     *provision.AppView
	Filter  provision.LogFilter
	Records []provision.LogRecord
	// Older is the query of the next page, "" on the last. Query and
	// Older are encoded already (url.Values.Encode).
	Older template.URL
	// Query is the filter as a query string, for the export links; Raw
	// the query as sent, to show the filter back.
	Query template.URL
	Raw   url.Values
	// Actions and Statuses are the filter's choices.
	Actions, Statuses []string
}

// logFilter reads the page's filter from its query: user, action,
// status, since and until (dates, YYYY-MM-DD, UTC), before.
func logFilter(q url.Values, limit int) (provision.LogFilter, error) {
	f := provision.LogFilter{User: strings.TrimSpace(q.Get("user")), Action: q.Get("action"), Status: q.Get("status"),
		Before: q.Get("before"), Limit: limit}
	for _, d := range []struct {
		name string
		into *time.Time
		plus time.Duration
	}{{"since", &f.Since, 0}, {"until", &f.Until, 24 * time.Hour}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return f, badRequest("%s is a date, YYYY-MM-DD; got %q", d.name, v)
			}
			*d.into = t.Add(d.plus)
		}
	}
	return f, nil
}

// filterQuery is f as the page's query string, without paging.
func filterQuery(q url.Values) template.URL {
	keep := url.Values{}
	for _, k := range []string{"user", "action", "status", "since", "until"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return template.URL(keep.Encode())
}

func (c *Console) logsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.loadApp(w, r, s)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, err := logFilter(q, logsPageSize+1)
	if err == nil {
		var records []provision.LogRecord
		records, err = c.cfg.Admin.Logs(r.Context(), s.TenantID, d.App.Name, f)
		if err == nil {
			data := logsData{App: d.App, Filter: f, Query: filterQuery(q), Raw: q,
				Actions:  []string{provision.ActionCreate, provision.ActionUpdate, provision.ActionDisable, provision.ActionDelete, provision.ActionOther},
				Statuses: []string{provision.StatusSuccess, provision.StatusFailure, provision.StatusSkipped, provision.StatusWarning}}
			if len(records) > logsPageSize {
				records = records[:logsPageSize]
				next, _ := url.ParseQuery(string(data.Query))
				next.Set("before", records[len(records)-1].ID)
				data.Older = template.URL(next.Encode())
			}
			data.Records = records
			c.render(w, r, http.StatusOK, "logs", page{Title: "Provisioning logs of " + d.App.Name, Session: s, Nav: "apps", Data: data})
			return
		}
	}
	c.adminError(w, r, s, err)
}

// exportLogs writes the filtered records, newest first, up to the
// engine's largest page, as CSV or JSON (the admin API's form).
func (c *Console) exportLogs(w http.ResponseWriter, r *http.Request, s *session) {
	name, format := r.PathValue("name"), r.PathValue("format")
	if format != "csv" && format != "json" {
		c.notFound(w, r)
		return
	}
	f, err := logFilter(r.URL.Query(), provision.MaxLogLimit)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	records, err := c.cfg.Admin.Logs(r.Context(), s.TenantID, name, f)
	if err != nil {
		c.adminError(w, r, s, err)
		return
	}
	file := "provisioning-logs-" + url.PathEscape(name) + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	if format == "json" {
		w.Header().Set("Content-Type", "application/json")
		if records == nil {
			records = []provision.LogRecord{}
		}
		json.NewEncoder(w).Encode(records)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "time", "action", "status", "reason", "source type", "source id", "source name",
		"target id", "error code", "error reason", "recommended action", "cycle id", "duration ms"})
	for _, rec := range records {
		var code, reason, advice string
		if e := rec.Error; e != nil {
			code, reason, advice = e.Code, e.Reason, e.RecommendedAction
		}
		cw.Write([]string{rec.ID, rec.ActivityDateTime.UTC().Format(time.RFC3339), rec.Action, rec.Status, rec.Reason,
			rec.Source.Type, rec.Source.ID, rec.Source.DisplayName, rec.Target.ID, csvSafe(code), csvSafe(reason), csvSafe(advice),
			rec.CycleID, strconv.FormatInt(rec.DurationMs, 10)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a value as a formula (a
// target's error message is the target's to choose).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
