// Package atlassian is Backstage's Atlassian sign-in provider (provider id
// "atlassian", @backstage/plugin-auth-backend-module-atlassian-provider 0.4.19 with
// passport-atlassian-oauth2 2.1.0) on providers/oauth2engine:
// auth.providers.atlassian.<env> with clientId, clientSecret and additionalScopes;
// offline_access, read:me, read:jira-work and read:jira-user are always requested, none
// persists. The old scope and scopes keys are refused with Backstage's message;
// audience, in Backstage's schema but never read, is accepted with a warning.
//
// Authorize at auth.atlassian.com/authorize with audience=api.atlassian.com and
// prompt=consent (the strategy's fixed parameters), token at
// auth.atlassian.com/oauth/token (client_secret_post); the profile is
// api.atlassian.com/me, mapped as the strategy maps it: id (account_id), displayName
// (name), email (dropped when email_verified is false), photo (picture); then
// /oauth/token/accessible-resources, which is checked and kept (as the claim
// accessibleResources, for expression resolvers) as the strategy keeps it. Refresh is
// the refresh_token grant (Atlassian rotates refresh tokens; the new one is sealed),
// then both calls again.
//
// Resolvers: usernameMatchingUserEntityName, which can never succeed (Atlassian
// profiles have no username, so it stops the chain with "Atlassian user profile does
// not contain a username", as in Backstage; matching the user-chosen nickname instead
// would let anyone pick the catalog user), plus the common ones.
package atlassian
