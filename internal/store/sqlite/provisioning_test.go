package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// TestProvisioningPlans checks that the provisioning engine's reads are
// index lookups that read rows in the order asked: no step scans a table
// or sorts, but for the due escrows, which are sorted by object.
func TestProvisioningPlans(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	cur := &sqlstore.Cursor{At: timeText(at), Seq: 42}
	escrows, escrowArgs := escrowsSQL("a", store.EscrowQuery{AfterType: "User", AfterID: "u", Limit: 10})
	due, dueArgs := escrowsSQL("a", store.EscrowQuery{Due: at, Limit: 10})
	auditOf, auditOfArgs := sqlstore.AuditSQL(sqlfilter.SQLite{}, store.AuditQuery{TenantID: "t", AppID: "a", Limit: 10}, cur)
	auditNamed, auditNamedArgs := sqlstore.AuditSQL(sqlfilter.SQLite{}, store.AuditQuery{TenantID: "t", AppName: "App", Limit: 10}, cur)
	tests := []struct {
		name  string
		query string
		args  []any
		uses  string // a substring the plan must contain
		sorts bool   // the plan may sort
	}{
		{"logs of a tenant", "", nil, "provisioning_logs_tenant (tenant_id=? AND at>? AND at<?)", false},
		{"logs of an app", "app", nil, "provisioning_logs_app (tenant_id=? AND app_id=? AND at>? AND at<?)", false},
		{"logs of a source", "source", nil, "provisioning_logs_source (tenant_id=? AND source_id=? AND at>? AND at<?)", false},
		{"logs of a source name", "name", nil, "provisioning_logs_name (tenant_id=? AND source_name_key=? AND at>? AND at<?)", false},
		{"assigned to", assignedToSQL, []any{"t", "a", "u"},
			"memberships_member (member_rid=?)\nSEARCH a USING COVERING INDEX app_assignments_principal (principal_rid=? AND app_id=?)", false},
		{"link by target", `SELECT ` + sqlstore.LinkColumns + ` FROM app_links ` + linkByTargetSQL, []any{"a", "User", "x"},
			"app_links_target (app_id=? AND source_type=? AND target_id=?)", false},
		{"links", `SELECT ` + sqlstore.LinkColumns + ` FROM app_links
			WHERE app_id = ?1 AND source_type = ?2 AND source_id > ?3 ORDER BY source_id LIMIT ?4`, []any{"a", "User", "", 10},
			"PRIMARY KEY (app_id=? AND source_type=? AND source_id>?)", false},
		{"prune", `SELECT seq FROM provisioning_logs WHERE at < ?1 LIMIT ?2`, []any{"x", 10}, "provisioning_logs_at", false},
		// One lookup of the source per link, in the index alone.
		{"count links", countLinksSQL, []any{"t", "a", "User"},
			"SEARCH r USING COVERING INDEX resources_id (tenant_id=? AND type=? AND id=?)", false},
		{"escrows", escrows, escrowArgs, "PRIMARY KEY (app_id=? AND (source_type,source_id)>(?,?))", false},
		{"due escrows", due, dueArgs, "app_escrows_due (app_id=? AND retryable=? AND next_try<?)", true},
		{"count escrows", countEscrowsSQL, []any{"a"}, "COVERING INDEX app_escrows_due (app_id=?)", false},
		// A page of an application's audit log is read in order off one
		// index, by the application's id or by the name it had.
		{"audit of an app", auditOf, auditOfArgs, "app_audit_app (tenant_id=? AND app_id=?", false},
		{"audit by app name", auditNamed, auditNamedArgs, "app_audit_name (tenant_id=? AND app_name_key=?", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query, args := tc.query, tc.args
			if args == nil {
				q := store.LogQuery{TenantID: "t", Status: "failure", Since: at}
				switch tc.query {
				case "app":
					q.AppID = "a"
				case "source":
					q.SourceID = "u"
				case "name":
					q.SourceName = "Bjensen"
				}
				query, args = logsSQL(q, cur)
			}
			p := plan(t, s, query, args)
			text := strings.Join(p, "\n")
			for _, line := range p {
				if strings.HasPrefix(line, "SCAN ") && line != "SCAN CONSTANT ROW" || strings.Contains(line, "TEMP B-TREE") && !tc.sorts {
					t.Errorf("plan scans or sorts: %q\nquery: %s\nplan:\n%s", line, query, text)
				}
			}
			t.Logf("plan:\n%s", text)
			if !strings.Contains(text, tc.uses) {
				t.Errorf("plan does not use %q\nquery: %s\nplan:\n%s", tc.uses, query, text)
			}
		})
	}
}
