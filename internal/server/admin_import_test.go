package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/csvimport"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// TestAdminImport imports a CSV file through the admin API: the result
// alone, then the progress stream of a second, unchanged run; a file
// that cannot be used is a 400 that says why; a SCIM token is refused.
func TestAdminImport(t *testing.T) {
	as := newAdminTestServer(t, true)
	admin := as.token(t, "acme", "admin")
	var csv strings.Builder
	csv.WriteString("User Name,Title,Groups\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "user%02d@example.com,Engineer,Everyone\n", i)
	}
	csv.WriteString("bad@example.com,Engineer,Everyone,extra\n")
	body, _ := json.Marshal(csvimport.Request{CSV: csv.String()})

	r := as.call(t, admin, "POST", "/api/v1/import", string(body))
	var res csvimport.Result
	if r.Status != 200 || json.Unmarshal([]byte(r.Raw), &res) != nil {
		t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	if res.Rows != 31 || res.Counts.Created != 30 || res.Counts.Failed != 1 || res.Counts.GroupsCreated != 1 || res.Counts.MembersAdded != 30 ||
		len(res.Errors) != 1 || res.Errors[0].Line != 32 {
		t.Errorf("first import = %+v", res)
	}
	tn, err := as.Store.TenantByName(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	page, err := as.Store.Query(t.Context(), tn.ID, store.UserType, store.Query{})
	if err != nil || page.Total != 30 {
		t.Errorf("the tenant has %d users (%v), want 30", page.Total, err)
	}

	// The same file again, streamed: progress lines, then the result,
	// which changes nothing.
	r = adminResponse(ferrytest.Request(t, admin, "POST", as.URL+"/api/v1/import", "application/json", string(body), "Accept", "application/x-ndjson"))
	if r.Status != 200 || r.Header.Get("Content-Type") != ndjsonContentType {
		t.Fatalf("streamed import: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	lines := strings.Split(strings.TrimSpace(r.Raw), "\n")
	var last csvimport.Progress
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
	}
	if len(lines) < 2 || last.Done != 30 || last.Total != 30 || last.Result == nil || last.Result.Counts.Unchanged != 30 || last.Result.Counts.Created != 0 || last.Result.Counts.MembersAdded != 0 {
		t.Errorf("second import: %d lines, last %+v", len(lines), last.Result)
	}

	// A file without the key column loses nothing and says why.
	bad, _ := json.Marshal(csvimport.Request{CSV: "Title\nEngineer\n"})
	as.call(t, admin, "POST", "/api/v1/import", string(bad), "Accept", "application/x-ndjson").
		wantError(t, 400, scim.InvalidValue, "no column holds the key userName")
	as.call(t, admin, "POST", "/api/v1/import", `{"csv":"userName\na\n","delete":true}`).wantError(t, 400, scim.InvalidValue, `unknown field "delete"`)
	as.call(t, as.token(t, "acme", ""), "POST", "/api/v1/import", string(body)).wantError(t, 403, "", "not an admin API token")
}
