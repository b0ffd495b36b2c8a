// Package origins decides which browser origins may receive sign-in results and
// which URLs the redirect flow may send the browser to.
//
// An origin is allowed when it equals the origin of app.baseUrl or matches one of the
// auth.experimentalExtraAllowedOrigins patterns, which are minimatch patterns with
// Backstage's options (nocase, noglobstar) matched by internal/jsrules' minimatch, as
// in Backstage's createOriginFilter: "*" does not cross "/", so a bare "*" allows no
// origin. Patterns serves backend.cors.origin the same way. A pattern that would allow
// every origin (it matches origins under the reserved .invalid TLD) is a start-up
// error naming the config key and index.
//
// Parsing is deliberately stricter than WHATWG URL parsing: input that a browser
// would silently repair (tabs, newlines, backslashes, userinfo, percent-escapes or
// unusual IPv4 spellings in the host, non-ASCII hosts) is refused rather than
// normalised, so the origin we check is always the origin the browser navigates to
// or posts to. Backstage follows state.redirectUrl after checking only its origin;
// CheckRedirectURL also returns a re-serialised URL so what we redirect to is exactly
// what we checked.
package origins
