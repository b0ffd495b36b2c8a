// Package bitbucket is Backstage's Bitbucket Cloud sign-in provider (provider id
// "bitbucket", @backstage/plugin-auth-backend-module-bitbucket-provider 0.3.19 with
// passport-bitbucket-oauth2 0.1.2) on providers/oauth2engine:
// auth.providers.bitbucket.<env> with clientId, clientSecret and additionalScopes;
// account is always requested and granted scopes persist.
//
// Authorize and token are bitbucket.org/site/oauth2/authorize and
// /site/oauth2/access_token (client credentials as HTTP Basic and in the body, as the
// strategy sends them); the profile is api.bitbucket.org/2.0/user, mapped as the
// strategy maps it: id (the account UUID, with braces), displayName (display_name),
// username and profileUrl (links.html.href); no email and no avatar. Refresh is the
// refresh_token grant (Bitbucket keeps the refresh token) and /2.0/user again.
//
// Difference from Backstage: when the email scope was granted (additionalScopes:
// [email]), the primary address of /2.0/user/emails, if Bitbucket says it is
// confirmed, is the profile email, so the common email resolvers can work; in
// Backstage they always fail, since the module maps no email.
//
// Resolvers: userIdMatchingUserEntityAnnotation (the UUID against
// bitbucket.org/user-id) and usernameMatchingUserEntityAnnotation (the username
// against bitbucket.org/username), plus the common ones.
package bitbucket
