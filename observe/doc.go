// Package observe wires metrics, tracing and the audit log around the components cmd
// builds, without those components knowing: it wraps the catalog (lookup metrics and
// spans), the IdP HTTP clients (per-provider metrics, client spans with W3C trace
// context), the user_info store and the key stores (database spans; key creations
// counted and audited as key-rotation events), the token issuer (tokens issued), and
// hands the router its middleware (request metrics, server spans), its Metrics and its
// Auditor. With metrics and tracing both off every Wrap* returns its argument, so the
// request paths are exactly those of an uninstrumented build.
package observe
