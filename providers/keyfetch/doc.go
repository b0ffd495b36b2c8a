// Package keyfetch owns the public keys that tokens from other parties (an OpenID
// Connect IdP's ID tokens, the assertions of authenticating proxies) are verified
// with: fetching them from a JWK set URL or from one PEM URL per kid, caching them,
// checking them, and verifying compact JWS signatures with them. It is the one place
// those keys are fetched, so every provider gets the same limits and the same outage
// rule:
//
//   - a fetch is bounded in time (per request) and size, and concurrent fetches of one
//     document are merged;
//   - keys are cached in memory for MaxAge, at most MaxKeys of them; a token whose kid
//     the cache does not know triggers a refetch, rate-limited (a token bucket) so that
//     tokens with made-up kids cannot make us hammer the endpoint;
//   - only asymmetric keys verify: no none, no HS*; RSA keys of 2048 to 8192 bits; EC
//     keys on the curve of the token's algorithm (P-256, P-384, and P-521 for ES512);
//     Ed25519; a JWK's alg and use, when present, must allow the token;
//   - when a refetch fails (no answer, an HTTP error, a body that is not a key set),
//     the last good keys keep verifying until a fetch succeeds: a token signed with one
//     of them is still checked in full by its verifier (expiry included), so an outage
//     of the key endpoint does not turn valid sessions into failures. Only a key set
//     that really answered without a kid removes it (per-kid PEM: a 404 is remembered
//     as the kid's answer without a key). When nothing can be decided (no good keys
//     yet, or a kid the last good keys lack while the endpoint is down) the error is
//     Undecided and carries when to try again; the outage is logged once.
//
// Errors are typed: UnavailableError (the endpoint could not be asked or answered an
// HTTP error), MalformedError (it answered something that is not a key set),
// UnknownKeyError (it answered without the token's kid), UnusableKeyError (the kid's
// key cannot verify this token), TokenError and SignatureError.
package keyfetch
