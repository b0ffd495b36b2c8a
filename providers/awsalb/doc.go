// Package awsalb is Backstage's AWS Application Load Balancer provider
// (auth.providers.awsalb, module aws-alb-provider): a proxy provider whose /refresh
// verifies the load balancer's x-amzn-oidc-data JWT (ES256 with the region's public key
// for its kid, fetched from public-keys.auth.elb.<region>.amazonaws.com and cached by
// providers/keyfetch; exp required; iss the configured issuer; the header's signer the
// configured load balancer ARN when one is set) and requires x-amzn-oidc-accesstoken.
// The profile and providerInfo are Backstage's, including the picture and name taken
// from a JWT access token when the ALB claims lack them. Resolvers: the ALB's own
// emailMatchingUserEntityProfileEmail (which replaces the common one) and the common
// emailLocalPartMatchingUserEntityName.
package awsalb
