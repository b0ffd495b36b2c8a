// Package auth0 is Backstage's Auth0 sign-in provider (provider id "auth0",
// @backstage/plugin-auth-backend-module-auth0-provider 0.4.5 with passport-auth0 1.4.5)
// on providers/oauth2engine: auth.providers.auth0.<env> with clientId, clientSecret,
// domain (the tenant host), audience, connection, connectionScope, prompt (default
// consent; auto sends none), organization, federatedLogout and additionalScopes. No
// scope is required and none persists.
//
// The endpoints are https://{domain}/authorize, /oauth/token and /userinfo. The
// authorize request carries what passport-auth0 puts there, in its order: scope, state,
// the literal accessType=offline, the /start query's organization, invitation and
// screen_hint, connection and connection_scope, audience, prompt, the query's
// login_hint, the nonce, the configured organization (a /start organization other than
// the configured one is a 400, as in the module). Every call carries an Auth0-Client
// header. The profile is
// userinfo mapped as passport-auth0 maps it (id user_id or sub, displayName name,
// emails; an email Auth0 says is unverified is dropped); the picture comes from the ID
// token. Refresh is the refresh_token grant; the profile of a refresh is cached for one
// minute per user, as the module caches it. Logout returns Auth0's logout URL
// (https://{domain}/v2/logout?[federated=&]client_id=<id>[&returnTo=<Origin>]) for the
// browser; nothing is revoked.
//
// Differences from Backstage: the ID token's signature is verified with the tenant's
// keys (RS256; Backstage checks the claims but not the signature, and accepts HS256) as
// well as iss https://{domain}/, aud/azp, exp/iat, at_hash and the nonce; the nonce is
// the router's, bound to the browser like the state, so Backstage's need for
// auth.session.secret (one nonce slot per session) is gone. The access token goes to
// userinfo in an Authorization header, not the query string. A refresh answer without
// an id_token is accepted (Backstage throws). A callback with ?error= says which error
// (Backstage answers "Authentication rejected, " with nothing after it). domain must be
// a host name.
//
// Resolvers: only the common ones, as in Backstage.
package auth0
