package scimclient

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/scim/resource"
)

// TestTestConnection checks that Test Connection passes only on 200 with an
// empty ListResponse, and that each failure says what was sent, what came
// back and what was expected.
func TestTestConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fault is the target's answer; nil lets the fake target answer.
		fault *fault
		// ignoreFilter makes the target answer with all its users.
		ignoreFilter bool
		wantCode     Code // "" for success
		// wantTail is what the error says after the request's URL.
		wantTail string
	}{
		{name: "empty ListResponse passes"},
		{
			name:  "empty ListResponse without Resources passes",
			fault: &fault{status: 200, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0}`},
		},
		{
			name:         "200 with results fails",
			ignoreFilter: true,
			wantCode:     CodeServiceIncompatible,
			wantTail:     ` returned 200 OK; expected 200 with an empty ListResponse: the ListResponse has totalResults 1 and 1 Resources for a random userName no user can have; the target seems to ignore the filter`,
		},
		{
			name:     "401 fails with the target's detail",
			fault:    &fault{status: 401, body: scimError(401, "", "Authorization failure: the token is expired")},
			wantCode: CodeUnauthorized,
			wantTail: ` returned 401 Unauthorized; expected 200 with an empty ListResponse: Authorization failure: the token is expired`,
		},
		{
			name:     "404 fails, without echoing a body that is not a SCIM error",
			fault:    &fault{status: 404, body: "Not Found"},
			wantCode: CodeServiceIncompatible,
			wantTail: ` returned 404 Not Found; expected 200 with an empty ListResponse: the body is not a SCIM error (text/plain, 9 bytes); it is not shown`,
		},
		{
			name:     "non-JSON 200 fails",
			fault:    &fault{status: 200, body: "<html><body>Sign in</body></html>"},
			wantCode: CodeServiceIncompatible,
			wantTail: ` returned 200 OK; expected 200 with an empty ListResponse: the body is not a SCIM ListResponse: `,
		},
		{
			name:     "a JSON object that is not a ListResponse fails",
			fault:    &fault{status: 200, body: `{"status":"ok"}`},
			wantCode: CodeServiceIncompatible,
			wantTail: ` returned 200 OK; expected 200 with an empty ListResponse: the body is not a SCIM ListResponse: it has neither totalResults nor Resources`,
		},
		{
			name:     "204 fails",
			fault:    &fault{status: 204},
			wantCode: CodeServiceIncompatible,
			wantTail: ` returned 204 No Content; expected 200 with an empty ListResponse: a query must answer 200`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			seedUser(tgt)
			tgt.ignoreFilter = tc.ignoreFilter
			if tc.fault != nil {
				tgt.script(http.MethodGet, *tc.fault)
			}
			c, _, _ := newTestClient(t, tgt.base())
			err := c.TestConnection(t.Context())

			reqs := tgt.requests()
			if len(reqs) != 1 {
				t.Fatalf("target received %d requests, want 1", len(reqs))
			}
			u, _ := url.Parse(reqs[0].URI)
			filter := u.Query().Get("filter")
			guid, ok := strings.CutPrefix(filter, `userName eq "`)
			guid, ok2 := strings.CutSuffix(guid, `"`)
			if u.Path != "/scim/v2/Users" || !ok || !ok2 || len(guid) != 36 || guid[14] != '4' {
				t.Fatalf("request %s, want GET /scim/v2/Users?filter=userName eq \"<v4 GUID>\"", reqs[0].URI)
			}
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("TestConnection: %v", err)
				}
				return
			}
			e := asError(t, err)
			if e.Code != tc.wantCode {
				t.Errorf("Code = %s, want %s", e.Code, tc.wantCode)
			}
			want := `GET ` + tgt.base() + `/Users?filter=userName eq "` + guid + `"` + tc.wantTail
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n%s\nwant it to start with\n%s", err, want)
			}
		})
	}
}

