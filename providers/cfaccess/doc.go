// Package cfaccess is Backstage's Cloudflare Access proxy provider
// (auth.providers.cfaccess, module cloudflare-access-provider 0.5.0): the application
// token Cloudflare Access sends in the cf-access-jwt-assertion header or the
// CF_Authorization cookie is verified with the team's keys
// (https://<team>.cloudflareaccess.com/cdn-cgi/access/certs, through keyfetch), its
// iss, its aud (the application's AUD tag) and its exp; users are looked up at the
// team's get-identity endpoint (cached for the token that asked), service tokens by
// their common_name in serviceTokens. It owns the config, the token and identity
// checks and providerInfo; sign-in resolution is the router's.
package cfaccess
