package validate

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

const fakeToken = "fake-token-for-tests"

// runAgainst runs every check against a fake endpoint with the given
// defects and returns the report by check id.
func runAgainst(t *testing.T, b breakage) (*Report, map[string]Result) {
	t.Helper()
	srv := httptest.NewServer(newFakeSCIM(fakeToken, b))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{BaseURL: srv.URL + "/scim/v2", Token: fakeToken, Profiles: []string{ProfileAll}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Result{}
	for _, r := range rep.Results {
		byID[r.ID] = r
	}
	return rep, byID
}

func failedIDs(rep *Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status == Fail {
			out = append(out, r.ID)
		}
	}
	return out
}

func describeFailures(rep *Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		if r.Status != Fail {
			continue
		}
		b.WriteString("\n" + r.ID + ": " + r.Message)
		if r.Exchange != nil {
			b.WriteString("\n    " + r.Exchange.Method + " " + r.Exchange.URL + "\n    " + r.Exchange.RequestBody + "\n    -> " + r.Exchange.ResponseBody)
		}
	}
	return b.String()
}

// TestCorrectEndpointPasses runs the whole catalog against the correct
// fake: every check passes except Bulk's, which are skipped because the
// fake advertises bulk.supported false; and nothing is left behind.
func TestCorrectEndpointPasses(t *testing.T) {
	t.Parallel()
	rep, byID := runAgainst(t, breakage{})
	if rep.Failed() {
		t.Fatalf("%d checks failed against a correct endpoint:%s", rep.Summary.Failed, describeFailures(rep))
	}
	for _, r := range rep.Results {
		wantSkip := strings.HasPrefix(r.ID, "rfc.bulk.")
		if (r.Status == Skip) != wantSkip {
			t.Errorf("%s: status %s (%s)", r.ID, r.Status, r.Message)
		}
	}
	if m := byID["rfc.bulk.errors"].Message; !strings.Contains(m, "bulk.supported false") {
		t.Errorf("the Bulk skip does not say why: %q", m)
	}
	if len(rep.Leftovers) != 0 {
		t.Errorf("leftovers: %v", rep.Leftovers)
	}
	if rep.Summary.Total != len(Checks()) || rep.Summary.Total != rep.Summary.Passed+rep.Summary.Skipped {
		t.Errorf("summary %+v for %d checks", rep.Summary, len(Checks()))
	}
}

