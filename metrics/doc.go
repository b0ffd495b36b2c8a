// Package metrics owns the Prometheus series of the auth backend and the listener that
// serves them. It is wired by cmd: nothing here knows the router, the providers or
// the catalog; cmd hands it route templates (gin's FullPath), configured provider ids
// and fixed outcome names, so every label value comes from a bounded set (no user
// names, no raw paths, no provider id taken from a URL).
//
// Hot paths stay cheap: label children are resolved once (per provider and endpoint
// at start-up, per route, method and status on first use) and kept, so recording a
// request costs a map read under a read lock and a few atomic adds, and no
// allocation. Without authbackend.metrics.listen nothing here is built at all.
package metrics
