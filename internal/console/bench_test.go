package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/store"
)

// BenchmarkPages measures each console page's time, from the request sent
// on loopback to the last byte read, on a directory of
// FERRY_CONSOLE_BENCH_USERS users (2,000 by default) with as many
// provisioning-log records, the first thousand users assigned, and a group
// of a thousand members. The goal is 100 ms a page at 100,000 of each:
//
//	make bench-console   # 100,000 users and log records
func BenchmarkPages(b *testing.B) {
	users := 2000
	if v := os.Getenv("FERRY_CONSOLE_BENCH_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		users = n
	}
	f := newFixture(b)
	f.addAdmin("ada@example.com", store.RoleAdmin)
	ctx := context.Background()
	app, err := f.admin.App(ctx, f.tenant.ID, appName)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ids := seedUsers(b, f, users)
	members := make([]store.Member, 0, 1000)
	for _, id := range ids[:min(1000, len(ids))] {
		members = append(members, store.Member{ID: id})
	}
	group := &store.Resource{TenantID: f.tenant.ID, Type: store.GroupType, Doc: resource.Document{"displayName": "Everyone early"}, Members: members}
	if err := f.st.Create(ctx, group); err != nil {
		b.Fatal(err)
	}
	for _, id := range ids[:min(1000, len(ids))] {
		if _, err := f.admin.Assign(ctx, f.tenant.ID, appName, provision.Principal{Type: store.UserType, ID: id}, "User"); err != nil {
			b.Fatal(err)
		}
	}
	seedLogs(b, f, app, ids)
	b.Logf("seeded %d users, %d log records and 1,000 assignments in %s", users, users, time.Since(start).Round(time.Second))

	br := f.browser()
	br.signIn("ada@example.com")
	before := ""
	if logs, err := f.admin.Logs(ctx, f.tenant.ID, appName, provision.LogFilter{Limit: logsPageSize}); err == nil && len(logs) > 0 {
		before = logs[len(logs)-1].ID
	}
	for _, p := range []struct{ name, path string }{
		{"apps", "/apps"},
		{"app", "/apps/" + appName},
		{"status", "/apps/" + appName + "/status"},
		{"mappings", "/apps/" + appName + "/mappings"},
		{"mapping", "/apps/" + appName + "/mappings/User/0"},
		{"scoping", "/apps/" + appName + "/scoping/User"},
		{"settings", "/apps/" + appName + "/settings"},
		{"assignments", "/apps/" + appName + "/assignments"},
		{"assignments-search", "/apps/" + appName + "/assignments?q=user000777"},
		{"logs", "/apps/" + appName + "/logs"},
		{"logs-older", "/apps/" + appName + "/logs?before=" + before},
		{"logs-failures", "/apps/" + appName + "/logs?status=failure"},
		{"logs-user", "/apps/" + appName + "/logs?user=user000777%40example.com"},
		{"failures", "/apps/" + appName + "/failures"},
		{"audit", "/apps/" + appName + "/audit"},
		{"ondemand", "/apps/" + appName + "/ondemand"},
		{"plan", "/apps/" + appName + "/plan"},
		{"gallery", "/apps/new"},
		{"directory-users", "/directory/users"},
		{"directory-search", "/directory/users?q=user000777"},
		{"directory-user", "/directory/users/" + ids[len(ids)/2]},
		{"directory-group", "/directory/groups/" + group.ID},
		{"tokens", "/tokens"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := br.client.Get(f.url + p.path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", p.path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
		})
	}
}

// seedUsers creates n users with 8 writers, as a directory sync would, and
// returns their ids in the order of their userNames.
func seedUsers(b *testing.B, f *fixture, n int) []string {
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				doc, err := resource.Decode(fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
					"userName":"user%06d@example.com","displayName":"User %06d","active":true,
					"name":{"givenName":"User","familyName":"%06d"},"emails":[{"type":"work","value":"user%06d@example.com","primary":true}]}`, i, i, i, i))
				if err != nil {
					errs <- err
					return
				}
				r := &store.Resource{TenantID: f.tenant.ID, Type: store.UserType, Doc: doc}
				if err := f.st.Create(context.Background(), r); err != nil {
					errs <- err
					return
				}
				ids[i] = r.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return ids
}

// seedLogs writes a provisioning-log record per user, one in ten a
// failure, in batches.
func seedLogs(b *testing.B, f *fixture, app *provision.AppView, ids []string) {
	const batch = 1000
	at := time.Now().Add(-time.Duration(len(ids)) * time.Second)
	for from := 0; from < len(ids); from += batch {
		var logs []*store.ProvisioningLog
		for i := from; i < min(from+batch, len(ids)); i++ {
			status := provision.StatusSuccess
			var errInfo *provision.ErrorInfo
			if i%10 == 0 {
				status = provision.StatusFailure
				errInfo = &provision.ErrorInfo{Code: "BadRequest", Reason: "the target refused the value", Category: "failure"}
			}
			name := fmt.Sprintf("user%06d@example.com", i)
			rec := provision.LogRecord{ActivityDateTime: at.Add(time.Duration(i) * time.Second), CycleID: "bench", Action: provision.ActionCreate,
				Status: status, Reason: "in scope and not in the target", Error: errInfo,
				Source: provision.Identity{ID: ids[i], Type: store.UserType, DisplayName: name},
				Steps:  []provision.Step{{Name: "import", Type: "import", Status: provision.StatusSuccess, Description: "Read user " + name}}}
			raw, err := json.Marshal(rec)
			if err != nil {
				b.Fatal(err)
			}
			logs = append(logs, &store.ProvisioningLog{TenantID: f.tenant.ID, AppID: app.ID, CycleID: "bench", At: rec.ActivityDateTime,
				Action: rec.Action, Status: status, SourceType: store.UserType, SourceID: ids[i], SourceName: name, Record: raw})
		}
		if err := f.st.AppendLogs(context.Background(), logs); err != nil {
			b.Fatal(err)
		}
	}
}
