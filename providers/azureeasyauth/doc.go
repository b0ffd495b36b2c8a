// Package azureeasyauth is Backstage's Azure App Service Easy Auth proxy provider
// (auth.providers.azureEasyAuth, module azure-easyauth-provider): the user is the one
// whose Entra ID token App Service injects in x-ms-token-aad-id-token. Backstage only
// decodes that token; here it is verified (signature with the tenant's keys through
// keyfetch, iss, aud = WEBSITE_AUTH_CLIENT_ID, exp, tid) against the issuer App Service
// announces in WEBSITE_AUTH_OPENID_ISSUER, and the x-ms-client-principal headers, when
// present, must name the same user. It owns the environment checks, the token checks,
// the profile and providerInfo, and the idMatchingUserEntityAnnotation resolver.
package azureeasyauth
