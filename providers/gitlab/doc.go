// Package gitlab is Backstage's GitLab sign-in provider (provider id "gitlab",
// @backstage/plugin-auth-backend-module-gitlab-provider 0.4.7 with passport-gitlab2
// 5.0.0) on providers/oauth2engine: auth.providers.gitlab.<env> with clientId,
// clientSecret, audience (the GitLab base URL, default https://gitlab.com) and
// additionalScopes; read_user is always requested, none persists.
//
// Authorize, token and profile are {audience}/oauth/authorize, {audience}/oauth/token
// and {audience}/api/v4/user; the profile is mapped as passport-gitlab2 maps it: id
// (String(id)), username, displayName (name), emails ([email]), avatarUrl
// (avatar_url, the picture) and profileUrl (web_url). providerInfo.scope is the token
// answer's. Refresh is the refresh_token grant (GitLab rotates refresh tokens; the new
// one is sealed) and /api/v4/user again.
//
// GitLab is an OpenID Connect provider whose issuer is its base URL: with the openid
// scope its token answers carry an id_token, passed on in providerInfo.idToken. Here it
// is verified as providers/oidc verifies ID tokens (the keys of
// {audience}/.well-known/openid-configuration, iss, aud, exp/iat, and the nonce we
// send) before its claims fill profile gaps or reach the resolvers; Backstage decodes
// it without verification.
//
// Differences from Backstage: one trailing "/" of audience is dropped (Backstage
// builds "//oauth/authorize" from it), and audience must be an absolute http(s) URL
// without credentials, query or fragment; S256 PKCE and a nonce are sent; the id_token
// is verified.
//
// Resolvers: usernameMatchingUserEntityName (the GitLab username as the User's name)
// and userIdMatchingUserEntityAnnotation (the numeric user id against
// <host of web_url>/user-id, e.g. gitlab.com/user-id), plus the common ones.
package gitlab
