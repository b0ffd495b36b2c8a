// Command mockpalette serves a Palette-shaped OpenID Connect IdP (providers/mockpalette)
// for local development and demos. It is not an IdP to deploy.
//
//	mockpalette --listen 127.0.0.1:7010 --tenant t1 --client-id backstage-client \
//	  --client-secret backstage-secret [--redirect-uri URL]... [--users users.yaml] \
//	  [--login-form] [--refresh-grant] [--base-url http://127.0.0.1:7010]
//
// The users file is a YAML list of {subject, email, emailVerified, givenName,
// familyName, name, picture, groups}.
package main
