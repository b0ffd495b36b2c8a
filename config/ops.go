package config

import (
	"net"
	"strconv"
	"time"
)

// Shutdown defaults: no delay (a process nobody load-balances exits as soon as its
// requests are done), and a grace period that fits inside Kubernetes' default 30 s
// terminationGracePeriodSeconds with the delay the Helm chart sets.
const (
	DefaultShutdownGracePeriod = 20 * time.Second
	MaxShutdownDuration        = 10 * time.Minute
)

// Backstage's auditor severities and the log levels they map to by default
// (backend.auditor.severityLogLevelMappings).
var (
	AuditSeverities           = []string{"low", "medium", "high", "critical"}
	defaultAuditSeverityLevel = map[string]string{"low": "debug", "medium": "info", "high": "info", "critical": "info"}
	auditLogLevels            = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}
)

// OpsConfig holds this server's operational keys under `authbackend` and Backstage's
// `backend.auditor`.
type OpsConfig struct {
	// MetricsListen is `authbackend.metrics.listen` ("host:port"); "" means no metrics
	// listener at all.
	MetricsListen string
	// ShutdownDelay is `authbackend.shutdown.delay`: after SIGTERM, how long readiness
	// answers 503 while requests are still served, so a load balancer that polls
	// readiness stops sending before the listener closes.
	ShutdownDelay time.Duration
	// ShutdownGracePeriod is `authbackend.shutdown.gracePeriod`: how long in-flight
	// requests may take to finish after SIGTERM (and the delay) before the process
	// closes their connections and exits.
	ShutdownGracePeriod time.Duration
	// AuditLevels maps each auditor severity (low, medium, high, critical) to a log level
	// (debug, info, warn, error): backend.auditor.severityLogLevelMappings, Backstage's
	// defaults filled in.
	AuditLevels map[string]string
}

func readOps(c *Config, root *Reader) OpsConfig {
	own := root.Sub("authbackend")
	o := OpsConfig{ShutdownGracePeriod: DefaultShutdownGracePeriod}
	m := own.Sub("metrics")
	if s := m.String("listen"); s != "" {
		host, port, err := net.SplitHostPort(s)
		pn, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || pn < 0 || pn > 65535:
			m.Problemf("listen", "must be <host>:<port>, e.g. 0.0.0.0:9464, got %q", s)
		case pn != 0 && pn == c.Backend.Listen.Port && sameListenHost(host, c.Backend.Listen.Host):
			// The metrics must never be reachable through the public listener's address.
			m.Problemf("listen", "must not be the public listener's address (backend.listen %s:%d): metrics are served on a separate listener",
				c.Backend.Listen.Host, c.Backend.Listen.Port)
		default:
			o.MetricsListen = s
		}
	}
	sd := own.Sub("shutdown")
	if d, ok := sd.Duration("delay"); ok {
		o.ShutdownDelay = clampShutdown(sd, "delay", d)
	}
	if d, ok := sd.Duration("gracePeriod"); ok {
		o.ShutdownGracePeriod = clampShutdown(sd, "gracePeriod", d)
	}
	o.AuditLevels = make(map[string]string, len(AuditSeverities))
	maps := root.Sub("backend").Sub("auditor").Sub("severityLogLevelMappings")
	for _, sev := range AuditSeverities {
		o.AuditLevels[sev] = defaultAuditSeverityLevel[sev]
		if v := maps.String(sev); v != "" {
			if !auditLogLevels[v] {
				maps.Problemf(sev, "was given an invalid value: '%s'. Expected one of the following valid values: 'debug, info, warn, error'.", v)
				continue
			}
			o.AuditLevels[sev] = v
		}
	}
	return o
}

func clampShutdown(r *Reader, key string, d time.Duration) time.Duration {
	if d < 0 || d > MaxShutdownDuration {
		r.Problemf(key, "must be between 0s and %s, got %s", MaxShutdownDuration, d)
		return 0
	}
	return d
}

// sameListenHost reports whether two listen hosts may be the same address: equal, or
// either one all interfaces.
func sameListenHost(a, b string) bool {
	all := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" || h == "[::]" }
	return a == b || all(a) || all(b)
}
