package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/console"
	"github.com/ferryid/ferry/internal/egress"
	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/logwriter"
	"github.com/ferryid/ferry/internal/metrics"
	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/server"
	"github.com/ferryid/ferry/internal/sourcesync"
	"github.com/ferryid/ferry/internal/storeopen"
	"github.com/ferryid/ferry/internal/webhooks"
)

func newServeCommand() *cobra.Command {
	var (
		listen, database, synchronous, logFormat string
		shutdownTimeout                          time.Duration
		cfg                                      = server.DefaultConfig()
		eng                                      engineFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the SCIM 2.0 API (/scim/v2) and health endpoints",
		Long: `Serve starts Ferry's SCIM 2.0 service provider. With no flags it listens on
127.0.0.1:8080 and keeps its directory in ./ferry.db (SQLite), creating and
migrating it as needed, with a tenant named "default". Create a bearer token
with "ferry tokens create" to call it.

With --database postgres://..., the directory is in PostgreSQL, and any
number of ferry serve replicas can share it behind a load balancer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, lines, err := newLogger(logFormat)
			if err != nil {
				return err
			}
			defer lines.Close()
			return serve(cmd.Context(), log, listen, database, synchronous, shutdownTimeout, cfg, eng)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", envOr("FERRY_LISTEN", "127.0.0.1:8080"), "address to listen on (env FERRY_LISTEN)")
	f.StringVar(&database, "database", envOr("FERRY_DATABASE", defaultDatabase), databaseFlagHelp)
	f.StringVar(&synchronous, "sqlite-synchronous", envOr("FERRY_SQLITE_SYNCHRONOUS", "NORMAL"),
		"SQLite durability: NORMAL survives a crash of Ferry; FULL also survives power loss, with slower writes (env FERRY_SQLITE_SYNCHRONOUS)")
	f.StringVar(&logFormat, "log-format", envOr("FERRY_LOG_FORMAT", "text"), "log format: text or json (env FERRY_LOG_FORMAT)")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest request body outside Bulk")
	f.Int64Var(&cfg.MaxBulkBytes, "max-bulk-bytes", cfg.MaxBulkBytes, "largest Bulk request body")
	f.IntVar(&cfg.MaxBulkOperations, "max-bulk-operations", cfg.MaxBulkOperations, "most operations in one Bulk request")
	f.IntVar(&cfg.MaxResults, "max-results", cfg.MaxResults, "most resources one list or search returns")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "longest time one request may run")
	f.DurationVar(&cfg.CursorTimeout, "cursor-timeout", cfg.CursorTimeout,
		"how long a SCIM list's cursor (RFC 9865) stays good after the page that issued it; a client that waits longer starts its walk over")
	f.IntVar(&cfg.ReadCacheBytes, "read-cache-bytes", cfg.ReadCacheBytes,
		"memory for rendered resources kept for reads (on PostgreSQL each is checked against the database row on every read; on SQLite ferry serve is told of every write); 0 keeps none")
	f.BoolVar(&cfg.LogRequests, "log-requests", envOr("FERRY_LOG_REQUESTS", "true") != "false",
		"log every request; false logs only those answered with an error status (4xx, 5xx), for high request rates, where the HTTP metrics count the rest (env FERRY_LOG_REQUESTS)")
	f.StringVar(&eng.keyFile, "secret-key-file", envOr("FERRY_SECRET_KEY_FILE", "ferry.key"),
		"file holding the key that encrypts applications' secret tokens, created when missing; FERRY_SECRET_KEY (base64) takes precedence (env FERRY_SECRET_KEY_FILE)")
	f.BoolVar(&eng.disabled, "no-engine", false, "serve the APIs without running provisioning jobs, delivering webhooks or pruning events in this process")
	f.StringVar(&eng.eventsRetention, "events-retention", envOr("FERRY_EVENTS_RETENTION", "0"),
		"how long the directory's events (its change feed) are kept, such as 720h or 30d, at least 1h; 0 keeps them forever. "+
			"Older ones are deleted hourly, and readers behind them start again from the oldest kept (env FERRY_EVENTS_RETENTION)")
	f.DurationVar(&eng.sourcesPoll, "sources-poll-interval", 15*time.Second, "how often the directory's sources' scheduler looks for due passes")
	f.BoolVar(&eng.noSources, "no-sources", false,
		"serve the APIs without running the directory's sources' scheduled passes in this process (ferry sources sync still runs one here)")
	f.DurationVar(&eng.poll, "engine-poll-interval", 500*time.Millisecond, "how often the engine looks for directory changes and due jobs")
	f.DurationVar(&eng.leaseTTL, "engine-lease-ttl", provision.DefaultLeaseTTL,
		"how long a replica's job lease lasts unrenewed: another replica takes a dead one's jobs over after this")
	f.StringVar(&eng.instanceName, "instance-name", envOr("FERRY_INSTANCE_NAME", ""),
		"names this process in the engine's job leases; the host name and listen address when empty. Give a replica a stable name "+
			"(its pod name, say) and a restarted one resumes its jobs at once; two live processes must never share a name (env FERRY_INSTANCE_NAME)")
	f.StringVar(&eng.egressAllow, "egress-allow", envOr("FERRY_EGRESS_ALLOW", ""),
		"addresses the engine may connect to besides public ones, comma-separated: CIDRs, host names, and the words loopback and private; "+
			"loopback, private, link-local (cloud metadata), unspecified, multicast and broadcast addresses are refused otherwise (env FERRY_EGRESS_ALLOW)")
	f.StringVar(&eng.smtpURL, "smtp-url", envOr("FERRY_SMTP_URL", ""),
		"mail server for notifications, smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://; none are sent without it (env FERRY_SMTP_URL)")
	f.StringVar(&eng.smtpFrom, "smtp-from", envOr("FERRY_SMTP_FROM", ""), "the From address of notifications (env FERRY_SMTP_FROM)")
	f.StringVar(&eng.metricsListen, "metrics-listen", envOr("FERRY_METRICS_LISTEN", ""),
		"serve Prometheus metrics (/metrics) on this address instead of on --listen's, to keep them off the address clients reach (env FERRY_METRICS_LISTEN)")
	f.BoolVar(&eng.consoleSecure, "console-secure-cookies", envOr("FERRY_CONSOLE_SECURE_COOKIES", "false") == "true",
		"mark the admin console's session cookie Secure on every request, for a console reached over TLS through a proxy that terminates it (a request over TLS to ferry serve gets it anyway) (env FERRY_CONSOLE_SECURE_COOKIES)")
	f.StringVar(&eng.maxRateLimit, "max-rate-limit", envOr("FERRY_MAX_RATE_LIMIT", strconv.Itoa(provision.DefaultMaxRateLimit)),
		"the highest rateLimit an application may have, in requests a second (env FERRY_MAX_RATE_LIMIT)")
	return cmd
}

// newLogger returns the server's logger, writing to standard error
// through a batching writer (logwriter), which the caller closes.
func newLogger(format string) (*slog.Logger, *logwriter.Writer, error) {
	var lineFormat logwriter.Format
	switch format {
	case "text":
		lineFormat = logwriter.Text
	case "json":
		lineFormat = logwriter.JSON
	default:
		return nil, nil, fmt.Errorf("--log-format must be text or json, got %q", format)
	}
	lines := logwriter.New(os.Stderr, logwriter.DefaultInterval)
	return slog.New(logwriter.NewHandler(lineFormat, lines)), lines, nil
}

// leaseOwner names this process in the engine's job leases: its
// --instance-name, or else the host and the address it listens on. Only
// one live process can listen on an address, and a ferry serve restarted
// on it (after a crash, say) takes the name back, so it resumes the jobs
// it was running at once instead of waiting for its own leases to expire.
// A process listening on port 0 gets a new address each time, so only an
// instance name carries over then.
func leaseOwner(instanceName string, addr net.Addr) string {
	if instanceName != "" {
		return instanceName
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return host + " " + addr.String()
}

// engineFlags configure the provisioning engine of ferry serve.
type engineFlags struct {
	keyFile  string
	disabled bool
	// noSources turns the sources' scheduler off (--no-sources): the
	// engine pushes the directory out, the sources fill it, and a replica
	// may do either, both or neither.
	noSources   bool
	sourcesPoll time.Duration
	// instanceName names this process in job leases (leaseOwner).
	instanceName string
	poll         time.Duration
	leaseTTL     time.Duration
	// egressAllow and maxRateLimit are checked when serve starts.
	egressAllow  string
	maxRateLimit string
	// smtpURL and smtpFrom configure notification email.
	smtpURL, smtpFrom string
	// metricsListen serves /metrics on an address of its own rather than
	// on --listen's.
	metricsListen string
	// eventsRetention is how long change-feed entries are kept
	// (events.ParseRetention); checked when serve starts.
	eventsRetention string
	// consoleSecure marks the console's session cookie Secure, for a
	// console behind a proxy that terminates TLS.
	consoleSecure bool
}

// notifier returns the notifier of applications' notices, nil without
// --smtp-url. Mail goes through the egress policy like every other
// connection of the engine.
func (e engineFlags) notifier(policy *egress.Policy, log *slog.Logger) (*notify.Notifier, error) {
	if e.smtpURL == "" {
		return nil, nil
	}
	cfg, err := notify.ParseSMTPURL(e.smtpURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url (or FERRY_SMTP_URL): %w", err)
	}
	cfg.DialContext = policy.DialContext
	mailer, err := notify.NewMailer(cfg, e.smtpFrom)
	if err != nil {
		return nil, fmt.Errorf("--smtp-from (or FERRY_SMTP_FROM): %w", err)
	}
	return notify.New(notify.Options{Mailer: mailer, HTTPClient: policy.Client(), Logger: log}), nil
}

// parse checks the flags that are parsed when serve starts, so that a
// mistake stops it with a message naming the flag.
func (e engineFlags) parse() (*egress.Policy, float64, time.Duration, error) {
	policy, err := egress.Parse(e.egressAllow)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("--egress-allow (or FERRY_EGRESS_ALLOW): %w", err)
	}
	limit, err := strconv.ParseFloat(strings.TrimSpace(e.maxRateLimit), 64)
	if err != nil || limit <= 0 || math.IsInf(limit, 0) || math.IsNaN(limit) {
		return nil, 0, 0, fmt.Errorf("--max-rate-limit (or FERRY_MAX_RATE_LIMIT) %q: want a positive number of requests a second, such as %d", e.maxRateLimit, provision.DefaultMaxRateLimit)
	}
	retention, err := events.ParseRetention(e.eventsRetention)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("--events-retention (or FERRY_EVENTS_RETENTION): %w", err)
	}
	return policy, limit, retention, nil
}

func serve(ctx context.Context, log *slog.Logger, listen, database, synchronous string, shutdownTimeout time.Duration, cfg server.Config, eng engineFlags) error {
	policy, maxRate, retention, err := eng.parse()
	if err != nil {
		return err
	}
	notifier, err := eng.notifier(policy, log)
	if err != nil {
		return err
	}
	if notifier != nil {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			notifier.Close(ctx)
		}()
	}
	catalog := schema.Builtin()
	st, err := storeopen.Serve(ctx, database, synchronous, catalog)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()
	if _, err := st.EnsureTenant(ctx, cfg.DefaultTenant); err != nil {
		return fmt.Errorf("create tenant %q: %w", cfg.DefaultTenant, err)
	}
	key, created, err := seal.LoadKey(os.Getenv("FERRY_SECRET_KEY"), eng.keyFile)
	if err != nil {
		return err
	}
	if created {
		log.Warn("created a new secret key file; keep it with the database, and give every replica the same key", "file", eng.keyFile)
	}
	sealer, err := seal.New(key)
	if err != nil {
		return err
	}
	// Cursors are signed with a key derived from the secret key, which
	// every replica already shares: a cursor one issued is good on all of
	// them, and after a restart.
	if cfg.CursorKey, err = seal.DeriveKey(key, "scim cursor"); err != nil {
		return err
	}
	if cfg.CursorTimeout <= 0 {
		return fmt.Errorf("--cursor-timeout must be positive, got %s", cfg.CursorTimeout)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.WatchStore(reg, st)
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	if eng.metricsListen != "" {
		mln, err := net.Listen("tcp", eng.metricsListen)
		if err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go msrv.Serve(mln)
		defer msrv.Close()
		metricsURL = "http://" + mln.Addr().String() + "/metrics"
	}
	owner := leaseOwner(eng.instanceName, ln.Addr())
	engine := provision.NewEngine(st, catalog, sealer, log, provision.Options{PollInterval: eng.poll, LeaseTTL: eng.leaseTTL, Owner: owner,
		Egress: policy, MaxRateLimit: maxRate, Notifier: notifier, Observer: m})
	// Webhook deliveries go through the egress policy, as the engine's
	// requests do.
	hooks := webhooks.New(webhooks.Options{Store: st, Sealer: sealer, Client: policy.Client(), Owner: owner, Logger: log})
	if policy.String() != "" {
		log.Info("the engine may connect to these non-public addresses", "egress_allow", policy.String())
	}
	// The sources' connections to LDAP servers go through the egress
	// policy, as the engine's do.
	sources := sourcesync.New(st, sealer, sourcesync.Options{Owner: owner, Poll: eng.sourcesPoll,
		Dial: policy.DialContext, Log: log})
	api := server.New(cfg, st, catalog, log)
	api.SetObserver(m)
	if eng.metricsListen == "" {
		api.EnableMetrics(m.Handler())
	}
	adminService := provision.NewService(engine)
	api.EnableAdmin(adminService)
	con, err := console.New(console.Config{Store: st, Admin: adminService, Secure: eng.consoleSecure, Log: log})
	if err != nil {
		return err
	}
	api.EnableConsole(con)
	api.EnableSources(sources)
	api.EnableWebhooks(hooks)
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 10*time.Second,
		WriteTimeout:      cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("ferry serving", "addr", "http://"+ln.Addr().String(), "console", "http://"+ln.Addr().String()+"/", "scim", "http://"+ln.Addr().String()+"/scim/v2",
		"metrics", metricsURL, "database", redactURL(database))
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan struct{})
	if eng.disabled {
		close(engineDone)
	} else {
		go func() {
			defer close(engineDone)
			var wg sync.WaitGroup
			wg.Go(func() { hooks.Run(engineCtx) })
			if retention > 0 {
				// Every replica prunes: a prune is idempotent, and one
				// racing another deletes nothing twice.
				log.Info("events older than the retention are deleted hourly", "events_retention", retention)
				wg.Go(func() { events.Retainer{Store: st, Keep: retention, Log: log}.Run(engineCtx) })
			}
			engine.Run(engineCtx)
			wg.Wait()
		}()
	}
	defer func() { stopEngine(); <-engineDone }()
	sourcesDone := make(chan struct{})
	if eng.noSources {
		close(sourcesDone)
	} else {
		go func() { defer close(sourcesDone); sources.Run(engineCtx) }()
	}
	defer func() { stopEngine(); <-sourcesDone }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Cycles stop at their next object; what they did is checkpointed.
	// Passes of sources stop at their next write and record why.
	stopEngine()
	<-engineDone
	<-sourcesDone
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
