// Package mockvendor is a set of vendor-shaped OAuth 2.0 identity providers for tests,
// demos and cmd/mockpalette (--personality): each personality serves the endpoints,
// answer formats, token shapes and error answers of one vendor, as the passport-based
// providers (providers/oauth2engine) meet them in production.
//
//   - GitHub: /login/oauth/authorize, /login/oauth/access_token (form-encoded, or JSON
//     with Accept: application/json; errors such as bad_verification_code come with
//     status 200), /user and the Enterprise Server path /api/v3/user (401 "Bad
//     credentials", 403 without a User-Agent), gho_/ghu_/ghr_ tokens, S256 PKCE when the
//     client sends a challenge, and with Options.ExpiringTokens a GitHub App's expiring
//     user tokens and single-use refresh tokens (bad_refresh_token).
//   - OAuth2: a plain RFC 6749 server for the generic oauth2 provider: /oauth2/authorize
//     and /oauth2/token (JSON, 400 invalid_grant, 401 invalid_client), client_secret_post
//     or HTTP Basic, rotating refresh tokens, no profile endpoint.
//
// Every personality has the same fault knobs as providers/mockpalette (Fault, SetFault,
// /_mock/next: denied consent, token endpoint status and delay, plus the profile
// endpoint's), revocation (RevokeUser, /_mock/revoke?login=), an outage switch, and the
// recorded requests (/_mock/requests). Serve one with TLS under a vendor's hostname
// (github.com and api.github.com share one handler) for tests that cannot change the
// vendor's URL. It is not an IdP to deploy: everything lives in memory.
package mockvendor
