// Package resolvers turns a verified sign-in into a Backstage identity: Backstage's
// built-in sign-in resolvers by name (emailMatchingUserEntityProfileEmail,
// emailLocalPartMatchingUserEntityName, emailMatchingUserEntityAnnotation), tried in
// order with NotFound chaining, and the catalogs they search: the local catalog
// (catalog.locations files) and the remote Backstage catalog REST API. It never signs
// tokens; authbackend hands the Identity to the token issuer.
package resolvers
