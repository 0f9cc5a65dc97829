package sourcesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/ldapsource"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/store"
)

// Errors of the runner that the admin API tells apart with errors.Is.
var (
	// ErrBusy: a pass of the source is running, here or in another
	// replica; try again when it ends.
	ErrBusy = errors.New("a pass of the source is running")
	// ErrInvalid: a configuration or a request that cannot be carried out
	// as it is; the error says what to change.
	ErrInvalid = errors.New("invalid source request")
	// ErrOwnsObjects: a source that owns objects in the directory is not
	// deleted unless they are released.
	ErrOwnsObjects = errors.New("the source owns objects in the directory")
)

// Options tune a Runner. The zero value of each field but Owner is its
// default.
type Options struct {
	// Owner names this process in the sources' leases (as the engine's
	// jobs' leases do); two live processes must not share it.
	Owner string
	// LeaseTTL is how long a lease lasts unless renewed; 2 minutes. A
	// pass renews it every third of that and stops writing a fifth of it
	// before it would end by its own clock.
	LeaseTTL time.Duration
	// Poll is how often Run looks for sources that are due; 15 seconds.
	Poll time.Duration
	// Now is the clock of schedules and of the lease's fence; time.Now
	// (monotonic) when nil.
	Now func() time.Time
	// Dial opens the TCP connections to LDAP servers: the egress policy's
	// DialContext, so that a source reaches only where the operator
	// allows. net.Dialer's when nil.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Log receives one line per pass; slog.Default() when nil.
	Log *slog.Logger
}

// Runner runs the sources' passes: on demand (Sync) and on their schedule
// (Run). It never runs two passes of a source at once: within the process
// by its own bookkeeping, across processes by the source's lease.
type Runner struct {
	st     store.Store
	sealer *seal.Sealer
	opts   Options

	mu       sync.Mutex
	inflight map[string]bool // source ids with a pass running here
	wg       sync.WaitGroup
}

// New returns a Runner of the sources in st, whose bind passwords sealer
// seals.
func New(st store.Store, sealer *seal.Sealer, opts Options) *Runner {
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Runner{st: st, sealer: sealer, opts: opts, inflight: map[string]bool{}}
}

// Run runs the passes that are due, every Poll, until ctx ends; then it
// waits for the passes it started, which stop at their next write.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	for {
		r.RunDue(ctx)
		select {
		case <-ctx.Done():
			r.Wait()
			return
		case <-t.C:
		}
	}
}

// RunDue starts, each in its own goroutine, a pass of every enabled source
// that is due and not running here: a full pass when it has no mark or its
// full pass is due, an incremental one otherwise. Wait waits for them.
func (r *Runner) RunDue(ctx context.Context) {
	srcs, err := r.st.Sources(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Error("sources: list the sources", "err", err)
		}
		return
	}
	now := r.opts.Now()
	for _, src := range srcs {
		if !src.Enabled || src.Lease.Held(now) {
			continue
		}
		st, err := decodeState(src.State)
		if err != nil {
			r.opts.Log.Error("sources: read the state", "source", src.Name, "err", err)
			continue
		}
		if now.Before(st.NextPass) || !r.begin(src.ID) {
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.end(src.ID)
			if _, err := r.pass(ctx, src, false, false, "schedule"); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				r.opts.Log.Error("sources: pass", "source", src.Name, "err", err)
			}
		}()
	}
}

// Wait waits for the passes RunDue started.
func (r *Runner) Wait() { r.wg.Wait() }

// begin marks a pass of the source as running here, unless one is.
func (r *Runner) begin(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight[id] {
		return false
	}
	r.inflight[id] = true
	return true
}

func (r *Runner) end(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inflight, id)
}

// fence is the lease a pass holds, and until when, by the runner's own
// clock, it may still act on it.
type fence struct {
	mu    sync.Mutex
	lease store.SourceLease
	until time.Time
	now   func() time.Time
}

func (f *fence) set(l store.SourceLease, claimed time.Time, ttl time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lease, f.until = l, claimed.Add(ttl-ttl/5)
}

func (f *fence) get() store.SourceLease {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lease
}

// check is ldapsource.Target.Check: no write once the lease may be gone.
func (f *fence) check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.now().Before(f.until) {
		return fmt.Errorf("%w: the lease of generation %d was not renewed in time", store.ErrLeaseLost, f.lease.Generation)
	}
	return nil
}

