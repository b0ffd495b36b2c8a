// Package microsoft is Backstage's Microsoft Entra ID sign-in provider (provider id
// "microsoft", @backstage/plugin-auth-backend-module-microsoft-provider 0.3.19 with
// passport-microsoft 1.1.0) on providers/oauth2engine: auth.providers.microsoft.<env>
// with clientId, clientSecret, tenantId (required: a tenant GUID, a verified domain,
// common, organizations or consumers), domainHint (sent as domain_hint),
// skipUserProfile and additionalScopes; email, openid, offline_access and user.read are
// always requested, none persists.
//
// Endpoints are login.microsoftonline.com/{tenantId}/oauth2/v2.0/authorize and /token
// and Microsoft Graph. The profile is Graph's /v1.0/me/ and the 96x96 photo, fetched
// only for a Graph token (aud 00000003-0000-0000-c000-000000000000 with a User.Read
// scope, or a token that is not a JWT, as personal accounts get): id, displayName,
// emails [mail or userPrincipalName], photos [a data: URL]. For any other token (a
// resource scope such as api://x/read was asked for) an extra refresh grant with the
// scope "openid email User.Read offline_access" gets a Graph token for the profile,
// keeping the sign-in's own access token and sealing the refresh token it returned;
// skipUserProfile never calls Graph, and the profile then comes from the verified ID
// token. The module's scope transform: when a requested scope names a resource (has a
// "/"), only the requested scopes plus offline_access are sent (a token names one
// resource), on start and on refresh.
//
// The ID token is verified as providers/oidc verifies ID tokens, against the tenant's
// discovery document and keys; for common and organizations, whose document announces
// the issuer https://login.microsoftonline.com/{tenantid}/v2.0, the token's iss must be
// that issuer with the token's own tid. Its claims fill profile gaps and its oid is the
// user id when Graph was not asked. The nonce and S256 PKCE are sent.
//
// Differences from Backstage: the ID token is verified (Backstage decodes it
// unverified); the photo is used only from a 200 image answer (Backstage turns any
// answer, a 404 error body too, into the picture); userIdMatchingUserEntityAnnotation
// also works with skipUserProfile, from the verified oid (Backstage throws a TypeError).
//
// Resolvers: emailMatchingUserEntityAnnotation (microsoft.com/email),
// userIdMatchingUserEntityAnnotation (graph.microsoft.com/user-id), plus the common ones.
package microsoft
