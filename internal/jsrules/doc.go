// Package jsrules holds the one implementation of each JavaScript rule whose exact
// output a Backstage client or verifier depends on:
//
//   - JSON.stringify (Stringify, AppendString, AppendValue, AppendJSON, Marshal): token
//     payloads, the uip proof, error and response JSON and the popup frame page;
//   - entity-ref parsing and canonicalisation (ParseEntityRef, EntityRef.String,
//     ToLower): catalog-model's parseEntityRef/stringifyEntityRef with JavaScript's
//     lower-casing;
//   - minimatch 11 (CompileMinimatch): auth.experimentalExtraAllowedOrigins and
//     backend.cors.origin (authbackend/origins), catalog rules and file targets
//     (resolvers/localcatalog). It used to be two different glob matchers there.
//
// Tests compare every rule with vectors Node itself produced from the npm packages
// Backstage uses (testdata/gen-vectors.js writes testdata/*.json; the tests need no
// Node, and TestVectorsRegenerate re-runs the generator when Node is installed).
// Patterns minimatch accepts but this port cannot match exactly are refused when they
// are compiled (*MinimatchError with Unsupported set), never matched differently.
package jsrules
