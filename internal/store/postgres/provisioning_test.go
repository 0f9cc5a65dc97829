package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// TestProvisioningPlans checks that PostgreSQL reads provisioning logs,
// links and escrows through the indexes the migrations make, over tables
// large enough, and analyzed, for the planner to prefer them: no
// sequential scan. (Over a few hundred rows the planner may well sort them
// rather than read them in order.)
func TestProvisioningPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	tn, err := s.EnsureTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	// The tenant has a fiftieth of the records.
	tenants := []string{tn.ID}
	for i := range 49 {
		o, err := s.EnsureTenant(ctx, fmt.Sprintf("other%d", i))
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, o.ID)
	}
	app := &store.App{TenantID: tn.ID, Name: "App", Template: "scim"}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for batch := range 10 {
		logs := make([]*store.ProvisioningLog, 5000)
		for i := range logs {
			n := batch*len(logs) + i
			logs[i] = &store.ProvisioningLog{TenantID: tenants[n%50], AppID: fmt.Sprintf("app-%d", n/50%20), CycleID: "c",
				At: at.Add(time.Duration(n) * time.Second), Action: "update", Status: []string{"success", "failure"}[n%3/2],
				SourceType: store.UserType, SourceID: fmt.Sprintf("u%d", n%5000), SourceName: fmt.Sprintf("user%d@example.com", n%5000)}
		}
		if err := s.AppendLogs(ctx, logs); err != nil {
			t.Fatal(err)
		}
	}
	// The application has a tenth of the links and escrows, and its
	// tenant a fiftieth of the users: the first thousand of the ids the
	// links name.
	apps := []string{app.ID}
	for i := range 9 {
		o := &store.App{TenantID: tn.ID, Name: fmt.Sprintf("Other%d", i), Template: "scim"}
		if err := s.CreateApp(ctx, o); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, o.ID)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO app_links (app_id, source_type, source_id, target_id, created_at, updated_at)
		SELECT a, 'User', format('u%s', lpad(i::text, 5, '0')), format('t%s', lpad(i::text, 5, '0')), $2, $2
		FROM unnest($1::text[]) AS a, generate_series(0, 4999) AS i`, apps, timeText(at)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO resources (tenant_id, type, id, id_key, version, created_at, last_modified, doc)
		SELECT t, 'User', format('u%s', lpad(i::text, 5, '0')), format('u%s', lpad(i::text, 5, '0')), 1, $2, $2, '{}'
		FROM unnest($1::text[]) AS t, generate_series(0, 999) AS i`, tenants, timeText(at)); err != nil {
		t.Fatal(err)
	}
	// Half the escrows are retryable, due a second apart: a few are due at
	// a time.
	if _, err := s.pool.Exec(ctx, `INSERT INTO app_escrows (`+sqlstore.EscrowColumns+`)
		SELECT a, 'User', format('u%s', lpad(i::text, 5, '0')), 'name', 1, i % 2 = 0,
			CASE WHEN i % 2 = 0 THEN to_char(timestamp '2025-03-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"') END,
			$2, $2, NULL
		FROM unnest($1::text[]) AS a, generate_series(0, 4999) AS i`, apps, timeText(at)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	cur := &sqlstore.Cursor{At: timeText(at.Add(30000 * time.Second)), Seq: 30000}
	logsOf := func(q store.LogQuery) (string, []any) {
		q.TenantID, q.Status = tn.ID, "failure"
		return logsSQL(q, cur)
	}
	query := func(sql string, args ...any) func() (string, []any) {
		return func() (string, []any) { return sql, args }
	}
	escrows := func(q store.EscrowQuery) func() (string, []any) {
		return func() (string, []any) { return escrowsSQL(app.ID, q) }
	}
	tests := []struct {
		name string
		sql  func() (string, []any)
		uses string
	}{
		{"logs of a tenant", func() (string, []any) { return logsOf(store.LogQuery{}) }, "provisioning_logs_tenant"},
		{"logs of an app", func() (string, []any) { return logsOf(store.LogQuery{AppID: "app-4"}) }, "provisioning_logs_app"},
		{"logs of a source", func() (string, []any) { return logsOf(store.LogQuery{SourceID: "u42"}) }, "provisioning_logs_source"},
		{"logs of a source name", func() (string, []any) { return logsOf(store.LogQuery{SourceName: "USER42@example.com"}) }, "provisioning_logs_name"},
		{"logs of a source name since", func() (string, []any) {
			return logsOf(store.LogQuery{SourceName: "user42@example.com", Since: at.Add(time.Hour)})
		}, "provisioning_logs_name"},
		{"link by target", query(`SELECT `+sqlstore.LinkColumns+` FROM app_links
			WHERE app_id = $1 AND source_type = $2 AND target_id = $3 ORDER BY source_id LIMIT 1`, app.ID, store.UserType, "t00042"), "app_links_target"},
		{"links", query(`SELECT `+sqlstore.LinkColumns+` FROM app_links
			WHERE app_id = $1 AND source_type = $2 AND source_id > $3 ORDER BY source_id LIMIT $4`, app.ID, store.UserType, "u01000", 100), "app_links_pkey"},
		{"prune", query(`SELECT seq FROM provisioning_logs WHERE at < $1 LIMIT $2`, timeText(at.Add(time.Minute)), sqlstore.PruneBatch), "provisioning_logs_at"},
		{"count links", query(countLinksSQL, tn.ID, app.ID, store.UserType), "resources_id_rid"},
		{"escrows", escrows(store.EscrowQuery{AfterType: store.UserType, AfterID: "u01000"}), "app_escrows_pkey"},
		{"due escrows", escrows(store.EscrowQuery{Due: at.Add(time.Minute)}), "app_escrows_due"},
		{"count escrows", query(countEscrowsSQL, app.ID), "app_escrows_due"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args := tc.sql()
			rows, err := s.pool.Query(ctx, "EXPLAIN "+sql, args...)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", sql, err)
			}
			var lines []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, line)
			}
			rows.Close()
			plan := strings.Join(lines, "\n")
			// apps has a row per application, a page or two: reading it
			// whole is its cheapest read (CountLinks checks the tenant's).
			scans := strings.Count(plan, "Seq Scan") - strings.Count(plan, "Seq Scan on apps ")
			if scans > 0 || !strings.Contains(plan, tc.uses) {
				t.Errorf("plan scans or does not use %s\nquery: %s\nplan:\n%s", tc.uses, sql, plan)
			}
		})
	}
}
