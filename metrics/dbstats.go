package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// dbStatsCollector is collectors.NewDBStatsCollector for a stats function (the
// database package keeps its *sql.DB to itself).
type dbStatsCollector struct {
	name  string
	stats func() sql.DBStats
	descs dbDescs
}

type dbDescs struct {
	maxOpen, open, inUse, idle, waitCount, waitDuration, maxIdleClosed, maxIdleTimeClosed, maxLifetimeClosed *prometheus.Desc
}

func newDBDescs(name string) dbDescs {
	d := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("go", "sql", n), help, nil, prometheus.Labels{"db_name": name})
	}
	return dbDescs{
		maxOpen:           d("max_open_connections", "Maximum number of open connections to the database."),
		open:              d("open_connections", "The number of established connections both in use and idle."),
		inUse:             d("in_use_connections", "The number of connections currently in use."),
		idle:              d("idle_connections", "The number of idle connections."),
		waitCount:         d("wait_count_total", "The total number of connections waited for."),
		waitDuration:      d("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		maxIdleClosed:     d("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		maxIdleTimeClosed: d("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		maxLifetimeClosed: d("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}
}

func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, x := range []*prometheus.Desc{d.maxOpen, d.open, d.inUse, d.idle, d.waitCount, d.waitDuration, d.maxIdleClosed, d.maxIdleTimeClosed, d.maxLifetimeClosed} {
		ch <- x
	}
}

func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	d := c.descs
	g := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	k := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v)
	}
	g(d.maxOpen, float64(s.MaxOpenConnections))
	g(d.open, float64(s.OpenConnections))
	g(d.inUse, float64(s.InUse))
	g(d.idle, float64(s.Idle))
	k(d.waitCount, float64(s.WaitCount))
	k(d.waitDuration, s.WaitDuration.Seconds())
	k(d.maxIdleClosed, float64(s.MaxIdleClosed))
	k(d.maxIdleTimeClosed, float64(s.MaxIdleTimeClosed))
	k(d.maxLifetimeClosed, float64(s.MaxLifetimeClosed))
}
