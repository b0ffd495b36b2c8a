package oauth2engine

import (
	"cmp"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// Email is one entry of a passport profile's emails.
type Email struct {
	Value string
	// Verified is the entry's verified flag; nil when the vendor says nothing.
	Verified *bool
}

// FullProfile is a passport strategy's profile (Backstage's fullProfile): what the
// vendor's profile endpoint said about the user, in passport's field names. Vendor
// resolvers read it (FullProfileOf); the default transform turns it into the
// Backstage profile. "" means absent.
type FullProfile struct {
	ID          string
	Username    string
	DisplayName string
	Emails      []Email
	// Email is a singular email property (Atlassian's strategy sets it).
	Email string
	// Photos are the photos' values; Photo and AvatarURL are the singular forms some
	// strategies use.
	Photos     []string
	Photo      string
	AvatarURL  string
	ProfileURL string
	// Raw is the profile endpoint's JSON object (passport's _json), numbers as int64 or
	// float64; nil when there was no profile request.
	Raw map[string]any
}

// fullProfileClaim is the key under which Result.Claims carries the *FullProfile.
const fullProfileClaim = "oauth2engine.fullProfile"

// FullProfileOf returns the full profile of a sign-in made through this engine (what
// Backstage's resolvers read as info.result.fullProfile); an empty one when there is
// none.
func FullProfileOf(info resolvers.SignInInfo) *FullProfile {
	if fp, ok := info.Claims[fullProfileClaim].(*FullProfile); ok && fp != nil {
		return fp
	}
	return &FullProfile{}
}

// DefaultProfileTransform is Backstage's PassportOAuthAuthenticatorHelper
// .defaultProfileTransform (PassportHelpers.transformProfile), with one difference: the
// ID token claims it falls back on are verified ones (idClaims, nil when the vendor's
// ID token could not be verified), never a token decoded without verification.
//
//  1. email: the first emails entry (dropped when it says verified: false), else the
//     singular email; also dropped when the raw profile has that email with
//     email_verified === false;
//  2. picture: avatarUrl, else the first photo, else photo;
//  3. displayName: displayName, else username, else id;
//  4. what is still missing comes from the ID token's email (unless step 1 dropped an
//     email, and only when email_verified is absent or true: Backstage takes any
//     value but boolean false, so the string "false" passed), picture and name.
func DefaultProfileTransform(fp *FullProfile, idClaims map[string]any) providers.Profile {
	if fp == nil {
		fp = &FullProfile{}
	}
	var p providers.Profile
	rejected := false
	if len(fp.Emails) > 0 {
		p.Email = fp.Emails[0].Value
		rejected = fp.Emails[0].Verified != nil && !*fp.Emails[0].Verified
	} else {
		p.Email = fp.Email
	}
	if p.Email != "" && fp.Raw != nil {
		if raw, _ := fp.Raw["email"].(string); raw == p.Email {
			if v, isBool := fp.Raw["email_verified"].(bool); isBool && !v {
				rejected = true
			}
		}
	}
	if rejected {
		p.Email = ""
	}
	switch {
	case fp.AvatarURL != "":
		p.Picture = fp.AvatarURL
	case len(fp.Photos) > 0:
		p.Picture = fp.Photos[0]
	default:
		p.Picture = fp.Photo
	}
	p.DisplayName = cmp.Or(fp.DisplayName, fp.Username, fp.ID)
	if idClaims != nil {
		if email, _ := idClaims["email"].(string); p.Email == "" && !rejected && email != "" {
			if upstream.EmailVerified(idClaims["email_verified"], true) {
				p.Email = email
			}
		}
		if pic, _ := idClaims["picture"].(string); p.Picture == "" {
			p.Picture = pic
		}
		if name, _ := idClaims["name"].(string); p.DisplayName == "" {
			p.DisplayName = name
		}
	}
	return p
}
