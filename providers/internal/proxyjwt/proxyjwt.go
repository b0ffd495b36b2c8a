package proxyjwt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// DefaultIssuedAtSkew is how far in the future iat may be (clock differences).
const DefaultIssuedAtSkew = time.Minute

// Expect is what a token must satisfy besides its signature.
type Expect struct {
	// Issuer is the exact iss, unless IssuerOK is set.
	Issuer string
	// IssuerOK decides iss itself (e.g. an issuer with the token's tenant in it).
	IssuerOK func(iss string, claims map[string]any) bool
	// Audience must be aud or one of its members.
	Audience string
	// Leeway is the clock tolerance for exp and nbf (jose's clockTolerance; 0: none).
	Leeway time.Duration
	// IssuedAtSkew bounds iat in the future (0: DefaultIssuedAtSkew).
	IssuedAtSkew time.Duration
	// Now is the clock (never nil).
	Now func() time.Time
}

// Token is a verified token.
type Token struct {
	Raw string
	// Payload is the verified payload as it was signed.
	Payload []byte
	// Claims are the payload decoded, numbers as int64 when integral, else float64.
	Claims map[string]any
	Expiry time.Time
	// Stale: the key endpoint is down and the key came from its last good answer.
	Stale bool
}

// RejectedError is a token that was refused. Reason is safe to show a user.
type RejectedError struct {
	Reason  string
	Expired bool
	Cause   error
}

func (e *RejectedError) Error() string { return e.Reason }
func (e *RejectedError) Unwrap() error { return e.Cause }

// UndecidedError is a token nothing could be decided about: the key endpoint gave no
// usable answer. Cause is the keyfetch error (its RetryAfter says when to try again).
type UndecidedError struct{ Cause error }

func (e *UndecidedError) Error() string { return "the signing keys could not be fetched" }
func (e *UndecidedError) Unwrap() error { return e.Cause }

func reject(format string, args ...any) *RejectedError {
	return &RejectedError{Reason: fmt.Sprintf(format, args...)}
}

// Verify checks raw's signature with keys and its claims against e.
func Verify(ctx context.Context, keys *keyfetch.Fetcher, raw string, e Expect) (*Token, error) {
	return verify(ctx, keys, raw, e.check)
}

// verify checks raw's signature with keys, decodes its claims and runs check on them.
func verify(ctx context.Context, keys *keyfetch.Fetcher, raw string, check func(claims map[string]any) error) (*Token, error) {
	v, err := keys.Verify(ctx, raw)
	if err != nil {
		return nil, keyError(err)
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(v.Payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil || dec.More() {
		return nil, reject("the token's claims are not a JSON object")
	}
	claims = upstream.NormalizeNumbers(claims).(map[string]any)
	if err := check(claims); err != nil {
		return nil, err
	}
	exp, _ := number(claims["exp"])
	return &Token{Raw: raw, Payload: v.Payload, Claims: claims, Expiry: time.Unix(int64(exp), 0), Stale: v.Stale}, nil
}

// keyError maps a keyfetch failure to Rejected or Undecided.
func keyError(err error) error {
	var (
		te *keyfetch.TokenError
		uk *keyfetch.UnknownKeyError
		uu *keyfetch.UnusableKeyError
		se *keyfetch.SignatureError
	)
	switch {
	case keyfetch.Undecided(err):
		return &UndecidedError{Cause: err}
	case errors.As(err, &te):
		return &RejectedError{Reason: te.Error(), Cause: err}
	case errors.As(err, &uk):
		return &RejectedError{Reason: "the token is signed with a key the issuer does not publish", Cause: err}
	case errors.As(err, &uu):
		return &RejectedError{Reason: "the token's key cannot verify it", Cause: err}
	case errors.As(err, &se):
		return &RejectedError{Reason: "the token's signature is invalid", Cause: err}
	}
	return &RejectedError{Reason: "the token could not be verified", Cause: err}
}

// check is jose's claim validation (iss, aud, exp, nbf) with exp required and iat
// not in the future.
func (e Expect) check(c map[string]any) error {
	iss, isStr := c["iss"].(string)
	switch {
	case !isStr:
		return reject("the token has no issuer (iss)")
	case e.IssuerOK != nil && !e.IssuerOK(iss, c), e.IssuerOK == nil && iss != e.Issuer:
		return reject("the token's issuer %q is not the expected one", upstream.Printable(iss, 100))
	}
	if !audienceHas(c["aud"], e.Audience) {
		return reject("the token's audience does not include %q", e.Audience)
	}
	// jose compares whole seconds: now is floored, a claim is expired when exp <= now - leeway.
	now := float64(e.Now().Unix())
	leeway := math.Floor(e.Leeway.Seconds())
	exp, ok := number(c["exp"])
	if !ok {
		return reject("the token has no expiry (exp)")
	}
	if exp <= now-leeway {
		return &RejectedError{Reason: "the token has expired", Expired: true}
	}
	if v, present := c["nbf"]; present {
		nbf, ok := number(v)
		if !ok {
			return reject("the token's nbf is not a number")
		}
		if nbf > now+leeway {
			return reject("the token is not valid yet (nbf)")
		}
	}
	if v, present := c["iat"]; present {
		iat, ok := number(v)
		skew := e.IssuedAtSkew
		if skew == 0 {
			skew = DefaultIssuedAtSkew
		}
		if !ok {
			return reject("the token's iat is not a number")
		}
		if iat > now+skew.Seconds() {
			return reject("the token was issued in the future (iat); check the clocks")
		}
	}
	return nil
}

func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.ContainsFunc(a, func(x any) bool { s, _ := x.(string); return s == want })
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	}
	return 0, false
}

// Int is claim k as an integer (false when it is absent or not an integral number).
func Int(c map[string]any, k string) (int64, bool) {
	n, ok := c[k].(int64)
	return n, ok
}
