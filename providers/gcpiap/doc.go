// Package gcpiap is Backstage's Google Cloud Identity-Aware Proxy provider
// (auth.providers.gcpIap, module gcp-iap-provider): a proxy provider whose /refresh
// reads the IAP-signed JWT from x-goog-iap-jwt-assertion (or jwtHeader), verifies it
// (ES256 against Google's IAP keys, fetched and cached by providers/keyfetch; iss
// https://cloud.google.com/iap; aud the configured audience; exp and iat with a small
// skew; sub and email present) and signs in its email. providerInfo is
// {iapToken: <the verified payload>}, as Backstage gives it. Resolvers:
// emailMatchingUserEntityAnnotation (google.com/email) and
// idMatchingUserEntityAnnotation (google.com/user-id), besides the common ones.
package gcpiap