// TestFindBy checks the filter FindBy sends, with quotes and backslashes
// escaped, and that results its filter does not match are dropped.
func TestFindBy(t *testing.T) {
	t.Parallel()
	users := []resource.Document{
		{"userName": `o"brien\x@example.com`, "externalId": "e1"},
		{"userName": "ADA@example.com", "externalId": "e2", "emails": []any{map[string]any{"type": "work", "value": "ada@work.example"}}},
		{"userName": "grace@example.com", "externalId": "e3", "emails": []any{map[string]any{"type": "home", "value": "ada@work.example"}}},
		{"externalId": "e4"},
	}
	tests := []struct {
		name         string
		attr, value  string
		ignoreFilter bool
		wantFilter   string
		wantExternal []string
	}{
		{
			name: "quotes and backslashes are escaped", attr: "userName", value: `o"brien\x@example.com`,
			wantFilter: `userName eq "o\"brien\\x@example.com"`, wantExternal: []string{"e1"},
		},
		{
			name: "userName matches ignoring case", attr: "userName", value: "ada@example.com",
			wantFilter: `userName eq "ada@example.com"`, wantExternal: []string{"e2"},
		},
		{
			name: "nothing found", attr: "externalId", value: "e9",
			wantFilter: `externalId eq "e9"`,
		},
		{
			name: "a value path becomes an and inside the brackets", attr: `emails[type eq "work"].value`, value: "ada@work.example",
			wantFilter: `emails[type eq "work" and value eq "ada@work.example"]`, wantExternal: []string{"e2"},
		},
		{
			name: "results of a target ignoring the filter are checked", attr: "userName", value: "ada@example.com",
			ignoreFilter: true,
			wantFilter:   `userName eq "ada@example.com"`,
			// e4 has no userName to contradict the match, so it stays.
			wantExternal: []string{"e2", "e4"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			for _, u := range users {
				tgt.put("Users", u)
			}
			tgt.ignoreFilter = tc.ignoreFilter
			c, _, _ := newTestClient(t, tgt.base())
			docs, err := c.FindBy(t.Context(), "Users", tc.attr, tc.value)
			if err != nil {
				t.Fatalf("FindBy: %v", err)
			}
			u, _ := url.Parse(tgt.requests()[0].URI)
			if got := u.Query().Get("filter"); got != tc.wantFilter {
				t.Errorf("filter = %s, want %s", got, tc.wantFilter)
			}
			var got []string
			for _, d := range docs {
				e, _ := d.String("externalId")
				got = append(got, e)
			}
			if !slices.Equal(got, tc.wantExternal) {
				t.Errorf("found %v, want %v", got, tc.wantExternal)
			}
		})
	}
}

