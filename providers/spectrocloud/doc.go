// Package spectrocloud is SpectroCloud Palette as a Backstage sign-in provider
// (provider id "spectrocloud"), replacing @terasky/backstage-plugin-spectrocloud-auth-backend.
// It wraps providers/oidc (as oauth2-proxy's Keycloak provider wraps its OIDC one) and
// accepts TeraSky's keys (authorizationUrl, scope, ...) next to every oidc key.
//
// Palette quirks handled here:
//   - the issuer is derived from authorizationUrl by path (or metadataUrl is used);
//   - the token endpoint gets client_secret_post by default, as TeraSky sends;
//   - the token response's refresh_token is Palette's HS256 session JWT, not an OAuth
//     refresh token: it is kept in the sealed session and returned as
//     providerInfo.accessToken, never sent to a token endpoint;
//   - without an advertised refresh grant, refresh re-verifies the sealed RS256 ID token
//     against the IdP's current keys and expiry (TeraSky trusted an unsigned cookie);
//   - providerInfo.idToken is always the RS256 ID token (the Kubernetes plugin sends it
//     to clusters) and expiresInSeconds follows its exp;
//   - the groups claim passes through in Result.Claims.
package spectrocloud
