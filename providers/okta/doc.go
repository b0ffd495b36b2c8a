// Package okta is Backstage's Okta sign-in provider (provider id "okta",
// @backstage/plugin-auth-backend-module-okta-provider 0.2.19 with
// @davidzemon/passport-okta-oauth 0.0.7) on providers/oauth2engine:
// auth.providers.okta.<env> with clientId, clientSecret, audience (the org URL, default
// https://okta.com), authServerId (a custom authorization server), idp (IdP routing)
// and additionalScopes; openid, email, profile and offline_access are always requested,
// none persists.
//
// The endpoints are {audience}/oauth2[/{authServerId}]/v1/{authorize,token,userinfo};
// the authorize request carries idp when configured; the profile is userinfo, fetched
// with POST as the strategy does, mapped as it maps it (id sub, displayName name,
// username preferred_username, emails [email]; an email userinfo says is unverified is
// dropped); the picture comes only from the ID token. Refresh is the refresh_token grant
// and userinfo again; logout calls nothing at Okta.
//
// Differences from Backstage: the token answer's id_token is verified as providers/oidc
// verifies ID tokens (the authorization server's discovery document and keys, iss,
// aud/azp, exp/iat, at_hash, and the nonce we send) before its claims are used, where
// Backstage decodes it unverified; S256 PKCE and a nonce are sent. The client
// authenticates with a well-formed HTTP Basic header on both grants, where the strategy
// sends "Basic: <credentials>" (a stray colon) on the code exchange and
// client_secret_post on refresh. audience must be an http(s) URL without a path, query
// or user info (a trailing slash is dropped) and authServerId one path segment, where
// Backstage only checks the scheme of audience and pastes authServerId in unchecked.
//
// Resolvers: emailMatchingUserEntityAnnotation (the profile email against the
// okta.com/email annotation), plus the common ones.
package okta
