package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/validate"
)

func newValidateCommand() *cobra.Command {
	var (
		token, profile string
		only           []string
		asJSON, keep   bool
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "validate URL",
		Short: "Check a SCIM 2.0 endpoint against what Entra ID, Okta and the RFCs require",
		Long: `Validate runs conformance checks against any SCIM 2.0 service provider: the
request sequences Microsoft Entra ID sends (in its default and aadOptscim062020
forms, with its quirks), Okta's, and RFC 7643/7644 (discovery, CRUD, filters,
sorting, paging, attributes, PATCH, ETags, Bulk, errors), with RFC 9865's cursor
paging when the endpoint advertises it. URL is the SCIM root,
e.g. http://127.0.0.1:8080/scim/v2.

Each check names the RFC section or client behaviour it comes from; a failure
shows the request sent and the response received. A check is skipped only
when the endpoint advertises that it lacks the feature (bulk, etag, sort,
filter or patch "supported": false in /ServiceProviderConfig, or no Group in
/ResourceTypes).

The checks create users and groups, named with the run's random tag
("fv-<tag>-…", and Entra's own "Test_User_<guid>" and GUID names in the Entra
replay), and delete them at the end, also when checks fail or the run is
interrupted; --keep leaves them. The exit status is 1 when a check fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("FERRY_TOKEN")
			}
			if token == "" {
				return errors.New("a bearer token is required: --token or FERRY_TOKEN")
			}
			stderr := cmd.ErrOrStderr()
			bar := newProgressBar(stderr)
			rep, err := validate.Run(cmd.Context(), validate.Options{
				BaseURL:  args[0],
				Token:    token,
				Profiles: []string{profile},
				Only:     only,
				Keep:     keep,
				Client:   &http.Client{Timeout: timeout},
				Progress: func(done, total int, current string) {
					bar.draw("validating", done, total, fmt.Sprintf("%d/%d %s", done, total, current))
				},
			})
			bar.finish()
			if rep == nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if werr := enc.Encode(rep); werr != nil {
					return werr
				}
			} else {
				writeValidateReport(out, rep)
			}
			if err != nil {
				return fmt.Errorf("interrupted after %d checks: %w", len(rep.Results), err)
			}
			if rep.Failed() {
				return fmt.Errorf("%d of %d checks failed", rep.Summary.Failed, rep.Summary.Total)
			}
			return nil
		},
	}
	f := cmd.Flags()
	// The default is read when the command runs, not here: a default is
	// printed by --help, and the token must not be.
	f.StringVar(&token, "token", "", "bearer token for the endpoint (env FERRY_TOKEN, which keeps it out of the process list)")
	f.StringVar(&profile, "profile", "all", "checks to run: entra, okta, rfc or all (a comma-separated list is accepted)")
	f.StringSliceVar(&only, "only", nil, "run only the checks whose id starts with one of these prefixes, e.g. rfc.filter")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (stable field names, for CI)")
	f.BoolVar(&keep, "keep", false, "leave the users and groups the checks created in place")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "timeout of each request")
	return cmd
}

// writeValidateReport prints the human-readable report: one line per
// check, failures with what was expected and the exchange that showed it.
func writeValidateReport(w io.Writer, rep *validate.Report) {
	fmt.Fprintf(w, "ferry validate %s (profiles: %s)\n\n", rep.Target, strings.Join(rep.Profiles, ", "))
	for _, r := range rep.Results {
		mark := map[validate.Status]string{validate.Pass: "PASS", validate.Fail: "FAIL", validate.Skip: "SKIP"}[r.Status]
		fmt.Fprintf(w, "%s  %-42s %s\n", mark, r.ID, r.Title)
		switch r.Status {
		case validate.Skip:
			fmt.Fprintf(w, "      skipped: %s\n", r.Message)
		case validate.Fail:
			fmt.Fprintf(w, "      source:   %s\n", r.Source)
			fmt.Fprintf(w, "      problem:  %s\n", r.Message)
			if ex := r.Previous; ex != nil {
				fmt.Fprintf(w, "      after:    %s %s -> %d\n", ex.Method, ex.URL, ex.Status)
				if ex.RequestBody != "" {
					fmt.Fprintf(w, "                %s\n", indentBody(ex.RequestBody))
				}
			}
			if ex := r.Exchange; ex != nil {
				fmt.Fprintf(w, "      request:  %s %s\n", ex.Method, ex.URL)
				if ex.RequestBody != "" {
					fmt.Fprintf(w, "                %s\n", indentBody(ex.RequestBody))
				}
				if ex.Status != 0 {
					fmt.Fprintf(w, "      response: %d %s\n", ex.Status, ex.ContentType)
					if ex.ResponseBody != "" {
						fmt.Fprintf(w, "                %s\n", indentBody(ex.ResponseBody))
					}
				}
			}
		}
	}
	s := rep.Summary
	fmt.Fprintf(w, "\n%d checks: %d passed, %d failed, %d skipped\n", s.Total, s.Passed, s.Failed, s.Skipped)
	kept := 0
	for _, l := range rep.Leftovers {
		if l.Reason == validate.KeptReason {
			kept++
			continue
		}
		fmt.Fprintf(w, "could not delete %s %s: %s\n", l.Type, l.ID, l.Reason)
	}
	if kept > 0 {
		fmt.Fprintf(w, "kept %d users and groups (--keep); this run's names contain %q\n", kept, "fv-"+rep.Tag+"-")
	}
}

// indentBody puts a body on one indented block, compacting JSON so that a
// failure stays readable in a terminal.
func indentBody(body string) string {
	var v any
	if json.Unmarshal([]byte(body), &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			body = string(b)
		}
	}
	return strings.ReplaceAll(body, "\n", "\n                ")
}

// progressBar draws a one-line progress bar on a terminal and nothing
// elsewhere, so that logs and CI output stay clean. It is ours rather than
// a dependency: it needs twenty lines.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, on: isTerminal(w)}
}

// draw shows label, a bar filled to done/total, and text after it. It is
// safe to call from several goroutines.
func (p *progressBar) draw(label string, done, total int, text string) {
	if !p.on || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 30
	filled := min(max(done, 0), total) * width / total
	if len(text) > 50 {
		text = text[:49] + "…"
	}
	fmt.Fprintf(p.w, "\r\033[K%s [%s%s] %s", label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), text)
	p.drawn = true
}

// finish clears the bar so that the report starts on a clean line.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// isTerminal reports whether w is a character device, i.e. a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
