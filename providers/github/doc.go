// Package github is Backstage's GitHub sign-in provider (provider id "github",
// @backstage/plugin-auth-backend-module-github-provider 0.5.9 with passport-github2) on
// providers/oauth2engine: auth.providers.github.<env> with clientId, clientSecret,
// enterpriseInstanceUrl (GitHub Enterprise Server) and additionalScopes; read:user is
// always requested and granted scopes persist.
//
// The profile is GET /user (GET {enterpriseInstanceUrl}/api/v3/user), mapped as
// passport-github2 maps it: id, nodeId (node_id), username (login), displayName
// (name), profileUrl, emails (the public email only: /user/emails is never called, as
// in Backstage), photos (avatar_url).
//
// Sessions: a GitHub App with expiring user tokens returns a refresh token, redeemed
// with the refresh_token grant. An OAuth app (or a GitHub App without expiring
// tokens) returns neither a refresh token nor expires_in: as Backstage does with its
// access-token-v2. cookie, the access token itself is the session, sealed in the
// refresh cookie and re-checked at /user on every refresh, reported without an
// expiry. It stays valid until the user or an admin revokes the token at GitHub (or
// the session ends, sessionDuration): logout clears the cookie but cannot revoke the
// token (revoking needs the client secret and a call Backstage does not make either).
//
// Resolvers: usernameMatchingUserEntityName (login as the entity name) and
// userIdMatchingUserEntityAnnotation (node_id against the github.com/user-id
// annotation, exact and case-sensitive), plus the common ones.
package github
