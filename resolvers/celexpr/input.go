package celexpr

import (
	"encoding/json"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
)

// MaxDepth is how deeply nested a claim value may be; deeper values become null.
const MaxDepth = 32

// maxExactInt is the largest integer a float64 holds exactly (2^53).
const maxExactInt = 1 << 53

// Input is one verified sign-in as expressions see it.
type Input struct {
	// Provider is the provider id (auth.providers.<id>).
	Provider string
	Profile  Profile
	// Claims are the verified claims (ID token and userinfo for OAuth providers, the
	// verified header claims for proxy providers); nil means none.
	Claims map[string]any
}

// Activation binds an Input (and, for policy rules, an Identity) to the variables.
type Activation struct {
	provider  string
	profile   Profile
	rawClaims map[string]any
	// claims is rawClaims mapped, on first use: many expressions read only the profile.
	claims   map[string]any
	mapped   bool
	identity *Identity
}

var _ interpreter.Activation = (*Activation)(nil)

// NewActivation maps in to CEL values; in.Claims is not modified.
func NewActivation(in Input) *Activation {
	return &Activation{
		provider: validUTF8(in.Provider),
		profile: Profile{
			Email:       validUTF8(in.Profile.Email),
			DisplayName: validUTF8(in.Profile.DisplayName),
			Picture:     validUTF8(in.Profile.Picture),
		},
		rawClaims: in.Claims,
	}
}

// WithIdentity returns a copy of a that also binds identity.
func (a *Activation) WithIdentity(id Identity) *Activation {
	a.Claims() // map once, for both
	c := *a
	c.identity = &id
	return &c
}

// ResolveName implements interpreter.Activation.
func (a *Activation) ResolveName(name string) (any, bool) {
	switch name {
	case VarProvider:
		return a.provider, true
	case VarProfile:
		return &a.profile, true
	case VarClaims:
		return a.Claims(), true
	case VarIdentity:
		if a.identity != nil {
			return a.identity, true
		}
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *Activation) Parent() interpreter.Activation { return nil }

// Claims returns the mapped claims. An Activation serves one sign-in: it is not safe
// for concurrent use.
func (a *Activation) Claims() map[string]any {
	if !a.mapped {
		a.claims, a.mapped = normalizeMap(a.rawClaims, 1), true
	}
	return a.claims
}

func normalizeMap(m map[string]any, depth int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[validUTF8(k)] = normalize(v, depth)
	}
	return out
}

// normalize maps a decoded JSON value (or the few Go types providers build claims
// from) to what CEL's default adapter turns into CEL values.
func normalize(v any, depth int) any {
	if depth > MaxDepth {
		return types.NullValue
	}
	switch v := v.(type) {
	case nil:
		return types.NullValue
	case bool:
		return v
	case string:
		return validUTF8(v)
	case float64:
		return number(v)
	case float32:
		return number(float64(v))
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return number(f)
		}
		return validUTF8(v.String())
	case int:
		return int64(v)
	case int64:
		return v
	case int32:
		return int64(v)
	case uint64:
		return v
	case uint32:
		return uint64(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e, depth+1)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = validUTF8(e)
		}
		return out
	case map[string]any:
		return normalizeMap(v, depth+1)
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[validUTF8(k)] = validUTF8(e)
		}
		return out
	}
	// Nothing JSON decodes to; a Go value a provider should not have put in claims.
	return types.NullValue
}

// number makes an integral JSON number a CEL int, so that claims.level + 1 and
// string(claims.employee_id) behave as the operator expects.
func number(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) <= maxExactInt {
		return int64(f)
	}
	return f
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
