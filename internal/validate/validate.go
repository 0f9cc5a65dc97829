// Package validate checks that a SCIM 2.0 service provider accepts what real
// clients send and answers as RFC 7643 and RFC 7644 require: the request
// sequences of Microsoft Entra ID (default and aadOptscim062020 forms, with
// their quirks), Okta's, and an RFC section covering discovery, CRUD,
// filters, sorting, paging, projection, PATCH, ETags, Bulk and errors, and
// RFC 9865's cursor pagination on endpoints that advertise it.
//
// It drives any endpoint over HTTP with a bearer token, so it tests Ferry and
// its peers alike. Every check names the RFC section or public document it
// comes from (sources.go lists the clients' documents) and, when it fails,
// the request it sent and what came back.
package validate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The profiles a check can belong to. A profile is a client whose traffic the
// checks replay, or the RFCs themselves.
const (
	ProfileEntra = "entra" // Microsoft Entra ID's provisioning client
	ProfileOkta  = "okta"  // Okta's SCIM client and its SPEC test
	ProfileRFC   = "rfc"   // RFC 7643 / RFC 7644 conformance
	ProfileAll   = "all"   // every check
)

// Profiles lists the selectable profiles, ProfileAll last.
func Profiles() []string { return []string{ProfileEntra, ProfileOkta, ProfileRFC, ProfileAll} }

// Status is the outcome of one check.
type Status string

// The outcomes of a check.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip means the endpoint advertises (in /ServiceProviderConfig or
	// /ResourceTypes) that it does not support what the check exercises.
	Skip Status = "skip"
)

// Check is one conformance check.
type Check struct {
	ID       string   // stable identifier, e.g. "rfc.filter.eq"; reports and CI key on it
	Title    string   // one line saying what is checked
	Source   string   // the RFC section or public document it comes from
	Profiles []string // the profiles it belongs to
	// Requires names the features the check needs, comma-separated: a
	// ServiceProviderConfig key ("bulk", "etag", "sort", "filter", "patch")
	// or "groups". The check
	// is skipped when the endpoint advertises that it lacks it, and runs
	// otherwise, including when the endpoint says nothing.
	Requires string
	// Run performs the check. It returns nil on success, an error made by
	// skipf to skip, and any other error to fail; a failure built from a
	// response carries that request and response into the report.
	Run func(ctx context.Context, s *Session) error
}

// Exchange is one HTTP request and the part of its response a report shows.
// It never holds request headers, so the bearer token cannot leak into a
// report.
type Exchange struct {
	Method       string `json:"method"`
	URL          string `json:"url"`
	RequestBody  string `json:"requestBody,omitempty"`
	Status       int    `json:"status"`
	ContentType  string `json:"contentType,omitempty"`
	ResponseBody string `json:"responseBody,omitempty"` // an excerpt
}

// Result is the outcome of one check, in the form reports print.
type Result struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Source   string    `json:"source"`
	Profiles []string  `json:"profiles"`
	Status   Status    `json:"status"`
	Message  string    `json:"message,omitempty"` // why it failed or was skipped
	Exchange *Exchange `json:"exchange,omitempty"`
	// Previous is the request whose effect Exchange shows wrong, such as
	// the PATCH before the GET that read its result.
	Previous *Exchange `json:"previous,omitempty"`
	Millis   int64     `json:"durationMs"`
}

