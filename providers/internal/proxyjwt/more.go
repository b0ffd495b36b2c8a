package proxyjwt

// Additions for the gcpIap and awsalb providers, kept out of proxyjwt.go (shared with
// cfaccess and azureEasyAuth).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// VerifyWithoutAudience is Verify for tokens that carry no aud claim (an AWS load
// balancer's x-amzn-oidc-data names its client in the JOSE header instead): every other
// check of e applies; e.Audience is ignored.
func VerifyWithoutAudience(ctx context.Context, keys *keyfetch.Fetcher, raw string, e Expect) (*Token, error) {
	return verify(ctx, keys, raw, func(claims map[string]any) error {
		// check's audience test passes by construction; the rest is unchanged.
		c := maps.Clone(claims)
		const none = "\x00no audience"
		c["aud"], e.Audience = none, none
		return e.check(c)
	})
}

// HeaderOf is the JOSE header of a verified token (fields such as ALB's signer).
func HeaderOf(t *Token) map[string]any {
	seg, _, _ := strings.Cut(t.Raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil
	}
	var h map[string]any
	if json.Unmarshal(b, &h) != nil {
		return nil
	}
	return h
}

// Rejected is a refusal in a provider's own words (the same class as the checks').
func Rejected(format string, args ...any) error { return reject(format, args...) }

// AsBackstage turns a Verify error into the provider's answer: a ServiceUnavailable
// error with the text unavailable when nothing could be decided (the key endpoint's
// details go to the operator's log only; the keyfetch error with its RetryAfter stays
// in the chain), else an AuthenticationError "<refused><reason>".
func AsBackstage(err error, refused, unavailable string) error {
	var u *UndecidedError
	if errors.As(err, &u) {
		return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: unavailable, Cause: err, Detail: u.Cause.Error()}
	}
	return &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: refused + reason(err), Cause: err}
}

// AsBackstageCaused is AsBackstage for modules whose refusals read
// "<refused>; caused by Error: <reason>" (Backstage's wrapped errors).
func AsBackstageCaused(err error, refused, unavailable string) error {
	var u *UndecidedError
	if errors.As(err, &u) {
		return AsBackstage(err, "", unavailable)
	}
	return backstageerr.Wrap(backstageerr.NameAuthentication, backstageerr.Plain("%s", reason(err)), "%s", refused)
}

func reason(err error) string {
	var r *RejectedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return "the token could not be verified"
}
