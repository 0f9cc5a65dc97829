package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
)

// scimClient calls one ferry replica's /scim/v2 with a token.
type scimClient struct {
	base, token string
	http        *http.Client
}

// do sends a request and returns the status, the ETag and the decoded
// body.
func (c scimClient) do(t *testing.T, method, path, body string, header ...string) (int, string, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+"/scim/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	return resp.StatusCode, resp.Header.Get("ETag"), doc
}

// TestReplicasShareOnePostgres runs two ferry serve processes on one
// PostgreSQL database, started at the same moment on an empty database,
// and checks over HTTP that they behave as one service.
func TestReplicasShareOnePostgres(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	database := postgresDatabase(t)
	addrs := make([]string, 2)
	var wg sync.WaitGroup
	for i := range addrs {
		wg.Go(func() { addrs[i] = startFerry(t, database).addr })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Both migrated at once; each migration was applied once.
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	var applied, distinct int
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &distinct)
	conn.Close(ctx)
	if err != nil || applied != distinct || applied == 0 {
		t.Fatalf("goose_db_version: %d rows for %d migrations (%v); want each applied once", applied, distinct, err)
	}

	token := createToken(t, database)
	a := scimClient{"http://" + addrs[0], token, &http.Client{}}
	b := scimClient{"http://" + addrs[1], token, &http.Client{}}
	replicas := []scimClient{a, b}

	// The same userName created through both at once: one 201, one 409.
	for round := range 20 {
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, c := range replicas {
			wg.Go(func() {
				statuses[i], _, _ = c.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"race-%d@example.com"}`, round))
			})
		}
		wg.Wait()
		if !(statuses[0] == 201 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 201) {
			t.Errorf("round %d: concurrent creates answered %v, want one 201 and one 409", round, statuses)
		}
	}

	// PATCH with If-Match through both at once: one success, one 412.
	for round := range 10 {
		status, etag, doc := a.do(t, "POST", "/Users", fmt.Sprintf(`{"userName":"patched-%d"}`, round))
		if status != 201 || etag == "" {
			t.Fatalf("create: %d, ETag %q", status, etag)
		}
		id := doc["id"].(string)
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, c := range replicas {
			wg.Go(func() {
				statuses[i], _, _ = c.do(t, "PATCH", "/Users/"+id,
					fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
					"Operations":[{"op":"replace","path":"title","value":"by replica %d"}]}`, i), "If-Match", etag)
			})
		}
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 412 || statuses[0] == 412 && statuses[1] == 200) {
			t.Errorf("round %d: concurrent PATCH If-Match %s answered %v, want one 200 and one 412", round, etag, statuses)
		}
	}

	// Written through one, read and filtered through the other at once.
	for i := range 20 {
		from, to := replicas[i%2], replicas[(i+1)%2]
		userName := fmt.Sprintf("visible-%d@example.com", i)
		status, _, doc := from.do(t, "POST", "/Users", `{"userName":"`+userName+`","emails":[{"value":"`+userName+`","type":"work"}]}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, doc)
		}
		id := doc["id"].(string)
		if status, _, got := to.do(t, "GET", "/Users/"+id, ""); status != 200 || got["userName"] != userName {
			t.Errorf("GET through the other replica: %d %v", status, got)
		}
		status, _, list := to.do(t, "GET", `/Users?filter=`+urlQuery(`emails[type eq "work" and value eq "`+userName+`"]`), "")
		if status != 200 || list["totalResults"] != float64(1) {
			t.Errorf("filter through the other replica: %d %v", status, list)
		}
	}

	// Deletes through both, then the change feed: every acknowledged
	// write of both replicas, once, in order.
	status, _, list := a.do(t, "GET", `/Users?filter=`+urlQuery(`userName sw "visible-"`)+"&count=100", "")
	if status != 200 {
		t.Fatalf("list: %d", status)
	}
	resources := list["Resources"].([]any)
	deleted := map[string]bool{}
	for i, r := range resources {
		id := r.(map[string]any)["id"].(string)
		if status, _, _ := replicas[i%2].do(t, "DELETE", "/Users/"+id, ""); status != 204 {
			t.Fatalf("DELETE: %d", status)
		}
		deleted[id] = true
	}
	st, err := postgres.Open(ctx, database, schema.Builtin(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.TenantByName(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	feed, err := st.Changes(ctx, tn.ID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[store.ChangeOp]int{}
	lastOp := map[string]store.ChangeOp{}
	for i, c := range feed {
		if i > 0 && c.Seq <= feed[i-1].Seq {
			t.Errorf("seq %d after %d", c.Seq, feed[i-1].Seq)
		}
		ops[c.Op]++
		switch prev := lastOp[c.ID]; {
		case c.Op == store.OpCreate && prev != "",
			c.Op != store.OpCreate && prev == "",
			prev == store.OpDelete:
			t.Errorf("entry %d: %s of %s after %q", c.Seq, c.Op, c.ID, prev)
		}
		lastOp[c.ID] = c.Op
	}
	// 20 race winners, 10 patched users, 20 visible users; 10 successful
	// PATCHes; 20 deletes.
	want := map[store.ChangeOp]int{store.OpCreate: 50, store.OpUpdate: 10, store.OpDelete: 20}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("change feed: %v, want %v", ops, want)
	}
	for id := range deleted {
		if lastOp[id] != store.OpDelete {
			t.Errorf("the feed does not end %s with its delete", id)
		}
	}
}

// TestMigrateCommand migrates a new PostgreSQL database with ferry migrate,
// twice: the second run finds nothing to do.
func TestMigrateCommand(t *testing.T) {
	database := postgresDatabase(t)
	for range 2 {
		out, err := exec.Command(ferryBinary, "migrate", "--database", database).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "is up to date") {
			t.Fatalf("ferry migrate: %v\n%s", err, out)
		}
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D").Replace(s)
}