// withLease runs fn while this process holds the source's lease, renewing
// it, and releases it after. Another holder is ErrBusy.
func (r *Runner) withLease(ctx context.Context, src *store.Source, fn func(ctx context.Context, f *fence) error) error {
	ttl := r.opts.LeaseTTL
	claimed := r.opts.Now()
	lease, held, err := r.st.ClaimSource(ctx, src.ID, r.opts.Owner, ttl)
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("%w: %s runs a pass of source %s; try again when it ends", ErrBusy, lease.Owner, src.Name)
	}
	f := &fence{now: r.opts.Now}
	f.set(lease, claimed, ttl)
	ctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			at := r.opts.Now()
			l, held, err := r.st.ClaimSource(ctx, src.ID, r.opts.Owner, ttl)
			if err != nil || !held || l.Generation != f.get().Generation {
				if ctx.Err() == nil {
					r.opts.Log.Warn("sources: lost the lease; the pass stops", "source", src.Name, "err", err)
				}
				cancel()
				return
			}
			f.set(l, at, ttl)
		}
	}()
	defer func() {
		cancel()
		<-renewed
		if err := r.st.ReleaseSource(context.WithoutCancel(ctx), src.ID, r.opts.Owner); err != nil {
			r.opts.Log.Warn("sources: release the lease", "source", src.Name, "err", err)
		}
	}()
	return fn(ctx, f)
}

// pass runs one pass of src under its lease and saves its record.
func (r *Runner) pass(ctx context.Context, src *store.Source, full, allowShrink bool, trigger string) (*Pass, error) {
	var p *Pass
	err := r.withLease(ctx, src, func(ctx context.Context, f *fence) error {
		// The source as the lease found it: the state is the last pass's.
		cur, err := r.st.Source(ctx, src.TenantID, src.ID)
		if err != nil {
			return err
		}
		st, err := decodeState(cur.State)
		if err != nil {
			return err
		}
		cfg, err := decodeConfig(cur.Config)
		if err != nil {
			return err
		}
		var mark *Mark
		p, mark = r.run(ctx, cur, cfg, st, full, allowShrink, f)
		p.Trigger = trigger
		st.Last = p
		switch p.Outcome {
		case OutcomeSuccess, OutcomePartial:
			st.Mark, st.LastSuccess = mark, p.Ended
			if p.Kind == KindFull {
				st.NextFull = p.Ended.Add(cfg.fullInterval())
			}
		}
		st.NextPass = p.Ended.Add(cfg.interval())
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := r.st.PutSourceState(context.WithoutCancel(ctx), cur.ID, f.get(), b); err != nil {
			return fmt.Errorf("save the state of source %s: %w", cur.Name, err)
		}
		r.logPass(cur, p)
		return nil
	})
	return p, err
}

func (r *Runner) logPass(src *store.Source, p *Pass) {
	args := []any{"source", src.Name, "tenant", src.TenantID, "kind", p.Kind, "trigger", p.Trigger, "outcome", p.Outcome,
		"duration", p.Ended.Sub(p.Started).Round(time.Millisecond), "read_users", p.Counts.ReadUsers, "read_groups", p.Counts.ReadGroups,
		"created", p.Counts.Created, "updated", p.Counts.Updated, "disabled", p.Counts.Disabled, "deleted", p.Counts.Deleted,
		"failed", p.Counts.Failed}
	switch p.Outcome {
	case OutcomeFailed:
		r.opts.Log.Warn("sources: pass failed; nothing was changed", append(args, "err", p.Error)...)
	case OutcomeGuarded:
		r.opts.Log.Warn("sources: the read guard held changes back", append(args, "guard", p.Guard)...)
	default:
		r.opts.Log.Info("sources: pass", args...)
	}
}

