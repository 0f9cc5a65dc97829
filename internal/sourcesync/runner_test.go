package sourcesync

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/clocktest"
	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/slapdtest"
	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlite"
	"github.com/ferryid/ferry/internal/store/storetest"
)

const suffix = slapdtest.DefaultSuffix

// fixture is a slapd of 20 users and 2 groups, a SQLite store and a runner
// on a clock that stands still, its log in a buffer.
type fixture struct {
	ldap   *slapdtest.Server
	url    string // ldap:// on loopback
	st     store.Store
	tenant string
	clock  *clocktest.Clock
	runner *Runner
	log    *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := slapdtest.Start(t.Context(), slapdtest.Options{LDIF: slapdtest.People(suffix, 20, 2), Overlays: []string{"ppolicy"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	url, err := srv.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), schema.Builtin(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.EnsureTenant(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := egress.Parse("loopback")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ldap: srv, url: url, st: st, tenant: tn.ID, clock: storetest.NewClock(), log: &bytes.Buffer{}}
	f.runner = New(st, sealer, Options{Owner: "test", Now: f.clock.Now, Dial: policy.DialContext,
		Log: slog.New(slog.NewTextHandler(&lockedWriter{w: f.log}, nil))})
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) create(t *testing.T) *Source {
	t.Helper()
	src, err := f.runner.Create(t.Context(), f.tenant, CreateInput{Name: "corp", BindPassword: f.ldap.RootPassword(),
		Config: Config{URL: f.url, BindDN: f.ldap.RootDN(), BaseDN: suffix}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// users reads the directory's users by userName.
func (f *fixture) users(t *testing.T) map[string]*store.Resource {
	t.Helper()
	return ferrytest.UsersByName(t, f.st, f.tenant)
}

func (f *fixture) modify(t *testing.T, change func(c *ldap.Conn) error) {
	t.Helper()
	c, err := f.ldap.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := change(c); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) status(t *testing.T) Status {
	t.Helper()
	src, err := f.runner.Get(t.Context(), f.tenant, "corp")
	if err != nil {
		t.Fatal(err)
	}
	return src.Status
}

// TestSchedule runs a source on its schedule: a full pass first, nothing
// before the interval, then an incremental pass that carries a change and
// a disable, and the daily full pass that finds a deletion.
func TestSchedule(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t)
	f.runner.RunDue(t.Context())
	f.runner.Wait()
	st := f.status(t)
	if st.Last == nil || st.Last.Kind != KindFull || st.Last.Outcome != OutcomeSuccess || st.Last.Counts.Created != 22 {
		t.Fatalf("first pass = %+v; want a full pass that created 20 users and 2 groups", st.Last)
	}
	if !st.NextPass.Equal(f.clock.Now().Add(DefaultInterval)) || !st.NextFull.Equal(f.clock.Now().Add(DefaultFullInterval)) {
		t.Errorf("next pass %s, next full %s; want in 5m and 24h", st.NextPass, st.NextFull)
	}
	if n := len(f.users(t)); n != 20 {
		t.Fatalf("%d users in the directory; want 20", n)
	}
	first := st.Last.Started

	f.clock.Advance(DefaultInterval - time.Second)
	f.runner.RunDue(t.Context())
	f.runner.Wait()
	if st := f.status(t); !st.Last.Started.Equal(first) {
		t.Fatalf("a pass ran before the interval: %+v", st.Last)
	}

	f.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest(slapdtest.PeopleDN(suffix, 1), nil)
		m.Replace("title", []string{"Manager"})
		if err := c.Modify(m); err != nil {
			return err
		}
		m = ldap.NewModifyRequest(slapdtest.PeopleDN(suffix, 2), nil)
		m.Add("pwdAccountLockedTime", []string{"000001010000Z"})
		if err := c.Modify(m); err != nil {
			return err
		}
		return c.Del(ldap.NewDelRequest(slapdtest.PeopleDN(suffix, 3), nil))
	})
	f.clock.Advance(time.Second)
	f.runner.RunDue(t.Context())
	f.runner.Wait()
	st = f.status(t)
	if st.Last.Kind != KindIncremental || st.Last.Outcome != OutcomeSuccess {
		t.Fatalf("second pass = %+v; want a successful incremental pass", st.Last)
	}
	users := f.users(t)
	if title, _ := users["user01"].Doc.String("title"); title != "Manager" {
		t.Errorf("user01's title = %q; want Manager", title)
	}
	if users["user02"].Doc["active"] != false {
		t.Errorf("user02 active = %v; want false (locked in LDAP)", users["user02"].Doc["active"])
	}
	if users["user03"].Doc["active"] != true {
		t.Errorf("user03 was disabled by an incremental pass, which cannot see deletions")
	}

	f.clock.Advance(DefaultFullInterval)
	f.runner.RunDue(t.Context())
	f.runner.Wait()
	st = f.status(t)
	if st.Last.Kind != KindFull || st.Last.Outcome != OutcomeSuccess || st.Last.Counts.Disabled != 1 {
		t.Fatalf("daily pass = %+v; want a full pass that disabled user03", st.Last)
	}
	if f.users(t)["user03"].Doc["active"] != false {
		t.Errorf("user03, deleted in LDAP, is still active after a full pass")
	}
}

// TestServerKilled: a pass whose server died changes nothing, keeps the
// mark and says why; the password appears in no log line.
func TestServerKilled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t)
	if p, err := f.runner.Sync(t.Context(), f.tenant, "corp", false, false); err != nil || p.Outcome != OutcomeSuccess {
		t.Fatalf("first sync = %+v, %v", p, err)
	}
	mark := f.status(t).Mark
	f.ldap.Kill()
	p, err := f.runner.Sync(t.Context(), f.tenant, "corp", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.Outcome != OutcomeFailed || !strings.Contains(p.Error, "connection") || !strings.Contains(p.Advice, "nothing was changed") {
		t.Errorf("sync with slapd killed = %+v; want a failed pass saying the connection failed and nothing changed", p)
	}
	for name, u := range f.users(t) {
		if u.Doc["active"] != true {
			t.Errorf("%s was disabled by a pass that could not read the directory", name)
		}
	}
	if st := f.status(t); st.Mark == nil || *st.Mark != *mark || st.Last.Outcome != OutcomeFailed {
		t.Errorf("after the failed pass: mark %+v, last %+v; want the mark kept (%+v)", st.Mark, st.Last, mark)
	}
	if strings.Contains(f.log.String(), f.ldap.RootPassword()) {
		t.Errorf("the bind password is in the log:\n%s", f.log)
	}
	if !strings.Contains(f.log.String(), "pass failed") {
		t.Errorf("the failed pass is not logged:\n%s", f.log)
	}
}

// TestShrinkGuard: a full pass that finds most users gone disables nothing
// until an administrator lets one pass through.
func TestShrinkGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t)
	if _, err := f.runner.Sync(t.Context(), f.tenant, "corp", true, false); err != nil {
		t.Fatal(err)
	}
	f.modify(t, func(c *ldap.Conn) error {
		for i := 10; i < 20; i++ {
			m := ldap.NewModifyRequest(slapdtest.GroupDN(suffix, i%2), nil)
			m.Delete("member", []string{slapdtest.PeopleDN(suffix, i)})
			if err := c.Modify(m); err != nil {
				return err
			}
			if err := c.Del(ldap.NewDelRequest(slapdtest.PeopleDN(suffix, i), nil)); err != nil {
				return err
			}
		}
		return nil
	})
	p, err := f.runner.Sync(t.Context(), f.tenant, "corp", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.Outcome != OutcomeGuarded || p.Guard == "" || p.Counts.Disabled != 0 || !strings.Contains(p.Advice, "--allow-shrink") {
		t.Fatalf("pass after half the users went = %+v; want guarded, nothing disabled", p)
	}
	p, err = f.runner.Sync(t.Context(), f.tenant, "corp", true, true)
	if err != nil || p.Outcome != OutcomeSuccess || p.Counts.Disabled != 10 {
		t.Fatalf("pass with allow-shrink = %+v, %v; want the 10 users disabled", p, err)
	}
}

// TestDelete: a source that owns objects is deleted only with release,
// which leaves its objects as ordinary ones.
func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t)
	if _, err := f.runner.Sync(t.Context(), f.tenant, "corp", true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.runner.Delete(t.Context(), f.tenant, "corp", false); !errors.Is(err, ErrOwnsObjects) {
		t.Fatalf("delete without release: %v; want ErrOwnsObjects", err)
	}
	res, err := f.runner.Delete(t.Context(), f.tenant, "corp", true)
	if err != nil || res.ReleasedUsers != 20 || res.ReleasedGroups != 2 {
		t.Fatalf("delete with release = %+v, %v; want 20 users and 2 groups released", res, err)
	}
	for name, u := range f.users(t) {
		if _, ok := u.Doc["externalId"]; ok {
			t.Errorf("%s still has its externalId after release", name)
		}
	}
	if _, err := f.runner.Get(t.Context(), f.tenant, "corp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("source after delete: %v; want ErrNotFound", err)
	}
}

