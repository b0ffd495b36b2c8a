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
//   - Google: accounts.google.com (/o/oauth2/v2/auth, discovery), www.googleapis.com
//     (/oauth2/v4/token, /oauth2/v3/userinfo, /oauth2/v3/certs) and oauth2.googleapis.com
//     (/token, /revoke): 4/0A codes, ya29. access tokens, 1//0 refresh tokens (only
//     with access_type=offline, never rotated), RS256 ID tokens with at_hash and the
//     nonce, Google's JSON errors (invalid_grant, invalid_client 401) and HTML 5xx
//     pages, userinfo by header or ?access_token=, revocation of the whole grant.
//   - Microsoft: Entra ID under login.microsoftonline.com/{tenant} (common,
//     organizations, consumers, a tenant GUID or DefaultEntraDomain; discovery with the
//     {tenantid} template, keys, authorize, token) and Graph's /v1.0/me and the 96x96
//     photo: AADSTS error bodies, rotating single-use refresh tokens, one resource per
//     token (AADSTS28000), JWT Graph tokens (opaque ones for personal accounts),
//     ImageNotFound without a photo.
//   - GCPIAP, AWSALB and OAuth2ProxyIdP: the key servers of authenticating proxies
//     (Google IAP's JWK set and kid->PEM map at www.gstatic.com, an AWS region's
//     per-kid PEM keys with S3's 404 for an unknown kid) and the OpenID Connect IdP
//     behind an oauth2-proxy (discovery and JWKS), with Sign and POST /_mock/sign to
//     sign the headers the proxy would set (published, unpublished or forged key).
//   - Okta, OneLogin, Auth0 (oidcvendor.go, one OpenID Connect shape for the vendors
//     whose host comes from config): discovery, authorize, token (client_secret_basic,
//     also Okta's "Basic: " with a stray colon, or client_secret_post), userinfo (GET or
//     POST, header or ?access_token=) and keys; RS256 ID tokens with at_hash and the
//     nonce, JSON errors. Okta: the org authorization server under /oauth2/v1 and custom
//     ones under /oauth2/{id}/v1, JWT access tokens, 00u ids, refresh tokens with
//     offline_access (not rotated). OneLogin: /oidc/2/{auth,token,me,certs}, numeric
//     subjects, a refresh token and the whole profile at /me for scope openid alone.
//     Auth0: /authorize, /oauth/token (invalid_grant is 403), /userinfo,
//     /.well-known/jwks.json and /v2/logout, issuer https://{domain}/, auth0| subjects.
//
// Every personality has the same fault knobs as providers/mockpalette (Fault, SetFault,
// /_mock/next: denied consent, token endpoint status and delay, plus the profile
// endpoint's), revocation (RevokeUser, /_mock/revoke?login=), an outage switch, and the
// recorded requests (/_mock/requests), and for the OpenID Connect vendors ID token
// faults (bad_sig, id_token_iss, id_token_aud). Serve one with TLS under a vendor's
// hostnames (github.com and api.github.com, or all of Google's or Microsoft's, share
// one handler; URLs in the answers name the vendor's hosts when the request did) for
// tests that cannot change the vendor's URL. It is not an IdP to deploy: everything lives in memory.
package mockvendor
