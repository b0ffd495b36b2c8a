// Package resolvers turns a verified sign-in into a Backstage identity. It owns:
//
//   - entity refs (ParseEntityRef, EntityRef; implemented once in internal/jsrules);
//   - the catalog lookups of Backstage's resolver context: FindCatalogUser,
//     SignInWithCatalogUser (with dangerousEntityRefFallback) and the default
//     ownership resolution OwnershipEntityRefs (the user plus direct memberOf groups);
//   - resolver factories (Factory: a name and typed options, decoded from config with
//     unknown keys as errors): the common ones every provider offers
//     (emailMatchingUserEntityProfileEmail, emailLocalPartMatchingUserEntityName), our
//     configurable emailMatchingUserEntityAnnotation, and the Set a provider module
//     extends with its own; DecodeSignIn reads `signIn.resolvers` into the ordered
//     chain (NotFound moves on to the next resolver), bound to a catalog by Build;
//   - the expression resolver (ours, in every provider's set): deny, filter or
//     entityRef, dangerousEntityRefFallback and ownership as CEL expressions over the
//     sign-in (sandbox and input in subpackage celexpr), compiled when the config is
//     validated; the refs they produce are parsed and canonicalised like any other;
//   - the sign-in policy (`signIn.policy`: deny and allow rules on IdP groups, catalog
//     groups, users, email domains or an expression) applied after the chain, with
//     every decision, and every deny-expression refusal, written as an audit record
//     (AuditMessage) to the logger Build is given.
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
//   - an empty allowedDomains list is a config problem rather than a silent lock-out;
//   - emailMatchingUserEntityProfileEmail matches the email exactly; Backstage's retry
//     without plus-addressing (alice+x@ -> alice@), which merges different accounts,
//     happens only with our option matchEmailWithoutPlusTag: true;
//   - unknown option keys are errors (zod strips them): a misspelled allowedDomain
//     must not switch the domain check off; so are unknown keys under signIn (a
//     misspelled policy).
//
// The catalogs live in subpackages: localcatalog (catalog.locations files) and
// remotecatalog (a running Backstage catalog's REST API). This package never signs
// tokens; authbackend hands the Identity to the token issuer.
package resolvers