// TestBusy: a source whose lease another process holds runs no pass here.
func TestBusy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src := f.create(t)
	if _, held, err := f.st.ClaimSource(t.Context(), src.ID, "other", time.Hour); err != nil || !held {
		t.Fatal(held, err)
	}
	if _, err := f.runner.Sync(t.Context(), f.tenant, "corp", false, false); !errors.Is(err, ErrBusy) {
		t.Errorf("sync while another holds the lease: %v; want ErrBusy", err)
	}
}

// TestFence: a pass stops writing a fifth of the lease's ttl before the
// lease would end by its own clock, and a renewal moves that on.
func TestFence(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock()
	f := &fence{now: c.Now}
	ttl := 100 * time.Second
	f.set(store.SourceLease{Owner: "r", Generation: 3}, c.Now(), ttl)
	c.Advance(79 * time.Second)
	if err := f.check(t.Context()); err != nil {
		t.Fatalf("check within the lease: %v", err)
	}
	c.Advance(time.Second)
	if err := f.check(t.Context()); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("check at 80%% of the ttl: %v; want ErrLeaseLost", err)
	}
	f.set(store.SourceLease{Owner: "r", Generation: 3}, c.Now(), ttl)
	if err := f.check(t.Context()); err != nil {
		t.Fatalf("check after a renewal: %v", err)
	}
}

