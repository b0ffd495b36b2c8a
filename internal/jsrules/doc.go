// Package jsrules holds the one implementation of each JavaScript rule whose exact
// output a Backstage client or verifier depends on: JSON.stringify (byte-exact, for
// token payloads, the uip proof, error JSON and the frame page), entity-ref parsing and
// canonicalisation (catalog-model's parseEntityRef/stringifyEntityRef with JavaScript's
// lower-casing), and minimatch glob matching (origins and catalog rules). Tests compare
// every rule with vectors produced by Node itself (testdata/).
package jsrules
