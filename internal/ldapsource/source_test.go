package ldapsource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/slapdtest"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
)

const (
	base     = slapdtest.DefaultSuffix
	readerDN = "cn=reader," + base
	readerPW = "reader-secret"
)

// size is how many users and groups a test directory holds.
type size struct{ users, groups int }

var (
	// large is the directory of the end-to-end test.
	large = size{users: 1000, groups: 20}
	// small is enough for the guards: the store's writes, not the source,
	// are what a larger one would spend its time on (SQLite under the race
	// detector most of all).
	small = size{users: 200, groups: 10}
)

func userDN(i int) string  { return fmt.Sprintf("uid=user%04d,ou=people,%s", i, base) }
func groupDN(g int) string { return fmt.Sprintf("cn=group%02d,ou=groups,%s", g, base) }

// directoryLDIF is sz.users inetOrgPersons, user i managed by user i/10
// and a member of group i%sz.groups, and an ordinary reader account (the
// root DN is above size limits).
func directoryLDIF(sz size) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", base)
	fmt.Fprintf(&b, "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n", base)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: %s\n\n", readerDN, readerPW)
	for i := range sz.users {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%04d\ncn: Given%d Family%d\ngivenName: Given%d\nsn: Family%d\n"+
			"mail: user%04d@example.com\ntitle: Engineer %d\ndepartmentNumber: dept-%02d\nemployeeNumber: %d\ntelephoneNumber: +1 555 %04d\n",
			userDN(i), i, i, i, i, i, i, i%7, i%sz.groups, i, i)
		if i > 0 {
			fmt.Fprintf(&b, "manager: %s\n", userDN(i/10))
		}
		b.WriteString("\n")
	}
	for g := range sz.groups {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: group%02d\n", groupDN(g), g)
		for i := g; i < sz.users; i += sz.groups {
			fmt.Fprintf(&b, "member: %s\n", userDN(i))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// startDirectory starts a slapd holding directoryLDIF, with the password
// policy overlay (pwdAccountLockedTime).
func startDirectory(t *testing.T, sz size, opts slapdtest.Options) *slapdtest.Server {
	t.Helper()
	opts.LDIF = directoryLDIF(sz)
	opts.Overlays = append(opts.Overlays, "ppolicy")
	s, err := slapdtest.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func rootConfig(s *slapdtest.Server) Config {
	return Config{Name: "corp", URL: s.URL(), BindDN: s.RootDN(), BindPassword: s.RootPassword(), BaseDN: base}
}

func newReader(t *testing.T, cfg Config) *Reader {
	t.Helper()
	r, err := NewReader(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// directoryStore opens a new SQLite store with one tenant.
func directoryStore(t *testing.T) (store.Store, string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenant, err := st.EnsureTenant(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return st, tenant.ID
}

// outcome is one pass, read to applied.
type outcome struct {
	snap    *Snapshot
	readErr error
	plan    *Plan
	result  Result
	read    time.Duration
	apply   time.Duration
}

// runPass reads (incrementally from since when given), plans and applies.
func runPass(t *testing.T, r *Reader, st store.Store, tenant string, since *Mark, opts PlanOptions) outcome {
	t.Helper()
	ctx := t.Context()
	var o outcome
	start := time.Now()
	if since == nil {
		o.snap, o.readErr = r.Read(ctx)
	} else {
		o.snap, o.readErr = r.ReadChanges(ctx, *since)
	}
	o.read = time.Since(start)
	owned, err := LoadOwned(ctx, st, tenant, "corp")
	if err != nil {
		t.Fatal(err)
	}
	o.plan = NewPlan(owned, o.snap, opts)
	start = time.Now()
	o.result, err = Apply(ctx, Target{Store: st, TenantID: tenant, Source: "corp"}, o.plan)
	o.apply = time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range o.result.Failures {
		t.Errorf("apply: %v", f)
	}
	return o
}

// populate runs a first full pass and checks that it created everything.
func populate(t *testing.T, r *Reader, st store.Store, tenant string, sz size) outcome {
	t.Helper()
	o := runPass(t, r, st, tenant, nil, PlanOptions{})
	if o.readErr != nil {
		t.Fatal(o.readErr)
	}
	if o.result.Created != sz.users+sz.groups || o.result.MembersAdded != sz.users {
		t.Fatalf("first pass: %+v; want %d created and %d members added", o.result, sz.users+sz.groups, sz.users)
	}
	return o
}

// ownedState reads what the source owns, users by userName and groups by
// displayName.
func ownedState(t *testing.T, st store.Store, tenant string) (users map[string]*store.Resource, groups map[string]*store.Resource) {
	t.Helper()
	owned, err := LoadOwned(t.Context(), st, tenant, "corp")
	if err != nil {
		t.Fatal(err)
	}
	users, groups = map[string]*store.Resource{}, map[string]*store.Resource{}
	for _, r := range owned.Users {
		name, _ := r.Doc.String("userName")
		users[name] = r
	}
	for _, r := range owned.Groups {
		name, _ := r.Doc.String("displayName")
		groups[name] = r
	}
	return users, groups
}

func countActive(users map[string]*store.Resource) int {
	n := 0
	for _, u := range users {
		if u.Doc["active"] == true {
			n++
		}
	}
	return n
}

func ldapConn(t *testing.T, s *slapdtest.Server) *ldap.Conn {
	t.Helper()
	conn, err := s.Conn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func modify(t *testing.T, conn *ldap.Conn, dn string, change func(*ldap.ModifyRequest)) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	change(req)
	if err := conn.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	s := startDirectory(t, large, slapdtest.Options{})
	st, tenant := directoryStore(t)
	r := newReader(t, rootConfig(s))

	first := populate(t, r, st, tenant, large)
	t.Logf("first full pass: read %d users and %d groups in %v, applied %d creates in %v",
		len(first.snap.Users), len(first.snap.Groups), first.read.Round(time.Millisecond),
		first.result.Created, first.apply.Round(time.Millisecond))
	if first.snap.Unresolved != 0 || len(first.snap.Invalid) != 0 {
		t.Errorf("unresolved %d, invalid %v", first.snap.Unresolved, first.snap.Invalid)
	}

	users, groups := ownedState(t, st, tenant)
	if len(users) != large.users || len(groups) != large.groups || countActive(users) != large.users {
		t.Fatalf("%d users (%d active), %d groups", len(users), countActive(users), len(groups))
	}
	u42 := users["user0042"]
	ent, _ := u42.Doc[scim.EnterpriseUserURN].(map[string]any)
	manager, _ := ent["manager"].(map[string]any)
	emails, _ := u42.Doc["emails"].([]any)
	phones, _ := u42.Doc["phoneNumbers"].([]any)
	ext, _ := u42.Doc.String("externalId")
	switch {
	case u42.Doc["displayName"] != "Given42 Family42" || u42.Doc["title"] != "Engineer 0":
		t.Errorf("user0042: %v", u42.Doc)
	case u42.Doc["name"].(map[string]any)["familyName"] != "Family42":
		t.Errorf("user0042 name: %v", u42.Doc["name"])
	case len(emails) != 1 || emails[0].(map[string]any)["value"] != "user0042@example.com" || emails[0].(map[string]any)["primary"] != true:
		t.Errorf("user0042 emails: %v", emails)
	case len(phones) != 1 || phones[0].(map[string]any)["value"] != "+1 555 0042":
		t.Errorf("user0042 phones: %v", phones)
	case ent["department"] != "dept-02" || ent["employeeNumber"] != "42":
		t.Errorf("user0042 enterprise: %v", ent)
	case manager["value"] != users["user0004"].ID:
		t.Errorf("user0042 manager %v, want user0004 (%s)", manager, users["user0004"].ID)
	case !strings.HasPrefix(ext, "ldap:corp:") || len(ext) != len("ldap:corp:")+36:
		t.Errorf("user0042 externalId %q", ext)
	}
	g7 := groups["group07"]
	if len(g7.Members) != large.users/large.groups {
		t.Errorf("group07 has %d members", len(g7.Members))
	}
	members := map[string]bool{}
	for _, m := range g7.Members {
		members[m.ID] = true
	}
	for i := 7; i < large.users; i += large.groups {
		if !members[users[fmt.Sprintf("user%04d", i)].ID] {
			t.Errorf("group07 lacks user%04d", i)
		}
	}

	// Nothing changed: nothing to do.
	again := runPass(t, r, st, tenant, nil, PlanOptions{})
	if n := len(again.plan.Creates) + len(again.plan.Updates) + len(again.plan.Disables) + len(again.plan.Deletes); n != 0 {
		t.Errorf("second full pass: %s", again.plan.Summary())
	}
	t.Logf("second full pass (no changes): read in %v, planned and applied in %v", again.read.Round(time.Millisecond), again.apply.Round(time.Millisecond))

	// A SCIM client edits a mapped and an unmapped attribute.
	if _, err := st.Update(t.Context(), tenant, store.UserType, users["user0010"].ID, 0, func(cur *store.Resource) error {
		doc := cur.Doc.Clone()
		doc["title"], doc["nickName"] = "Chief", "Ten"
		cur.Doc = doc
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// In LDAP: a change, a disable, a user and a group deleted, a member
	// moved.
	conn := ldapConn(t, s)
	modify(t, conn, userDN(5), func(m *ldap.ModifyRequest) {
		m.Replace("title", []string{"Director"})
		m.Replace("mail", []string{"five@example.com"})
	})
	modify(t, conn, userDN(6), func(m *ldap.ModifyRequest) { m.Add("pwdAccountLockedTime", []string{"000001010000Z"}) })
	if err := conn.Del(ldap.NewDelRequest(userDN(7), nil)); err != nil {
		t.Fatal(err)
	}
	if err := conn.Del(ldap.NewDelRequest(groupDN(3), nil)); err != nil {
		t.Fatal(err)
	}
	modify(t, conn, groupDN(1), func(m *ldap.ModifyRequest) {
		m.Delete("member", []string{userDN(21)})
		m.Add("member", []string{userDN(2)})
	})

	// The incremental pass brings the change, the disable and the
	// membership, and cannot see the deletions.
	inc := runPass(t, r, st, tenant, &again.snap.Mark, PlanOptions{})
	if inc.readErr != nil {
		t.Fatal(inc.readErr)
	}
	if inc.snap.Full || len(inc.plan.Deletes) != 0 || len(inc.plan.Disables) != 1 || inc.plan.Disables[0].Reason == goneReason {
		t.Errorf("incremental plan %s: disables %v", inc.plan.Summary(), inc.plan.Disables)
	}
	users, groups = ownedState(t, st, tenant)
	emails, _ = users["user0005"].Doc["emails"].([]any)
	if users["user0005"].Doc["title"] != "Director" || emails[0].(map[string]any)["value"] != "five@example.com" {
		t.Errorf("user0005 after the incremental pass: %v", users["user0005"].Doc)
	}
	if users["user0006"].Doc["active"] != false || users["user0007"].Doc["active"] != true || groups["group03"] == nil {
		t.Errorf("after the incremental pass: user0006 active %v, user0007 active %v, group03 %v",
			users["user0006"].Doc["active"], users["user0007"].Doc["active"], groups["group03"] != nil)
	}
	g1 := map[string]bool{}
	for _, m := range groups["group01"].Members {
		g1[m.ID] = true
	}
	if g1[users["user0021"].ID] || !g1[users["user0002"].ID] || len(g1) != large.users/large.groups {
		t.Errorf("group01 after the incremental pass: %d members, user0021 %v, user0002 %v",
			len(g1), g1[users["user0021"].ID], g1[users["user0002"].ID])
	}

	// The full pass finds the deletions and writes the source's title back
	// over the SCIM client's, keeping its nickName.
	full := runPass(t, r, st, tenant, nil, PlanOptions{})
	if full.result.Disabled != 1 || full.result.Deleted != 1 {
		t.Errorf("full pass after the deletions: %+v, plan %s", full.result, full.plan.Summary())
	}
	users, groups = ownedState(t, st, tenant)
	if users["user0007"].Doc["active"] != false || groups["group03"] != nil || len(groups) != large.groups-1 {
		t.Errorf("after the full pass: user0007 active %v, group03 %v", users["user0007"].Doc["active"], groups["group03"] != nil)
	}
	if u10 := users["user0010"].Doc; u10["title"] != "Engineer 3" || u10["nickName"] != "Ten" {
		t.Errorf("user0010 after the full pass: title %v, nickName %v", u10["title"], u10["nickName"])
	}
	// Without the referential integrity overlay, group07 and the users
	// user0007 managed still name its DN: dangling references, counted
	// and left out.
	if full.snap.Unresolved != 11 {
		t.Errorf("unresolved %d, want 11 (group07 member and manager of user0070-79: user0007)", full.snap.Unresolved)
	}
	if full.snap.Mark.Attribute != "modifyTimestamp" || full.snap.Mark.Value < again.snap.Mark.Value {
		t.Errorf("mark %+v after %+v", full.snap.Mark, again.snap.Mark)
	}
}

// TestKilledMidPass stops slapd while a full pass reads the users: the
// pass ends in a connection error, and nothing is disabled or deleted.
func TestKilledMidPass(t *testing.T) {
	t.Parallel()
	s := startDirectory(t, small, slapdtest.Options{})
	st, tenant := directoryStore(t)
	populate(t, newReader(t, rootConfig(s)), st, tenant, small)

	cfg := rootConfig(s)
	cfg.PageSize = 50
	r := newReader(t, cfg)
	r.afterPage = func(phase string, entries int) {
		if phase == "read users" && entries == 100 {
			s.Kill()
		}
	}
	o := runPass(t, r, st, tenant, nil, PlanOptions{})
	if !errors.Is(o.readErr, ErrConnection) || o.snap.Complete {
		t.Fatalf("read: %v (complete %v), want ErrConnection", o.readErr, o.snap.Complete)
	}
	if !strings.Contains(o.readErr.Error(), "read users (after 100 entries)") {
		t.Errorf("the error does not say where the pass stopped: %v", o.readErr)
	}
	assertUntouched(t, o, st, tenant, small)
}

// assertUntouched checks that a failed or held pass changed nothing: no
// plan, no writes, every user active and every group there.
func assertUntouched(t *testing.T, o outcome, st store.Store, tenant string, sz size) {
	t.Helper()
	p := o.plan
	if len(p.Creates)+len(p.Updates)+len(p.Disables)+len(p.Deletes) != 0 || p.Guard == "" {
		t.Errorf("plan %s, guard %q", p.Summary(), p.Guard)
	}
	if o.result.Created+o.result.Updated+o.result.Disabled+o.result.Deleted+o.result.MembersRemoved != 0 {
		t.Errorf("apply: %+v", o.result)
	}
	users, groups := ownedState(t, st, tenant)
	if countActive(users) != sz.users || len(groups) != sz.groups {
		t.Errorf("%d active users, %d groups after the pass", countActive(users), len(groups))
	}
}

func TestCancelledPass(t *testing.T) {
	t.Parallel()
	s := startDirectory(t, small, slapdtest.Options{})
	cfg := rootConfig(s)
	cfg.PageSize = 50
	r := newReader(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	r.afterPage = func(phase string, entries int) {
		if phase == "read groups" {
			cancel()
		}
	}
	snap, err := r.Read(ctx)
	if !errors.Is(err, context.Canceled) || snap.Complete || snap.Err != err {
		t.Errorf("read: %v, complete %v", err, snap.Complete)
	}
}

// TestSizeLimit reads as an ordinary bind DN from a slapd whose size limit
// is half the directory: the pass ends in ErrSizeLimit and changes
// nothing. The source's own SizeLimit does the same.
func TestSizeLimit(t *testing.T) {
	t.Parallel()
	s := startDirectory(t, small, slapdtest.Options{SizeLimit: small.users / 2})
	st, tenant := directoryStore(t)
	populate(t, newReader(t, rootConfig(s)), st, tenant, small) // the root DN is above limits

	cfg := rootConfig(s)
	cfg.BindDN, cfg.BindPassword = readerDN, readerPW
	o := runPass(t, newReader(t, cfg), st, tenant, nil, PlanOptions{})
	if !errors.Is(o.readErr, ErrSizeLimit) || !strings.Contains(o.readErr.Error(), "size.prtotal") {
		t.Fatalf("read: %v, want ErrSizeLimit saying how to lift it", o.readErr)
	}
	assertUntouched(t, o, st, tenant, small)

	cfg = rootConfig(s)
	cfg.SizeLimit = small.users - 1
	o = runPass(t, newReader(t, cfg), st, tenant, nil, PlanOptions{})
	if !errors.Is(o.readErr, ErrSizeLimit) || !strings.Contains(o.readErr.Error(), "SizeLimit of 199") {
		t.Fatalf("read: %v, want ErrSizeLimit naming SizeLimit", o.readErr)
	}
	assertUntouched(t, o, st, tenant, small)
}

// TestShrinkGuard deletes 30% of the users from LDAP: the full pass
// disables nothing and says why, until the shrink is allowed.
func TestShrinkGuard(t *testing.T) {
	t.Parallel()
	s := startDirectory(t, small, slapdtest.Options{})
	st, tenant := directoryStore(t)
	r := newReader(t, rootConfig(s))
	populate(t, r, st, tenant, small)

	conn := ldapConn(t, s)
	gone := small.users * 3 / 10
	for i := small.users - gone; i < small.users; i++ {
		if err := conn.Del(ldap.NewDelRequest(userDN(i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	o := runPass(t, r, st, tenant, nil, PlanOptions{})
	if o.readErr != nil {
		t.Fatal(o.readErr)
	}
	if !strings.Contains(o.plan.Guard, "60 of the 200 users") || o.plan.Withheld != 2*gone {
		// 60 disables and 60 membership removals held back.
		t.Errorf("guard %q, withheld %d", o.plan.Guard, o.plan.Withheld)
	}
	assertUntouched(t, o, st, tenant, small)

	o = runPass(t, r, st, tenant, nil, PlanOptions{AllowShrink: true})
	if o.result.Disabled != gone || o.result.MembersRemoved != gone || o.plan.Guard != "" {
		t.Errorf("allowed shrink: %+v, guard %q", o.result, o.plan.Guard)
	}
	users, _ := ownedState(t, st, tenant)
	if countActive(users) != small.users-gone {
		t.Errorf("%d active users, want %d", countActive(users), small.users-gone)
	}
}

// writeTLS writes a new certificate authority and a certificate it issued
// for 127.0.0.1, and returns the files.
func writeTLS(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caKey, key := newKey(), newKey()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slapdtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	server := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	serverDER, err := x509.CreateCertificate(rand.Reader, server, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", serverDER), write("server.key", "PRIVATE KEY", keyDER)
}

// TestTCPAndStartTLS reads over ldap:// (TCP, relayed to slapd's socket),
// plain and upgraded with StartTLS.
func TestTCPAndStartTLS(t *testing.T) {
	t.Parallel()
	caFile, certFile, keyFile := writeTLS(t)
	s := startDirectory(t, small, slapdtest.Options{TLSCertFile: certFile, TLSKeyFile: keyFile})
	url, err := s.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		startTLS bool
		caFile   string
		wantErr  string
	}{
		{"plain", false, "", ""},
		{"StartTLS", true, caFile, ""},
		{"StartTLS, unknown authority", true, "", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rootConfig(s)
			cfg.URL, cfg.StartTLS, cfg.CAFile = url, tt.startTLS, tt.caFile
			cfg.BindDN, cfg.BindPassword = readerDN, readerPW
			snap, err := newReader(t, cfg).Read(t.Context())
			if tt.wantErr != "" {
				if !errors.Is(err, ErrConnection) || !strings.Contains(err.Error(), "StartTLS") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("read: %v, want a StartTLS error about the %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(snap.Users) != small.users || len(snap.Groups) != small.groups {
				t.Fatalf("read: %v", err)
			}
		})
	}
	// A wrong password is the server's refusal, and says what to check.
	cfg := rootConfig(s)
	cfg.URL, cfg.BindDN, cfg.BindPassword = url, readerDN, "wrong"
	if _, err := newReader(t, cfg).Read(t.Context()); !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "invalid credentials") {
		t.Errorf("wrong password: %v", err)
	}
}