// TestBrokenEndpoints gives the fake one defect at a time and checks that
// exactly the checks about that defect fail, with a message that names
// the problem and the exchange that shows it.
func TestBrokenEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		broken   breakage
		fail     []string // exactly these checks fail
		message  map[string]string
		previous map[string]string // check → method of the request shown as the cause
	}{
		{
			name:   "404 on a filter that matches nothing",
			broken: breakage{notFoundOnEmptyFilter: true},
			fail: []string{"rfc.users.delete", "rfc.filter.datetime-before", "rfc.filter.value-path-same-element", "rfc.filter.no-match",
				"entra.test-connection", "entra.group-test-connection", "entra.delete-group", "entra.delete-user", "okta.lookup"},
			message: map[string]string{
				"rfc.filter.no-match":   "answered 404; RFC 7644 §3.4.2 requires 200 with totalResults 0",
				"entra.test-connection": "quarantines",
			},
		},
		{
			name:   "excludedAttributes ignored",
			broken: breakage{ignoreExcluded: true},
			fail: []string{"rfc.excluded.get", "rfc.excluded.sub-attribute", "rfc.excluded.list", "rfc.excluded.always-returned",
				"entra.get-group-excluding-members", "entra.find-group-excluding-members"},
			message: map[string]string{
				"rfc.excluded.get":                  `with ?excludedAttributes=emails, ["emails"] is returned`,
				"entra.get-group-excluding-members": "has a members key although excludedAttributes=members",
			},
		},
		{
			name:   "Remove of members with a value array removes them all",
			broken: breakage{removeAllMembers: true},
			fail:   []string{"entra.remove-member.default"},
			message: map[string]string{
				"entra.remove-member.default": "every member is gone",
			},
			previous: map[string]string{"entra.remove-member.default": "PATCH"},
		},
		{
			name:   "error status as a number",
			broken: breakage{numericStatus: true},
			fail: []string{"rfc.auth.missing-token", "rfc.auth.invalid-token", "rfc.error.not-found", "rfc.error.unknown-endpoint",
				"rfc.error.invalid-filter", "rfc.error.malformed-json", "rfc.error.missing-username", "rfc.error.uniqueness",
				"rfc.error.uniqueness-case", "rfc.users.single-primary", "rfc.users.delete", "rfc.groups.delete", "rfc.cursor.invalid", "rfc.patch.atomic", "rfc.patch.remove-without-path",
				"rfc.patch.read-only", "rfc.etag.if-match", "entra.delete-user", "entra.duplicate-user", "entra.unknown-user",
				"entra.group-display-name-unique", "okta.duplicate-user", "okta.bad-credentials", "okta.unknown-user"},
			message: map[string]string{
				"rfc.error.not-found":  `status is 404, a JSON number; RFC 7644 §3.12 requires the HTTP status as a JSON string ("404")`,
				"okta.bad-credentials": "a JSON number",
			},
		},
		{
			name:    "pagination members written as strings",
			broken:  breakage{cursorConfigStrings: true},
			fail:    []string{"rfc.cursor.config"},
			message: map[string]string{"rfc.cursor.config": `pagination.cursor is "true"; it is a REQUIRED boolean (RFC 9865 §4)`},
		},
		{
			name:   "cursor pages ignore count",
			broken: breakage{cursorIgnoresCount: true},
			fail:   []string{"rfc.cursor.first-page", "rfc.cursor.walk", "rfc.cursor.count"},
			message: map[string]string{
				"rfc.cursor.first-page": "the first page holds 10 resources for count=5; the service provider MUST NOT return more (RFC 9865 §2)",
				"rfc.cursor.count":      "count=3 over 12 matching users returned 10 resources",
			},
		},
		{
			name:   "every cursor answers the first page",
			broken: breakage{cursorRestarts: true},
			fail:   []string{"rfc.cursor.walk", "rfc.cursor.invalid"},
			message: map[string]string{
				"rfc.cursor.walk":    "appears on two pages of one cursor walk",
				"rfc.cursor.invalid": "want 400",
			},
		},
		{
			name:    "a cursor never issued is accepted",
			broken:  breakage{cursorAnyAccepted: true},
			fail:    []string{"rfc.cursor.invalid"},
			message: map[string]string{"rfc.cursor.invalid": "a cursor the endpoint never issued (RFC 9865 §2.1: 400 invalidCursor)"},
		},
		{
			name:    "no Content-Type",
			broken:  breakage{noContentType: true},
			fail:    []string{"rfc.content-type"},
			message: map[string]string{"rfc.content-type": `answered Content-Type "", want application/scim+json`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, byID := runAgainst(t, tt.broken)
			got := failedIDs(rep)
			if !slices.Equal(sorted(got), sorted(tt.fail)) {
				t.Errorf("failed checks:\n got %v\nwant %v%s", got, tt.fail, describeFailures(rep))
			}
			for id, want := range tt.message {
				r := byID[id]
				if !strings.Contains(r.Message, want) {
					t.Errorf("%s: message %q lacks %q", id, r.Message, want)
				}
				if r.Exchange == nil || r.Exchange.Method == "" || r.Exchange.URL == "" || r.Exchange.Status == 0 {
					t.Errorf("%s: the failure carries no request and response: %+v", id, r.Exchange)
				}
			}
			if len(rep.Leftovers) != 0 {
				t.Errorf("leftovers although checks failed: %v", rep.Leftovers)
			}
			for id, method := range tt.previous {
				if p := byID[id].Previous; p == nil || p.Method != method || p.RequestBody == "" {
					t.Errorf("%s: the report does not show the %s that caused the failure: %+v", id, method, p)
				}
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestNoGroupsSkipsGroupChecks checks that an endpoint whose /ResourceTypes
// lists no Group gets its group checks skipped, not failed, and that the
// Entra checks that need groups say why.
func TestNoGroupsSkipsGroupChecks(t *testing.T) {
	t.Parallel()
	rep, byID := runAgainst(t, breakage{noGroups: true})
	for _, id := range []string{"rfc.groups.create", "rfc.patch.members-add", "entra.remove-member.default", "okta.group-push", "okta.list-groups"} {
		if r := byID[id]; r.Status != Skip || !strings.Contains(r.Message, "no Group resource type") {
			t.Errorf("%s: %s %q, want skipped for lack of groups", id, r.Status, r.Message)
		}
	}
	if rep.Failed() {
		t.Errorf("failed: %v%s", failedIDs(rep), describeFailures(rep))
	}
}

// TestNoCursorSkipsCursorChecks: an endpoint that does not advertise
// cursor pagination gets the RFC 9865 checks skipped, saying why.
func TestNoCursorSkipsCursorChecks(t *testing.T) {
	t.Parallel()
	rep, byID := runAgainst(t, breakage{noCursor: true})
	if rep.Failed() {
		t.Fatalf("checks failed:%s", describeFailures(rep))
	}
	n := 0
	for id, r := range byID {
		if !strings.HasPrefix(id, "rfc.cursor.") {
			continue
		}
		n++
		if r.Status != Skip || !strings.Contains(r.Message, "no pagination object") {
			t.Errorf("%s: %s (%s), want skipped for want of a pagination object", id, r.Status, r.Message)
		}
	}
	if n != 5 {
		t.Errorf("%d cursor checks, want 5", n)
	}
}

// TestKeepLeavesResources checks that Keep reports what it kept instead of
// deleting it, and that a normal run deletes everything it created.
func TestKeepLeavesResources(t *testing.T) {
	t.Parallel()
	fake := newFakeSCIM(fakeToken, breakage{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	rep, err := Run(ctx, Options{BaseURL: srv.URL + "/scim/v2", Token: fakeToken, Only: []string{"rfc.groups.create"}, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Passed != 1 || len(rep.Leftovers) != 2 {
		t.Fatalf("summary %+v, leftovers %v; want 1 pass and a kept user and group", rep.Summary, rep.Leftovers)
	}
	if n := len(fake.data["User"]) + len(fake.data["Group"]); n != 2 {
		t.Errorf("%d resources on the endpoint after a --keep run, want 2", n)
	}
	if _, err := Run(ctx, Options{BaseURL: srv.URL + "/scim/v2", Token: fakeToken, Only: []string{"rfc.groups.create"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.data["User"]) + len(fake.data["Group"]); n != 2 {
		t.Errorf("%d resources on the endpoint after a normal run, want the 2 kept ones only", n)
	}
}

// TestCleanupAfterCancel checks that cancelling a run still deletes what it
// created.
func TestCleanupAfterCancel(t *testing.T) {
	t.Parallel()
	fake := newFakeSCIM(fakeToken, breakage{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var started int
	_, err := Run(ctx, Options{BaseURL: srv.URL + "/scim/v2", Token: fakeToken, Profiles: []string{"rfc"},
		Progress: func(done, total int, current string) {
			started = done
			if done == 40 {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("a cancelled run reported no error")
	}
	if started < 40 {
		t.Fatalf("the run stopped at %d", started)
	}
	if n := len(fake.data["User"]) + len(fake.data["Group"]); n != 0 {
		t.Errorf("%d resources left after a cancelled run", n)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		profiles []string
		check    func([]Check) bool
	}{
		{"entra only", []string{"entra"}, func(cs []Check) bool {
			return len(cs) > 20 && !slices.ContainsFunc(cs, func(c Check) bool { return !slices.Contains(c.Profiles, ProfileEntra) })
		}},
		{"comma list", []string{"okta,rfc"}, func(cs []Check) bool {
			return !slices.ContainsFunc(cs, func(c Check) bool { return strings.HasPrefix(c.ID, "entra.") })
		}},
		{"all", []string{"all"}, func(cs []Check) bool { return len(cs) == len(Checks()) }},
		{"default is all", nil, func(cs []Check) bool { return len(cs) == len(Checks()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Select(tt.profiles, nil)
			if err != nil || !tt.check(cs) {
				t.Errorf("Select(%v) = %d checks, %v", tt.profiles, len(cs), err)
			}
		})
	}
	if _, err := Select([]string{"azure"}, nil); err == nil || !strings.Contains(err.Error(), "entra, okta, rfc, all") {
		t.Errorf("unknown profile: %v", err)
	}
}

// TestCatalog checks the catalog's invariants: unique ids named after
// their profile, a title and a source for each, and every profile used.
func TestCatalog(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.Source == "" || len(c.Profiles) == 0 || c.Run == nil {
			t.Errorf("%s: incomplete: %+v", c.ID, c)
		}
		prefix, _, _ := strings.Cut(c.ID, ".")
		if !slices.Contains(c.Profiles, prefix) {
			t.Errorf("%s is not in the profile its id names (%v)", c.ID, c.Profiles)
		}
		for _, f := range strings.Split(c.Requires, ",") {
			if f != "" && !slices.Contains([]string{"bulk", "etag", "sort", "filter", "patch", "groups"}, f) {
				t.Errorf("%s requires unknown feature %q", c.ID, f)
			}
		}
	}
}
