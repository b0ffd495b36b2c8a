// Package oidc is a generic OpenID Connect sign-in provider with the configuration keys
// of Backstage's oidc module (auth.providers.oidc.<env>). It owns everything between
// this server and the IdP: lazy discovery (retried with backoff, so the server starts
// while the IdP is down), the authorization URL (nonce, S256 PKCE when advertised), the
// code exchange, full ID token verification (go-oidc parses, keyfetch checks the
// signature against the IdP's JWKS, alg allowlist without none/HS*, iss, aud/azp,
// exp/iat/nbf with clock skew, nonce in constant time), userinfo merging, refresh
// (refresh grant with rotation, or re-verification of the sealed ID token when the IdP
// has no refresh grant) and revocation at logout.
//
// Refresh never takes identity from the sealed session on trust: without a new ID
// token, the stored one is verified again. An IdP outage ends no session: the last good
// keys keep verifying, a failing token endpoint is answered from the still-valid ID
// token, and what cannot be decided is a ServiceUnavailableError with a retry hint.
//
// It differs from Backstage where Backstage is fragile: prompt is omitted by default
// (Backstage sends prompt=none), clock skew is tolerated, userinfo is optional,
// email_verified absent means usable, revocation failures do not fail logout, and
// errors never echo IdP response bodies.
//
// Vendor providers (spectrocloud) wrap it via ParseConfigWith and NewVariant.
package oidc
