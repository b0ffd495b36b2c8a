// Package onelogin is Backstage's OneLogin sign-in provider (provider id "onelogin",
// @backstage/plugin-auth-backend-module-onelogin-provider 0.3.19 with
// passport-onelogin-oauth 0.0.1) on providers/oauth2engine:
// auth.providers.onelogin.<env> with clientId, clientSecret and issuer (e.g.
// https://acme.onelogin.com/oidc/2).
//
// The endpoints are {issuer}/auth, {issuer}/token (client_secret_post) and {issuer}/me.
// As in the module, the scope sent is always exactly openid, on the authorize request
// and on refresh, whatever the frontend and additionalScopes ask for; none persists.
// The profile is /me mapped as the strategy maps it (id sub, username
// preferred_username, displayName name, emails [email]; an email OneLogin says is
// unverified is dropped); the picture comes only from the ID token. Refresh is the
// refresh_token grant (scope=openid) and /me again; logout calls nothing at OneLogin.
//
// Differences from Backstage: the token answer's id_token is verified as providers/oidc
// verifies ID tokens (the issuer's discovery document and keys, iss, aud/azp, exp/iat,
// at_hash and the nonce we send), where Backstage decodes it unverified; S256 PKCE and
// a nonce are sent (the strategy makes a nonce but never sends it). issuer must be an
// http(s) URL without a query or user info (a trailing slash is dropped).
//
// Resolvers: usernameMatchingUserEntityName (preferred_username as the User's name),
// plus the common ones.
package onelogin
