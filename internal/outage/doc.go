// Package outage logs an upstream's outages once each: the first failure after a
// success at Warn, the failures after it at Debug, the first success after them at Info
// with how long the outage lasted. A failing IdP answers every request the same way;
// one record per outage says so without flooding the log.
package outage
