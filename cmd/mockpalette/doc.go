// Command mockpalette serves a mock identity provider for local development, demos and
// the integration tests. It is not an IdP to deploy.
//
//	mockpalette --listen 127.0.0.1:7010 [--personality palette|generic-oidc|github|oauth2] \
//	  --client-id backstage-client --client-secret backstage-secret [--redirect-uri URL]... \
//	  [--users users.yaml] [--login-form] [--tls-cert cert.pem --tls-key key.pem]
//
// palette (the default) is SpectroCloud Palette and generic-oidc a standard OpenID
// Connect IdP (providers/mockpalette; --tenant t1, --refresh-grant, --base-url apply);
// github and oauth2 are vendor personalities (providers/mockvendor; --expiring-tokens
// makes github a GitHub App with expiring user tokens). A github mock on one address
// answers both github.com's and api.github.com's paths, and /api/v3/user as GitHub
// Enterprise Server (point enterpriseInstanceUrl at it).
//
// The users file is a YAML list: {subject, email, emailVerified, givenName, familyName,
// name, picture, groups} for palette and generic-oidc, {id, nodeId, login, name, email,
// avatarUrl} for github and oauth2.
package main
