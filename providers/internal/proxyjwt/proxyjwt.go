package proxyjwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// Checks are the claim checks beyond the signature. Empty fields are not checked.
type Checks struct {
	// Issuer must equal iss exactly.
	Issuer string
	// Audience must equal aud (a string) or be one of its members (an array).
	Audience string
	// RequireExp and RequireIat make a missing exp or iat a refusal; present ones are
	// always checked.
	RequireExp, RequireIat bool
	// MaxLifetime, when set, bounds exp - now (Google's libraries refuse tokens valid
	// for more than a day).
	MaxLifetime time.Duration
}

// Verifier checks tokens signed with one key endpoint's keys.
type Verifier struct {
	Keys *keyfetch.Fetcher
	Now  func() time.Time
	// Skew is tolerated on exp, iat and nbf.
	Skew time.Duration
}

// Token is a verified token.
type Token struct {
	// Header is the JOSE header (alg, kid, and whatever else the proxy put there).
	Header map[string]any
	// Claims are the payload's members, numbers as int64 or float64.
	Claims map[string]any
	// Payload is the payload as signed.
	Payload []byte
	// Expiry is exp (zero when absent).
	Expiry time.Time
}

// Error is a token that was refused (Undecided false) or about which nothing could be
// decided because the key endpoint could not be asked (Undecided true; the chain holds
// keyfetch's error with its RetryAfter). Reason is safe to show users.
type Error struct {
	Reason    string
	Undecided bool
	Cause     error
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Cause }

func refuse(format string, args ...any) *Error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Verify checks raw's signature with v.Keys and then its claims.
func (v *Verifier) Verify(ctx context.Context, raw string, c Checks) (*Token, error) {
	vt, err := v.Keys.Verify(ctx, raw)
	if err != nil {
		return nil, keyError(err)
	}
	hb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.SplitN(raw, ".", 2)[0], "="))
	if err != nil {
		return nil, refuse("the token header is not base64url-encoded")
	}
	t := &Token{Payload: vt.Payload}
	if err := decode(hb, &t.Header); err != nil {
		return nil, refuse("the token header is not a JSON object")
	}
	if err := decode(vt.Payload, &t.Claims); err != nil {
		return nil, refuse("the token claims are not a JSON object")
	}
	if err := v.checkClaims(t, c); err != nil {
		return nil, err
	}
	return t, nil
}

func decode(b []byte, into *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return errors.New("not an object")
	}
	*into = upstream.NormalizeNumbers(m).(map[string]any)
	return nil
}

// keyError describes a keyfetch failure.
func keyError(err error) *Error {
	var (
		tokenErr  *keyfetch.TokenError
		unknown   *keyfetch.UnknownKeyError
		unusable  *keyfetch.UnusableKeyError
		signature *keyfetch.SignatureError
	)
	switch {
	case keyfetch.Undecided(err):
		return &Error{Reason: "the signing keys could not be fetched", Undecided: true, Cause: err}
	case errors.As(err, &tokenErr):
		return &Error{Reason: tokenErr.Error(), Cause: err}
	case errors.As(err, &unknown):
		return &Error{Reason: "the token is signed with a key the key endpoint does not publish", Cause: err}
	case errors.As(err, &unusable):
		return &Error{Reason: "the token's key cannot verify it", Cause: err}
	case errors.As(err, &signature):
		return &Error{Reason: "the token signature is invalid", Cause: err}
	}
	return &Error{Reason: "the token could not be verified", Cause: err}
}

// NumericDate reads a numeric claim (seconds since the epoch).
func NumericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	switch n := v.(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	default:
		return time.Time{}, true, fmt.Errorf("the token's %s is not a number", name)
	}
	if math.IsNaN(f) || math.Abs(f) > 1e12 {
		return time.Time{}, true, fmt.Errorf("the token's %s is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

func (v *Verifier) checkClaims(t *Token, c Checks) error {
	now := v.Now()
	exp, hasExp, err := NumericDate(t.Claims, "exp")
	if err != nil {
		return refuse("%v", err)
	}
	iat, hasIat, err := NumericDate(t.Claims, "iat")
	if err != nil {
		return refuse("%v", err)
	}
	nbf, hasNbf, err := NumericDate(t.Claims, "nbf")
	if err != nil {
		return refuse("%v", err)
	}
	switch {
	case c.RequireExp && !hasExp:
		return refuse("the token has no expiry (exp)")
	case c.RequireIat && !hasIat:
		return refuse("the token has no issue time (iat)")
	case hasExp && !now.Before(exp.Add(v.Skew)):
		return refuse("the token has expired")
	case hasExp && c.MaxLifetime > 0 && exp.Sub(now) > c.MaxLifetime:
		return refuse("the token expires too far in the future (exp)")
	case hasIat && iat.After(now.Add(v.Skew)):
		return refuse("the token was issued in the future (iat); check the clocks")
	case hasNbf && nbf.After(now.Add(v.Skew)):
		return refuse("the token is not valid yet (nbf)")
	}
	t.Expiry = exp
	if c.Issuer != "" {
		if iss, _ := t.Claims["iss"].(string); iss != c.Issuer {
			return refuse("the token issuer %q is not %q", upstream.Printable(iss, 200), c.Issuer)
		}
	}
	if c.Audience != "" && !hasAudience(t.Claims["aud"], c.Audience) {
		return refuse("the token audience is not %q", c.Audience)
	}
	return nil
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, m := range a {
			if s, _ := m.(string); s == want {
				return true
			}
		}
	}
	return false
}

// AsBackstage turns a Verify error into the provider's answer: a ServiceUnavailable
// error with the text unavailable when nothing could be decided (the key endpoint's
// details go to the operator's log only), else an AuthenticationError
// "<refused><reason>".
func AsBackstage(err error, refused, unavailable string) error {
	var e *Error
	if !errors.As(err, &e) {
		return backstageerr.Authentication("%s%s", refused, "the token could not be verified")
	}
	if e.Undecided {
		return &backstageerr.Error{Name: backstageerr.NameServiceUnavailable, Message: unavailable, Cause: err, Detail: errorText(e.Cause)}
	}
	return &backstageerr.Error{Name: backstageerr.NameAuthentication, Message: refused + e.Reason, Cause: err}
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// AsBackstageCaused is AsBackstage for modules whose refusals read
// "<refused>; caused by Error: <reason>" (Backstage's wrapped errors).
func AsBackstageCaused(err error, refused, unavailable string) error {
	var e *Error
	if errors.As(err, &e) && !e.Undecided {
		return backstageerr.Wrap(backstageerr.NameAuthentication, backstageerr.Plain("%s", e.Reason), "%s", refused)
	}
	return AsBackstage(err, refused+", ", unavailable)
}