// Leftover is a resource the run created and did not delete: kept on
// request, or its DELETE failed.
type Leftover struct {
	Type   string `json:"type"` // "User" or "Group"
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// KeptReason is the Reason of a Leftover kept because Options.Keep asked.
const KeptReason = "kept"

// Summary counts results by status.
type Summary struct {
	Total   int `json:"total"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// ReportFormat identifies the JSON layout of Report; it changes only when a
// field is removed or changes meaning, so CI scripts can rely on it.
const ReportFormat = "ferry-validate/v1"

// Report is the outcome of a run, in check order.
type Report struct {
	Format string `json:"format"`
	Target string `json:"target"`
	// Tag is the run's random tag; the users and groups it creates carry
	// it in their names (fv-<tag>-…), so that leftovers can be found.
	Tag       string     `json:"tag"`
	Profiles  []string   `json:"profiles"`
	Summary   Summary    `json:"summary"`
	Results   []Result   `json:"results"`
	Leftovers []Leftover `json:"leftovers"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Failed > 0 }

// Options configure a run.
type Options struct {
	// BaseURL is the SCIM root, e.g. http://127.0.0.1:8080/scim/v2.
	BaseURL string
	// Token is the bearer token sent with every request but the
	// authentication checks'.
	Token string
	// Profiles selects checks; empty means all.
	Profiles []string
	// Only, when not empty, keeps only the checks whose id has one of
	// these prefixes.
	Only []string
	// Keep leaves the resources the checks created in place.
	Keep bool
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// Random supplies the unique parts of names; nil means crypto/rand.
	Random io.Reader
	// Progress, when set, is called before each check with its 0-based
	// index and the number of checks, and once more at the end with
	// done == total.
	Progress func(done, total int, current string)
}

// Select returns the checks of the catalog that the profiles and id
// prefixes select, in catalog order. It fails on an unknown profile.
func Select(profiles, only []string) ([]Check, error) {
	want := map[string]bool{}
	for _, p := range profiles {
		for _, p := range strings.Split(p, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			if p == "" {
				continue
			}
			if !slices.Contains(Profiles(), p) {
				return nil, fmt.Errorf("unknown profile %q; choose from %s", p, strings.Join(Profiles(), ", "))
			}
			want[p] = true
		}
	}
	all := len(want) == 0 || want[ProfileAll]
	var out []Check
	for _, c := range Checks() {
		if !all && !slices.ContainsFunc(c.Profiles, func(p string) bool { return want[p] }) {
			continue
		}
		if len(only) > 0 && !slices.ContainsFunc(only, func(p string) bool { return strings.HasPrefix(c.ID, p) }) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Run runs the selected checks one after another against the endpoint and
// then deletes what they created (unless Keep), also when checks fail or ctx
// is cancelled. An error means the run could not start; failing checks are
// reported in the Report, not as an error.
func Run(ctx context.Context, opts Options) (*Report, error) {
	checks, err := Select(opts.Profiles, opts.Only)
	if err != nil {
		return nil, err
	}
	if len(checks) == 0 {
		return nil, errors.New("no check matches the selected profiles")
	}
	s, err := newSession(opts)
	if err != nil {
		return nil, err
	}
	rep := &Report{Format: ReportFormat, Target: s.base, Tag: s.tag, Profiles: profileList(opts.Profiles), Results: []Result{}, Leftovers: []Leftover{}}
	defer func() {
		// Cleanup runs even when the run was interrupted: a cancelled ctx
		// must not leave test users behind, so it gets its own deadline.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		rep.Leftovers = append(rep.Leftovers, s.cleanup(cctx)...)
	}()
	for i, c := range checks {
		if opts.Progress != nil {
			opts.Progress(i, len(checks), c.ID)
		}
		if ctx.Err() != nil {
			break
		}
		r := s.run(ctx, c)
		rep.Results = append(rep.Results, r)
		rep.Summary.Total++
		switch r.Status {
		case Pass:
			rep.Summary.Passed++
		case Fail:
			rep.Summary.Failed++
		case Skip:
			rep.Summary.Skipped++
		}
	}
	if opts.Progress != nil {
		opts.Progress(len(checks), len(checks), "")
	}
	return rep, ctx.Err()
}

func profileList(ps []string) []string {
	var out []string
	for _, p := range ps {
		for _, p := range strings.Split(p, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		out = []string{ProfileAll}
	}
	return out
}

// run runs one check, turning its error (or panic: a bug in a check must
// not end the run, nor skip the cleanup) into a Result.
func (s *Session) run(ctx context.Context, c Check) (res Result) {
	res = Result{ID: c.ID, Title: c.Title, Source: c.Source, Profiles: c.Profiles}
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			res.Status, res.Message = Fail, fmt.Sprintf("the check itself panicked: %v", v)
		}
		res.Millis = time.Since(start).Milliseconds()
	}()
	for _, feature := range strings.Split(c.Requires, ",") {
		if feature == "" {
			continue
		}
		if why := s.unsupported(ctx, feature); why != "" {
			res.Status, res.Message = Skip, why
			return res
		}
	}
	err := c.Run(ctx, s)
	var sk *skipError
	var f *failure
	switch {
	case err == nil:
		res.Status = Pass
	case errors.As(err, &sk):
		res.Status, res.Message = Skip, sk.msg
	case errors.As(err, &f):
		res.Status, res.Message, res.Exchange, res.Previous = Fail, f.msg, f.ex, f.prev
	default:
		res.Status, res.Message = Fail, err.Error()
	}
	return res
}

// failure is a failed expectation, with the exchange that showed it.
type failure struct {
	msg  string
	ex   *Exchange
	prev *Exchange // the request that caused what ex shows, if not ex itself
}

func (f *failure) Error() string { return f.msg }

// skipError skips a check.
type skipError struct{ msg string }

func (e *skipError) Error() string { return "skipped: " + e.msg }

// skipf skips the running check, saying why.
func skipf(format string, args ...any) error {
	return &skipError{msg: fmt.Sprintf(format, args...)}
}

// failf fails the running check with a message saying what was expected; r
// may be nil when no single response shows the problem.
func failf(r *Response, format string, args ...any) error {
	f := &failure{msg: fmt.Sprintf(format, args...)}
	if r != nil {
		ex := r.Exchange
		f.ex = &ex
	}
	return f
}

// within prefixes a failure's message with the step it happened in,
// keeping its exchange, so that a check of several steps says which one
// broke.
func within(step string, err error) error {
	if err == nil {
		return nil
	}
	var f *failure
	if errors.As(err, &f) {
		return &failure{msg: step + ": " + f.msg, ex: f.ex, prev: f.prev}
	}
	var sk *skipError
	if errors.As(err, &sk) {
		return err
	}
	return fmt.Errorf("%s: %w", step, err)
}

// after records that a failure shows the effect of the request r, so that
// the report shows that request too.
func after(r *Response, err error) error {
	var f *failure
	if r == nil || !errors.As(err, &f) || f.prev != nil || (f.ex != nil && *f.ex == r.Exchange) {
		return err
	}
	ex := r.Exchange
	return &failure{msg: f.msg, ex: f.ex, prev: &ex}
}

// randomHex returns n random bytes as hex.
func randomHex(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func defaultRandom(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}
