// Package oauth2 is Backstage's generic OAuth 2.0 sign-in provider (provider id
// "oauth2", @backstage/plugin-auth-backend-module-oauth2-provider 0.4.19 with plain
// passport-oauth2) on providers/oauth2engine: auth.providers.oauth2.<env> with
// clientId, clientSecret, authorizationUrl (its own query kept), tokenUrl,
// includeBasicAuth (HTTP Basic as well as the body credentials), disableRefresh and
// additionalScopes; the old `scope` key is refused with Backstage's message. No scope is
// required and none persists; there is no profile request.
//
// The module's profile comes only from the token answer's id_token, which Backstage
// decodes without verifying it: anyone who can put an id_token in that answer chooses
// the email the resolvers match. Here an id_token is used only when ours,
// idTokenMetadataUrl (the issuer, or its discovery URL), says where its keys are: it
// is then verified as providers/oidc verifies ID tokens (signature, iss, aud, exp, the
// nonce, which is then sent); its email, name and picture fill the profile and its
// preferred_username is what usernameMatchingUserEntityName matches. Without it the profile is empty (the id_token is still passed on in
// providerInfo.idToken), so the email resolvers fail with "user profile does not
// contain an email".
//
// Differences from Backstage: disableRefresh, listed in Backstage's schema but never
// read, is honoured (no refresh cookie; /refresh answers 401); usernameMatchingUserEntityName,
// which can never succeed in Backstage (the module sets no username), matches the
// verified ID token's preferred_username; S256 PKCE is sent with our pkce: true.
package oauth2
