// Package oauth2proxy is Backstage's oauth2-proxy provider (auth.providers.oauth2Proxy,
// module oauth2-proxy-provider): a proxy provider whose /refresh takes the identity from
// the X-Forwarded-Email, -User and -Preferred-Username headers oauth2-proxy sets, and the
// ID token it forwards in X-OAUTH2-PROXY-ID-TOKEN ("Bearer <jwt>"), which becomes
// providerInfo.accessToken as in Backstage.
//
// Backstage only decodes that token. Here, when issuer (the IdP oauth2-proxy signs in
// with) and audience (oauth2-proxy's client id) are configured, the token is required
// and verified as the oidc provider verifies ID tokens (discovery and JWKS from the
// issuer, signature, iss, aud, exp), and every forwarded header must agree with it.
// Without them the headers are trusted on network position alone, as in Backstage, and
// a start-up warning says so. Resolvers: forwardedUserMatchingUserEntityName and
// forwardedPreferredUsernameMatchingUserEntityName, besides the common ones.
package oauth2proxy