// run reads, plans and applies one pass; it returns its record and, when it
// finished, the mark the next incremental pass starts from.
func (r *Runner) run(ctx context.Context, src *store.Source, cfg Config, st State, full, allowShrink bool, f *fence) (*Pass, *Mark) {
	now := r.opts.Now()
	p := &Pass{Kind: KindIncremental, Started: now, ConfigVersion: src.Version}
	if full || st.Mark == nil || !now.Before(st.NextFull) {
		p.Kind = KindFull
	}
	fail := func(err error) (*Pass, *Mark) {
		p.Outcome, p.Error, p.Advice, p.Ended = OutcomeFailed, err.Error(), advice(err, cfg), r.opts.Now()
		return p, nil
	}
	password, err := r.password(src)
	if err != nil {
		return fail(err)
	}
	// The reader times its passes on the real clock: its modifyTimestamp
	// mark is compared with the LDAP server's.
	reader, err := ldapsource.NewReader(cfg.LDAP(src.Name, password), nil)
	if err != nil {
		return fail(err)
	}
	if r.opts.Dial != nil {
		reader.SetDial(r.opts.Dial)
	}
	var snap *ldapsource.Snapshot
	if p.Kind == KindIncremental {
		snap, err = reader.ReadChanges(ctx, ldapsource.Mark(*st.Mark))
		if errors.Is(err, ldapsource.ErrMark) {
			p.Kind = KindFull
		}
	}
	if p.Kind == KindFull {
		snap, err = reader.Read(ctx)
	}
	p.Counts.ReadUsers, p.Counts.ReadGroups = len(snap.Users), len(snap.Groups)
	if err != nil {
		return fail(err)
	}
	owned, err := ldapsource.LoadOwned(ctx, r.st, src.TenantID, src.Name)
	if err != nil {
		return fail(err)
	}
	plan := ldapsource.NewPlan(owned, snap, ldapsource.PlanOptions{MaxShrinkPercent: cfg.MaxShrinkPercent, AllowShrink: allowShrink})
	res, err := ldapsource.Apply(ctx, ldapsource.Target{Store: r.st, TenantID: src.TenantID, Source: src.Name, Check: f.check}, plan)
	p.Counts.Created, p.Counts.Updated, p.Counts.Disabled, p.Counts.Deleted = res.Created, res.Updated, res.Disabled, res.Deleted
	p.Counts.MembersAdded, p.Counts.MembersRemoved, p.Counts.Failed = res.MembersAdded, res.MembersRemoved, len(res.Failures)
	for i, fl := range res.Failures {
		if i == maxFailures {
			p.Failures = append(p.Failures, fmt.Sprintf("... and %d more", len(res.Failures)-maxFailures))
			break
		}
		p.Failures = append(p.Failures, fl.Error())
	}
	p.Notes = plan.Notes
	if err != nil {
		return fail(fmt.Errorf("the pass stopped after some writes: %w", err))
	}
	p.Ended = r.opts.Now()
	switch {
	case plan.Guard != "":
		p.Outcome, p.Guard, p.Withheld = OutcomeGuarded, plan.Guard, plan.Withheld
		p.Advice = fmt.Sprintf("if the directory really lost them, let one pass through: ferry sources sync %s --full --allow-shrink", src.Name)
	case len(res.Failures) > 0:
		p.Outcome = OutcomePartial
		p.Advice = "the other changes went ahead; fix the objects listed (a userName another user has, a value the schema refuses) and the next full pass tries them again"
	default:
		p.Outcome = OutcomeSuccess
	}
	mark := Mark(snap.Mark)
	return p, &mark
}

// advice says what to do about a pass that ended in err.
func advice(err error, cfg Config) string {
	switch {
	case egress.IsRefused(err):
		return "the LDAP server's address is not one Ferry may connect to: allow it with ferry serve --egress-allow (or FERRY_EGRESS_ALLOW)"
	case errors.Is(err, ldapsource.ErrSizeLimit):
		return fmt.Sprintf("nothing was changed. Let the bind DN read the whole directory: for OpenLDAP, add to the database's configuration "+
			"limits dn.exact=%q size.prtotal=unlimited; or raise the source's sizeLimit", cfg.BindDN)
	case errors.Is(err, ldapsource.ErrConnection):
		return "nothing was changed. Check that the LDAP server is up and reachable from Ferry; the next pass tries again"
	case errors.Is(err, ldapsource.ErrServer):
		return "nothing was changed. Check the bind DN and password (ferry sources update NAME --bind-password-file FILE), the base DN and the filters"
	case errors.Is(err, store.ErrLeaseLost), errors.Is(err, context.Canceled):
		return "the pass was stopped; the next one carries on"
	}
	return "nothing was changed; the next pass tries again"
}

func decodeState(b []byte) (State, error) {
	var st State
	if len(b) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("the source's state does not decode: %w", err)
	}
	return st, nil
}

func decodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("the source's configuration does not decode: %w", err)
	}
	return c, nil
}

// sealContext binds a sealed password to its source: copied to another
// source, it does not open.
func sealContext(id string) []byte { return []byte("source:" + id) }

func (r *Runner) password(src *store.Source) (string, error) {
	if len(src.Secret) == 0 {
		return "", nil
	}
	b, err := r.sealer.Open(src.Secret, sealContext(src.ID))
	if err != nil {
		return "", fmt.Errorf("open the bind password of source %s (is this the key it was sealed with?): %w", src.Name, err)
	}
	return string(b), nil
}
