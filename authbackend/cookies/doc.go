// Package cookies owns the OAuth cookies of one provider and the sealing of cookie
// payloads.
//
// Jar writes <p>-nonce, <p>-refresh-token and <p>-granted-scope exactly as Backstage's
// OAuthCookieManager does through express res.cookie (same names, paths, attribute
// order, Expires rendering, legacy Domain= deletions, 4000-character chunking), so a
// browser that signed in against the Node backend keeps working against ours and vice
// versa. Reading follows the `cookie` npm parser (first value wins, percent-decoding,
// malformed escapes kept raw). Two deliberate differences: Max-Age is capped at 400
// days (browsers cap it anyway), and shrinking a chunked value deletes the chunks it
// no longer uses (Backstage leaves them and then reads a corrupted value).
//
// Sealer encrypts and authenticates values we must get back unchanged (the refresh
// cookie, per-flow secrets) with keys derived from auth.session.secret, because
// Backstage's plain refresh cookie can be forged (REFERENCE.md section 8).
package cookies
