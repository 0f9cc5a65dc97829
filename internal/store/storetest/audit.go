package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// The audit log of the provisioning engine (AppendAudit, Audit).

func auditIDs(es []*store.AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func readAudit(t *testing.T, s store.Store, q store.AuditQuery) []*store.AuditEntry {
	t.Helper()
	es, err := s.Audit(context.Background(), q)
	if err != nil {
		t.Fatalf("Audit(%+v): %v", q, err)
	}
	return es
}

func appendAudit(t *testing.T, s store.Store, e *store.AuditEntry) *store.AuditEntry {
	t.Helper()
	if err := s.AppendAudit(context.Background(), e); err != nil {
		t.Fatalf("AppendAudit(%+v): %v", e, err)
	}
	return e
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	hr, crm := createApp(t, s, a, "HR"), createApp(t, s, a, "CRM")
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	// 120 entries of HR in one instant, and CRM's and another tenant's in
	// between.
	var want []string // HR's, newest first
	var entries []*store.AuditEntry
	for i := range 120 {
		if i == 60 {
			appendAudit(t, s, &store.AuditEntry{TenantID: a, AppID: crm.ID, AppName: "CRM", At: at, Actor: "ops", Action: "start"})
			appendAudit(t, s, &store.AuditEntry{TenantID: b, AppID: hr.ID, AppName: "HR", At: at, Actor: "mallory", Action: "stop"})
		}
		e := appendAudit(t, s, &store.AuditEntry{TenantID: a, AppID: hr.ID, AppName: "HR", At: at, Actor: "alice",
			Action: "update", Details: fmt.Appendf(nil, `{"changes":[{"field":"scope","new":%d}]}`, i)})
		if e.ID == "" || slices.Contains(want, e.ID) {
			t.Fatalf("AppendAudit set ID %q (empty or repeated)", e.ID)
		}
		want = slices.Insert(want, 0, e.ID)
		entries = append(entries, e)
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID}); !slices.Equal(auditIDs(got), want[:100]) {
		t.Errorf("Audit without a limit gave %d entries; want the newest 100, in the reverse of the order appended", len(got))
	}
	got := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Limit: 5000})
	if !slices.Equal(auditIDs(got), want) {
		t.Fatalf("Audit with limit 5000 gave %d entries; want HR's 120, newest first", len(got))
	}
	e := got[len(got)-1]
	if e.TenantID != a || e.AppID != hr.ID || e.AppName != "HR" || !e.At.Equal(at) || e.Actor != "alice" || e.Action != "update" ||
		string(e.Details) != `{"changes":[{"field":"scope","new":0}]}` {
		t.Errorf("entry read back as %+v (details %s)", e, e.Details)
	}
	// Paging with Before, exact although every entry has the same At.
	var paged []string
	before := ""
	for {
		page := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Before: before, Limit: 7})
		if len(page) == 0 {
			break
		}
		paged = append(paged, auditIDs(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paging with Before gave %d entries, want the %d in order", len(paged), len(want))
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Limit: 1}); len(got) != 1 || got[0].ID != want[0] {
		t.Errorf("Limit 1 = %v, want the newest", auditIDs(got))
	}

	// Appending a stored id again is skipped; an entry without a time
	// gets the store's, and comes first.
	t0 := time.Now().Add(-time.Minute)
	retry := &store.AuditEntry{ID: entries[0].ID, TenantID: a, AppID: hr.ID, AppName: "HR", Actor: "eve", Action: "delete"}
	appendAudit(t, s, retry)
	undated := appendAudit(t, s, &store.AuditEntry{TenantID: a, AppID: hr.ID, AppName: "HR", Actor: "alice", Action: "stop"})
	if undated.At.Before(t0) || undated.ID == "" {
		t.Errorf("AppendAudit set %+v", undated)
	}
	got = readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Limit: 1000})
	if len(got) != 121 || got[0].ID != undated.ID || got[0].Details != nil {
		t.Errorf("after a repeated id and an undated entry: %d entries, first %+v", len(got), got[0])
	}
	for _, e := range got {
		if e.ID == entries[0].ID && (e.Action != "update" || e.Actor != "alice") {
			t.Errorf("a repeated id replaced the stored entry: %+v", e)
		}
	}

	// Entries in time order whatever the order they were appended in.
	var timed []*store.AuditEntry
	for _, h := range []int{3, 1, 4, 0, 2} {
		timed = append(timed, appendAudit(t, s, &store.AuditEntry{ID: fmt.Sprintf("crm-h%d", h), TenantID: a, AppID: crm.ID,
			AppName: "CRM", At: at.Add(time.Duration(h) * time.Hour), Actor: "ops", Action: "retry"}))
	}
	if got, want := auditIDs(readAudit(t, s, store.AuditQuery{TenantID: a, AppID: crm.ID, Before: "crm-h3"})), []string{"crm-h2", "crm-h1"}; !slices.Equal(got[:2], want) || len(got) != 4 {
		t.Errorf("CRM's entries before crm-h3 = %v; want crm-h2, crm-h1, then the two of crm-h0's instant", got)
	}

	// Tenant isolation.
	if got := readAudit(t, s, store.AuditQuery{TenantID: b, AppID: hr.ID}); len(got) != 1 || got[0].Actor != "mallory" {
		t.Errorf("tenant b's entries = %+v, want its own alone", got)
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: b, AppID: hr.ID, Before: want[0]}); len(got) != 0 {
		t.Errorf("Before another tenant's entry gave %d entries", len(got))
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Before: "no-such-entry"}); len(got) != 0 {
		t.Errorf("Before an unknown entry gave %d entries", len(got))
	}

	// Entries outlive their application, and are found by the name they
	// were recorded under, ignoring case; a renamed application's by
	// either.
	if _, err := s.UpdateApp(ctx, a, crm.ID, 0, func(app *store.App) error { app.Name = "Sales"; return nil }); err != nil {
		t.Fatal(err)
	}
	renamed := appendAudit(t, s, &store.AuditEntry{TenantID: a, AppID: crm.ID, AppName: "Sales", Actor: "ops", Action: "update"})
	if err := s.DeleteApp(ctx, a, crm.ID); err != nil {
		t.Fatal(err)
	}
	deleted := appendAudit(t, s, &store.AuditEntry{TenantID: a, AppID: crm.ID, AppName: "Sales", Actor: "ops", Action: "delete"})
	if got := readAudit(t, s, store.AuditQuery{TenantID: a, AppID: crm.ID}); len(got) != 8 || got[0].ID != deleted.ID || got[1].ID != renamed.ID {
		t.Errorf("a deleted application's entries by id = %v; want its 8, the delete first", auditIDs(got))
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: a, AppName: "sALES"}); !slices.Equal(auditIDs(got), []string{deleted.ID, renamed.ID}) {
		t.Errorf("entries by the name Sales = %v; want the two recorded under it", auditIDs(got))
	}
	byOld := readAudit(t, s, store.AuditQuery{TenantID: a, AppName: "crm"})
	if len(byOld) != 6 || byOld[0].ID != timed[2].ID {
		t.Errorf("entries by the name CRM = %v; want the 6 recorded under it, crm-h4 first", auditIDs(byOld))
	}
	if got := readAudit(t, s, store.AuditQuery{TenantID: b, AppName: "crm"}); len(got) != 0 {
		t.Errorf("another tenant's entries by name = %v", auditIDs(got))
	}

	// Details must be JSON, in both stores alike.
	if err := s.AppendAudit(ctx, &store.AuditEntry{TenantID: a, AppID: hr.ID, AppName: "HR", Actor: "x", Action: "update", Details: []byte(`{"a":`)}); err == nil {
		t.Errorf("AppendAudit took details that are not JSON")
	}
	if n := len(readAudit(t, s, store.AuditQuery{TenantID: a, AppID: hr.ID, Limit: 1000})); n != 121 {
		t.Errorf("a refused entry was stored: %d entries", n)
	}
}
