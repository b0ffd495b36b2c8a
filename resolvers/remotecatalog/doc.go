// Package remotecatalog is a resolvers.Catalog backed by a running Backstage catalog's
// REST API: GET {base}/entities?filter=... and GET {base}/entities/by-name/{kind}/{ns}/{name},
// encoded as @backstage/catalog-client does, authorised with a plugin token for
// "catalog" (or a static external-access token). Lookups are cached briefly (bounded
// LRU with TTL, answers and "not found" only) and concurrent identical lookups share
// one request. A catalog that is down, slow, rejects our credentials or answers
// garbage yields a ServiceUnavailableError naming the catalog URL and the reason
// (upstream bodies only as a short sanitized snippet), always within Timeout.
package remotecatalog