// TestDisabledNotScheduled: a source that is off runs no scheduled pass,
// and sync still runs one.
func TestDisabledNotScheduled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.create(t)
	off := false
	if _, err := f.runner.Update(t.Context(), f.tenant, "corp", UpdateInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	f.runner.RunDue(t.Context())
	f.runner.Wait()
	if st := f.status(t); st.Last != nil || st.State != "off" {
		t.Fatalf("status of a source that is off after RunDue: %+v", st)
	}
	if p, err := f.runner.Sync(t.Context(), f.tenant, "corp", false, false); err != nil || p.Outcome != OutcomeSuccess {
		t.Fatalf("sync of a source that is off = %+v, %v", p, err)
	}
}

// TestEgress: a runner whose egress policy does not allow loopback reaches
// neither the LDAP server on loopback nor its local socket, and says what
// to allow.
func TestEgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	strict, err := egress.Parse("")
	if err != nil {
		t.Fatal(err)
	}
	f.runner.opts.Dial = strict.DialContext
	for _, url := range []string{f.url, f.ldap.URL()} {
		name := "tcp"
		if strings.HasPrefix(url, "ldapi") {
			name = "socket"
		}
		if _, err := f.runner.Create(t.Context(), f.tenant, CreateInput{Name: name, BindPassword: f.ldap.RootPassword(),
			Config: Config{URL: url, BindDN: f.ldap.RootDN(), BaseDN: suffix}}); err != nil {
			t.Fatal(err)
		}
		p, err := f.runner.Sync(t.Context(), f.tenant, name, true, false)
		if err != nil || p.Outcome != OutcomeFailed || p.Counts.Created != 0 {
			t.Fatalf("sync of %s past the egress policy = %+v, %v; want a failed pass", url, p, err)
		}
		if name == "tcp" && !strings.Contains(p.Advice, "--egress-allow") {
			t.Errorf("advice %q; want it to name --egress-allow", p.Advice)
		}
	}
	if n := len(f.users(t)); n != 0 {
		t.Errorf("%d users arrived past the egress policy", n)
	}
}
