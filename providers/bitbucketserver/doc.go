// Package bitbucketserver is Backstage's Bitbucket Server / Data Center sign-in
// provider (provider id "bitbucketServer",
// @backstage/plugin-auth-backend-module-bitbucket-server-provider 0.2.19 with plain
// passport-oauth2) on providers/oauth2engine: auth.providers.bitbucketServer.<env>
// with clientId, clientSecret, host (a bare host name, always used with https://) and
// additionalScopes; no scope is required (the frontend asks for PROJECT_ADMIN) and none
// persists.
//
// Authorize and token are https://{host}/rest/oauth2/latest/authorize and /token
// (client_secret_post). The profile takes two calls, as the module makes them: the
// username from the X-AUSERNAME header of /plugins/servlet/applinks/whoami, then
// /rest/api/latest/users/{username}?avatarSize=256, mapped to id (String(id)),
// displayName, username (name), emails ([emailAddress]) and photos
// (https://{host}{avatarUrl}). Refresh is the refresh_token grant and both calls again.
//
// Differences from Backstage: host must be a host name with an optional port (no
// scheme, path or credentials); whoami must answer 2xx (Backstage reads the header
// whatever the status); the username is path-escaped in the user URL (Backstage puts it
// in verbatim) and must be printable; an absolute avatarUrl (a Gravatar URL) is used as
// it is instead of being appended to https://{host}.
//
// Resolvers: the common ones only. The module registers its own
// emailMatchingUserEntityProfileEmail and then the common ones over it, so the common
// one is in effect, as here; the userIdMatchingUserEntityAnnotation and
// usernameMatchingUserEntityAnnotation of its config schema are not registered (a
// start-up error), as in Backstage.
package bitbucketserver
