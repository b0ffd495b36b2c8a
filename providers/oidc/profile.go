package oidc

import (
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

// ProfileFromClaims maps verified claims to Backstage's profile: email unless
// email_verified is false (boolean false or the string "false"; absent counts as
// usable, unlike Backstage's oidc module which needs a boolean true), displayName from
// name or "given_name family_name", and picture.
func ProfileFromClaims(claims map[string]any) providers.Profile {
	var pr providers.Profile
	if email, _ := claims["email"].(string); email != "" && !emailUnverified(claims["email_verified"]) {
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

func emailUnverified(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case string:
		return strings.EqualFold(strings.TrimSpace(t), "false")
	}
	return false
}
