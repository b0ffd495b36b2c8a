// Package pinniped is Backstage's Pinniped provider (provider id "pinniped",
// @backstage/plugin-auth-backend-module-pinniped-provider 0.3.18, openid-client) on
// providers/oidc: auth.providers.pinniped.<env> with federationDomain (the Pinniped
// Supervisor FederationDomain's issuer URL), clientId, clientSecret and
// additionalScopes; openid, pinniped:request-audience, username and offline_access are
// always requested, nothing persists; `scope` is refused with Backstage's message.
//
// It exists to hand the frontend Kubernetes tokens: /start?audience=<cluster audience>
// makes the callback trade the Supervisor access token for a cluster-scoped ID token
// (RFC 8693 token exchange at the token endpoint), returned as providerInfo.idToken;
// without an audience idToken is the Supervisor's ID token. The audience travels in
// the OAuth state as Backstage puts it there, with a MAC keyed by the sign-in's own
// secrets, so a callback URL whose audience was changed is refused.
//
// Verified where Backstage trusts: the Supervisor's ID token (ES256 signature against
// its JWKS, iss, aud, exp/iat, and a nonce we send, besides PKCE), and the exchanged
// cluster token (signature, iss, aud = the requested audience, exp, and the same sub).
// Refresh runs the refresh grant and, for a session started with an audience, the
// exchange again (Backstage returns the Supervisor ID token after a refresh).
//
// The profile is empty, as in Backstage, so the email resolvers cannot succeed; the
// verified ID token claims (username, groups) are there for the expression resolver.
package pinniped