func TestFindByRejectsBadAttribute(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	c, _, _ := newTestClient(t, tgt.base())
	if _, err := c.FindBy(t.Context(), "Users", `userName eq "x" or id`, "y"); err == nil {
		t.Fatal("FindBy accepted an attribute that is a filter")
	}
	if n := len(tgt.requests()); n != 0 {
		t.Errorf("target received %d requests", n)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	a := tgt.put("Groups", resource.Document{"displayName": "Sales", "members": []any{map[string]any{"value": "u1"}}})
	b := tgt.put("Groups", resource.Document{"displayName": "sales"})
	tgt.put("Groups", resource.Document{"displayName": "Support"})
	c, _, _ := newTestClient(t, tgt.base())

	doc, found, err := c.Match(t.Context(), "Groups", "displayName", "Support")
	if name, _ := doc.String("displayName"); err != nil || !found || name != "Support" {
		t.Errorf("Match(Support) = %v, %v, %v", doc, found, err)
	}
	if _, found, err := c.Match(t.Context(), "Groups", "displayName", "Marketing"); err != nil || found {
		t.Errorf("Match(Marketing) = found %v, %v; want not found", found, err)
	}
	_, _, err = c.Match(t.Context(), "Groups", "displayName", "SALES")
	e := asError(t, err)
	if e.Code != CodeDuplicateTargetEntries {
		t.Errorf("Code = %s, want DuplicateTargetEntries", e.Code)
	}
	if want := "2 Groups match displayName eq \"SALES\": ids " + a + ", " + b; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	for _, r := range tgt.requests() {
		if !strings.Contains(r.URI, "excludedAttributes=members") {
			t.Errorf("group query %s does not exclude members", r.URI)
		}
	}
}

// TestAll checks paging over a whole target: stopping at totalResults,
// surviving a target that caps the page size, stopping on a short page
// only without totalResults, and refusing a target that ignores startIndex.
func TestAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		users            int
		count            int
		maxPage          int
		omitTotal        bool
		ignoreStartIndex bool
		wantUsers        int
		wantRequests     int
		wantErr          string
	}{
		{name: "pages of 3 over 7", users: 7, count: 3, wantUsers: 7, wantRequests: 3},
		{name: "exact multiple stops at totalResults", users: 6, count: 3, wantUsers: 6, wantRequests: 2},
		{name: "empty target", users: 0, count: 3, wantUsers: 0, wantRequests: 1},
		{name: "target caps pages at 2", users: 7, count: 5, maxPage: 2, wantUsers: 7, wantRequests: 4},
		{name: "no totalResults: a short page ends it", users: 7, count: 3, omitTotal: true, wantUsers: 7, wantRequests: 3},
		{name: "no totalResults, exact multiple: an empty page ends it", users: 6, count: 3, omitTotal: true, wantUsers: 6, wantRequests: 3},
		{name: "target ignoring startIndex", users: 7, count: 3, ignoreStartIndex: true, wantUsers: 3, wantRequests: 2, wantErr: "ignores paging"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := newTarget(t)
			for i := range tc.users {
				tgt.put("Users", resource.Document{"userName": string(rune('a'+i)) + "@example.com"})
			}
			tgt.maxPage, tgt.omitTotal, tgt.ignoreStartIndex = tc.maxPage, tc.omitTotal, tc.ignoreStartIndex
			c, _, _ := newTestClient(t, tgt.base())
			var ids []string
			var err error
			for d, e := range c.All(t.Context(), "Users", tc.count, ReadOptions{}) {
				if e != nil {
					err = e
					break
				}
				id, _ := d.String("id")
				ids = append(ids, id)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if len(ids) != tc.wantUsers || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
				t.Errorf("got %d users %v, want %d distinct", len(ids), ids, tc.wantUsers)
			}
			if n := len(tgt.requests()); n != tc.wantRequests {
				t.Errorf("sent %d requests, want %d", n, tc.wantRequests)
			}
		})
	}
}

func TestListQuery(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	c, _, _ := newTestClient(t, tgt.base())
	tests := []struct {
		name    string
		typ     string
		start   int
		count   int
		opts    ReadOptions
		wantURI string
	}{
		{name: "users", typ: "Users", start: 1, count: 100, wantURI: "/scim/v2/Users?count=100&startIndex=1"},
		{name: "groups exclude members", typ: "Groups", start: 51, count: 50, wantURI: "/scim/v2/Groups?count=50&excludedAttributes=members&startIndex=51"},
		{name: "groups with members", typ: "Groups", start: 1, opts: ReadOptions{Members: true}, wantURI: "/scim/v2/Groups?startIndex=1"},
		{name: "attributes", typ: "Users", start: 0, opts: ReadOptions{Attributes: []string{"id", "userName"}}, wantURI: "/scim/v2/Users?attributes=id%2CuserName&startIndex=1"},
	}
	for _, tc := range tests {
		if _, err := c.List(t.Context(), tc.typ, tc.start, tc.count, tc.opts); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		reqs := tgt.requests()
		if got := reqs[len(reqs)-1].URI; got != tc.wantURI {
			t.Errorf("%s: URI = %s, want %s", tc.name, got, tc.wantURI)
		}
	}
}
