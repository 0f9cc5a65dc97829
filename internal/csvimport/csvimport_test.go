package csvimport

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/pgtest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/postgres"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

var users = schema.Builtin().ResourceType(store.UserType)

// directory is a real store with one tenant: SQLite, or PostgreSQL with
// FERRY_TEST_STORE=postgres.
type directory struct {
	st     store.Store
	tenant string
}

// pg is the PostgreSQL server of FERRY_TEST_STORE=postgres, started once.
var pg struct {
	once   sync.Once
	server *pgtest.Server
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.server != nil {
		pg.server.Stop()
	}
	os.Exit(code)
}

func newDirectory(t testing.TB) *directory {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if os.Getenv("FERRY_TEST_STORE") == "postgres" {
		pg.once.Do(func() { pg.server, pg.err = pgtest.Start(ctx) })
		if pg.err != nil {
			t.Fatal(pg.err)
		}
		dsn, err := pg.server.CreateDatabase(ctx, "import")
		if err != nil {
			t.Fatal(err)
		}
		st, err = postgres.Open(ctx, dsn, schema.Builtin(), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
	} else if st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "ferry.db"), schema.Builtin(), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.EnsureTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	return &directory{st: st, tenant: tn.ID}
}

// run imports a file as the CLI does and returns the plan and outcome.
func (d *directory) run(t *testing.T, csv string, key string, opts PlanOptions) (*Plan, *Outcome) {
	t.Helper()
	ctx := context.Background()
	f, err := Read(strings.NewReader(csv), users, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := LoadDirectory(ctx, d.st, d.tenant, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	p := MakePlan(f, users, dir, opts)
	out, err := Apply(ctx, d.st, d.tenant, users, dir, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, out
}

// user reads a user by userName.
func (d *directory) user(t *testing.T, userName string) *store.Resource {
	t.Helper()
	dir, err := LoadDirectory(context.Background(), d.st, d.tenant, KeyUserName)
	if err != nil {
		t.Fatal(err)
	}
	u := dir.Users[strings.ToLower(userName)]
	if u == nil {
		t.Fatalf("no user %s", userName)
	}
	return u
}

const people = `User Name,First Name,Last Name,Email,Title,Department,Active,Manager,Groups,Shoe Size
ann@example.com,Ann,Lee,ann@example.com,CEO,Board,yes,,Leaders;Everyone,38
bob@example.com,Bob,Ray,bob@example.com,Engineer,R&D,true,ann@example.com,Everyone,44
cy@example.com,Cy,Oh,cy@example.com,Designer,R&D,1,bob@example.com,Everyone|Design,41
`

func TestReadMapsCommonHeaders(t *testing.T) {
	f, err := Read(strings.NewReader("\ufeff"+people), users, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 3 || len(f.Errors) != 0 {
		t.Fatalf("%d rows, errors %v; want 3 rows", len(f.Rows), f.Errors)
	}
	if len(f.Ignored) != 1 || f.Ignored[0] != "Shoe Size" {
		t.Errorf("ignored columns %q, want [Shoe Size]", f.Ignored)
	}
	cy := f.Rows[2]
	if cy.Line != 4 || cy.Key != "cy@example.com" || cy.Manager != "bob@example.com" || strings.Join(cy.Groups, ",") != "Everyone,Design" {
		t.Errorf("row 3 = line %d key %q manager %q groups %q", cy.Line, cy.Key, cy.Manager, cy.Groups)
	}
}

func TestReadRefusesHeadersItCannotUse(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		opts      Options
		want      string
	}{
		{"no key column", "Email,Title\na@example.com,CEO\n", Options{}, "no column holds the key userName"},
		{"no externalId column", people, Options{Key: KeyExternalID}, "no column holds the key externalId"},
		{"a path the schema lacks", "userName,x\na,b\n", Options{Columns: map[string]string{"x": "shoeSize"}}, `the User schema has no attribute "shoeSize"`},
		{"a read-only path", "userName,x\na,b\n", Options{Columns: map[string]string{"x": "id"}}, "read-only"},
		{"two columns, one path", "userName,mail,email\na,b,c\n", Options{}, "both map to"},
		{"an empty file", "", Options{}, "the file is empty"},
		{"an unknown key", people, Options{Key: "email"}, "the key must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.csv), users, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestBadRowsFailAlone checks that each bad row is reported with its
// line (the header is line 1, and a quoted field may span lines) and
// column, and that the other rows are imported.
func TestBadRowsFailAlone(t *testing.T) {
	d := newDirectory(t)
	csv := `userName,title,active,employeeNumber
ok1@example.com,"A title
on two lines",yes,1
bad-active@example.com,Eng,maybe,2
,Eng,yes,3
short@example.com,Eng
ok2@example.com,Eng,no,4
ok1@example.com,Dup,yes,5
`
	p, out := d.run(t, csv, "", PlanOptions{})
	if p.Counts.Created != 2 || out.Counts.Created != 2 || out.Counts.Failed != 4 {
		t.Fatalf("plan %+v, outcome %+v; want 2 created and 4 failed", p.Counts, out.Counts)
	}
	want := []string{
		`line 4, column "active": "maybe" is not a yes or no`,
		`line 5, column "userName": the key is empty`,
		`line 6: 2 fields, but the header names 4 columns`,
		`line 8, column "userName": the key "ok1@example.com" is on line 2 already`,
	}
	for i, w := range want {
		if i >= len(out.Errors) || !strings.HasPrefix(out.Errors[i].Error(), w) {
			t.Errorf("error %d = %v, want %q", i, out.Errors, w)
		}
	}
	if u := d.user(t, "ok2@example.com"); u.Doc["active"] != false {
		t.Errorf("ok2 active = %v, want false", u.Doc["active"])
	}
}

// TestImportIsIdempotent imports a file twice: the second run changes
// nothing and says so; a changed cell updates that user alone, and the
// attributes no column maps are kept.
func TestImportIsIdempotent(t *testing.T) {
	d := newDirectory(t)
	p, out := d.run(t, people, "", PlanOptions{})
	if out.Counts.Created != 3 || out.Counts.GroupsCreated != 3 || out.Counts.MembersAdded != 5 || len(out.Errors) != 0 {
		t.Fatalf("first run: plan %+v, outcome %+v, errors %v", p.Counts, out.Counts, out.Errors)
	}
	bob := d.user(t, "bob@example.com")
	ext := bob.Doc[scim.EnterpriseUserURN].(map[string]any)
	if ext["department"] != "R&D" || ext["manager"].(map[string]any)["value"] != d.user(t, "ann@example.com").ID {
		t.Errorf("bob's enterprise attributes = %v; want R&D and ann as manager", ext)
	}
	if bob.Doc["name"].(map[string]any)["givenName"] != "Bob" || bob.Doc["title"] != "Engineer" {
		t.Errorf("bob = %v", bob.Doc)
	}

	p, out = d.run(t, people, "", PlanOptions{})
	if p.Counts != (Counts{Unchanged: 3}) || out.Counts != (Counts{Unchanged: 3}) {
		t.Fatalf("second run: plan %+v, outcome %+v; want 3 unchanged and nothing else", p.Counts, out.Counts)
	}
	if again := d.user(t, "bob@example.com"); again.Version != bob.Version {
		t.Errorf("the second run wrote bob: version %d → %d", bob.Version, again.Version)
	}

	// An attribute set by someone else (no column maps it) survives.
	if _, err := d.st.Update(context.Background(), d.tenant, store.UserType, bob.ID, 0, func(r *store.Resource) error {
		r.Doc["nickName"] = "Bobby"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(people, "Engineer", "Staff Engineer", 1)
	changed = strings.Replace(changed, "Everyone|Design", "Design", 1)
	_, out = d.run(t, changed, "", PlanOptions{})
	if out.Counts.Updated != 1 || out.Counts.Unchanged != 2 || out.Counts.MembersRemoved != 1 {
		t.Errorf("third run: %+v; want bob updated, cy out of Everyone", out.Counts)
	}
	bob = d.user(t, "bob@example.com")
	if bob.Doc["title"] != "Staff Engineer" || bob.Doc["nickName"] != "Bobby" {
		t.Errorf("bob after the change = %v", bob.Doc)
	}
}

// TestDeleteMissingIsGuarded disables the users a file lacks, refusing an
// empty file and a file that would disable more than 20% of them unless
// forced; a user whose row failed is not missing.
func TestDeleteMissingIsGuarded(t *testing.T) {
	d := newDirectory(t)
	var all strings.Builder
	all.WriteString("userName,active\n")
	for i := range 10 {
		fmt.Fprintf(&all, "u%d@example.com,yes\n", i)
	}
	d.run(t, all.String(), "", PlanOptions{})
	without := func(skip ...int) string {
		var b strings.Builder
		b.WriteString("userName,active\n")
		for i := range 10 {
			if !slices.Contains(skip, i) {
				fmt.Fprintf(&b, "u%d@example.com,yes\n", i)
			}
		}
		return b.String()
	}

	p, _ := d.run(t, "userName,active\n", "", PlanOptions{DeleteMissing: true})
	if !strings.Contains(p.Refused, "no rows") || p.Counts.Disabled != 0 {
		t.Errorf("an empty file: refused %q, %d disabled", p.Refused, p.Counts.Disabled)
	}
	p, _ = d.run(t, without(1, 2, 3), "", PlanOptions{DeleteMissing: true})
	if !strings.Contains(p.Refused, "would disable 3 of the 10 users keyed by userName") || p.Counts.Disabled != 0 {
		t.Errorf("30%% missing: refused %q, %d disabled", p.Refused, p.Counts.Disabled)
	}
	// A bad row keeps its user: u1's row fails, u2 is missing.
	bad := strings.Replace(without(2), "u1@example.com,yes", "u1@example.com,perhaps", 1)
	p, out := d.run(t, bad, "", PlanOptions{DeleteMissing: true})
	if p.Refused != "" || out.Counts.Disabled != 1 || out.Counts.Failed != 1 {
		t.Errorf("one missing, one bad row: refused %q, outcome %+v", p.Refused, out.Counts)
	}
	if d.user(t, "u2@example.com").Doc["active"] != false || d.user(t, "u1@example.com").Doc["active"] != true {
		t.Error("u2 should be disabled and u1 active")
	}
	_, out = d.run(t, without(2, 3, 4, 5), "", PlanOptions{DeleteMissing: true, Force: true})
	if out.Counts.Disabled != 3 {
		t.Errorf("forced: %d disabled, want 3 (u2 was already)", out.Counts.Disabled)
	}
}

// TestExternalIDKey matches users by externalId: a renamed user is the
// same user.
func TestExternalIDKey(t *testing.T) {
	d := newDirectory(t)
	d.run(t, "Employee Id,userName,externalId\n1,ann@example.com,E1\n", KeyExternalID, PlanOptions{})
	_, out := d.run(t, "externalId,userName\nE1,ann.lee@example.com\n", KeyExternalID, PlanOptions{})
	if out.Counts.Updated != 1 || out.Counts.Created != 0 {
		t.Fatalf("rename: %+v; want one update", out.Counts)
	}
	if u := d.user(t, "ann.lee@example.com"); u.Doc["externalId"] != "E1" {
		t.Errorf("renamed user = %v", u.Doc)
	}
}

// TestUnknownManagerFails reports a manager the directory and the file
// lack on the row that names it.
func TestUnknownManagerFails(t *testing.T) {
	d := newDirectory(t)
	_, out := d.run(t, "userName,manager\nann@example.com,nobody@example.com\n", "", PlanOptions{})
	if out.Counts.Created != 1 || len(out.Errors) != 1 || !strings.Contains(out.Errors[0].Error(), `line 2: the manager "nobody@example.com"`) {
		t.Errorf("outcome %+v, errors %v", out.Counts, out.Errors)
	}
}

// BenchmarkImport imports FERRY_IMPORT_BENCH_ROWS rows (10,000 unless
// set) of a typical HR export into an empty directory (SQLite, or
// PostgreSQL with FERRY_TEST_STORE=postgres), with ten groups, then the
// same file again (nothing to change). It reports the first run's rows a
// second.
func BenchmarkImport(b *testing.B) {
	rows := 10000
	if s := os.Getenv("FERRY_IMPORT_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("FERRY_IMPORT_BENCH_ROWS=%q: want a positive number", s)
		}
		rows = n
	}
	var file strings.Builder
	file.WriteString("userName,First Name,Last Name,Email,Title,Department,Employee Id,Active,Groups\n")
	for i := range rows {
		fmt.Fprintf(&file, "user%07d@example.com,Given%d,Family%d,user%07d@example.com,Engineer,Dept %d,E%07d,yes,Team %d\n", i, i, i, i, i%40, i, i%10)
	}
	csv := file.String()
	for b.Loop() {
		b.StopTimer()
		d := newDirectory(b)
		b.StartTimer()
		start := time.Now()
		res, err := Run(context.Background(), d.st, d.tenant, users, Request{CSV: csv}, nil)
		if err != nil || res.Counts.Created != rows || res.Counts.Failed != 0 {
			b.Fatalf("first run: %+v, %v", res, err)
		}
		first := time.Since(start)
		start = time.Now()
		res, err = Run(context.Background(), d.st, d.tenant, users, Request{CSV: csv}, nil)
		if err != nil || res.Counts.Unchanged != rows {
			b.Fatalf("second run: %+v, %v", res.Counts, err)
		}
		b.ReportMetric(float64(rows)/first.Seconds(), "rows/s")
		b.ReportMetric(time.Since(start).Seconds(), "s-unchanged-run")
	}
}
