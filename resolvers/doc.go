// Package resolvers turns a verified sign-in into a Backstage identity. It owns:
//
//   - entity refs: ParseEntityRef / EntityRef.String (Backstage's parseEntityRef and
//     stringifyEntityRef: canonical lower-case kind:namespace/name);
//   - the catalog lookups of Backstage's resolver context: FindCatalogUser,
//     SignInWithCatalogUser (with dangerousEntityRefFallback) and the default
//     ownership resolution OwnershipEntityRefs (the user plus direct memberOf groups);
//   - the built-in resolvers, by Backstage's names and options:
//     emailMatchingUserEntityProfileEmail, emailLocalPartMatchingUserEntityName and
//     emailMatchingUserEntityAnnotation, and FromConfig, which builds the ordered chain
//     from `signIn.resolvers` (NotFound moves on to the next resolver).
//
// Differences from Backstage, on purpose:
//
//   - allowedDomains is enforced by every email resolver (Backstage ignores it in
//     emailMatchingUserEntityProfileEmail, so alice@evil.test could match a catalog
//     email); domains compare case-insensitively;
//   - emailMatchingUserEntityAnnotation reads a configurable `annotation` option
//     (default spectrocloud.com/email) instead of a provider-specific constant;
//   - when every resolver answers NotFound, the error keeps Backstage's exact sentence
//     and appends " Tried: <resolver> with <lookup>; ..." so the user and the operator
//     can see which values were searched for;
//   - an empty allowedDomains list is a config problem rather than a silent lock-out.
//
// The catalogs live in subpackages: localcatalog (catalog.locations files) and
// remotecatalog (a running Backstage catalog's REST API). This package never signs
// tokens; authbackend hands the Identity to the token issuer.
package resolvers
