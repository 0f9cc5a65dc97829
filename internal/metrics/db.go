package metrics

import (
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolStats is a database connection pool's state, whichever driver.
type poolStats struct {
	pool                   string
	open, inUse, idle, max int
	waits                  int64
	waited                 time.Duration
}

// sqlStats is what a database/sql store reports by pool name (the SQLite
// store's *sqlite.Store).
type sqlStats interface {
	DBStats() map[string]sql.DBStats
}

// pgxStats is what a pgxpool store reports (the PostgreSQL store's
// *postgres.Store).
type pgxStats interface {
	PoolStat() *pgxpool.Stat
}

// WatchStore registers a collector of st's connection pools, read at each
// scrape: database/sql's DBStats for SQLite, pgxpool's Stat for
// PostgreSQL. It reports false when st tells neither.
func (m *Metrics) WatchStore(reg prometheus.Registerer, st any) bool {
	var read func() []poolStats
	switch s := st.(type) {
	case sqlStats:
		read = func() []poolStats {
			var out []poolStats
			for name, d := range s.DBStats() {
				out = append(out, poolStats{pool: name, open: d.OpenConnections, inUse: d.InUse, idle: d.Idle,
					max: d.MaxOpenConnections, waits: d.WaitCount, waited: d.WaitDuration})
			}
			return out
		}
	case pgxStats:
		read = func() []poolStats {
			p := s.PoolStat()
			return []poolStats{{pool: "postgres", open: int(p.TotalConns()), inUse: int(p.AcquiredConns()), idle: int(p.IdleConns()),
				max: int(p.MaxConns()), waits: p.EmptyAcquireCount(), waited: p.EmptyAcquireWaitTime()}}
		}
	default:
		return false
	}
	reg.MustRegister(newDBCollector(read))
	return true
}

// dbCollector turns pool stats into metrics at scrape time.
type dbCollector struct {
	read                         func() []poolStats
	open, inUse, idle, max, wait *prometheus.Desc
	waited                       *prometheus.Desc
}

func newDBCollector(read func() []poolStats) *dbCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"pool"}, nil)
	}
	return &dbCollector{read: read,
		open:   desc("ferry_db_connections_open", "Connections open in the database pool."),
		inUse:  desc("ferry_db_connections_in_use", "Connections of the database pool in use."),
		idle:   desc("ferry_db_connections_idle", "Idle connections of the database pool."),
		max:    desc("ferry_db_connections_max", "The most connections the database pool opens."),
		wait:   desc("ferry_db_waits_total", "Connection acquires that waited for a free connection."),
		waited: desc("ferry_db_wait_seconds_total", "Time spent waiting for a free connection."),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.max, c.wait, c.waited} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.read() {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.open), s.pool)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.inUse), s.pool)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.idle), s.pool)
		ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.max), s.pool)
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, float64(s.waits), s.pool)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.waited.Seconds(), s.pool)
	}
}
