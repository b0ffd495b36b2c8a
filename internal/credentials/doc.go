// Package credentials parses the request credentials several routes look at the same
// way Backstage's httpAuth does: the Bearer token of an Authorization header, the
// (unverified) typ of a JWT's header, and backend.auth.externalAccess static tokens,
// recognised in constant time. It verifies no signature: callers hand user tokens to
// a verifier.
package credentials
