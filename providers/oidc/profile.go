package oidc

import (
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// ProfileFromClaims maps verified claims to Backstage's profile: the email when
// email_verified is true (boolean, or the string "true"), or when the claim is absent
// and absentVerifiedOK (Palette may omit it); displayName from name or
// "given_name family_name"; and picture. Any other email_verified value ("false",
// "no", 0, ...) drops the email, so resolvers never match an address the IdP did not
// vouch for.
func ProfileFromClaims(claims map[string]any, absentVerifiedOK bool) providers.Profile {
	var pr providers.Profile
	if email, _ := claims["email"].(string); email != "" && upstream.EmailVerified(claims["email_verified"], absentVerifiedOK) {
		pr.Email = email
	}
	pr.Picture, _ = claims["picture"].(string)
	if name, _ := claims["name"].(string); strings.TrimSpace(name) != "" {
		pr.DisplayName = strings.TrimSpace(name)
	} else {
		given, _ := claims["given_name"].(string)
		family, _ := claims["family_name"].(string)
		pr.DisplayName = strings.TrimSpace(strings.TrimSpace(given) + " " + strings.TrimSpace(family))
	}
	return pr
}
