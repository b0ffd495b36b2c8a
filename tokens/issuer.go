package tokens

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"golang.org/x/sync/singleflight"
)

// AudBackstage is the aud claim of Backstage user tokens.
const AudBackstage = "backstage"

// MaxTokenLength is Backstage's MAX_TOKEN_LENGTH: longer user tokens are refused.
const MaxTokenLength = 32768

// Cache defaults.
const (
	DefaultUserInfoTTL       = 10 * time.Second
	DefaultUserInfoCacheSize = 10000
	// DefaultUserInfoSkipTTL bounds how long "this process already wrote exactly
	// this user_info" is trusted, in case another replica wrote something else since.
	DefaultUserInfoSkipTTL = time.Hour
)

// reservedClaims are written by the issuer after the extra claims; extra claims
// with these names are dropped (Backstage writes its own values over them).
var reservedClaims = map[string]bool{"iss": true, "sub": true, "ent": true, "aud": true, "iat": true, "exp": true, "uip": true}

// IssuerOptions configures an Issuer.
type IssuerOptions struct {
	// Issuer is the iss claim: the external auth base URL (…/api/auth).
	Issuer string
	// Keys signs the tokens (a *signingkeys.KeySet or a *signingkeys.StaticKeySet).
	Keys signingkeys.KeySource
	// Expiration is the token lifetime (already clamped to [10m, 24h] by config).
	Expiration time.Duration
	// OmitOwnershipClaim leaves ent out of the token (auth.omitIdentityTokenOwnershipClaim).
	OmitOwnershipClaim bool
	// UserInfo is the user_info table; nil keeps user info in process memory only.
	UserInfo UserInfoStore
	// UserInfoTTL is how long UserInfo serves a cached row before re-reading it
	// (default 10s), so other replicas' newer writes are seen.
	UserInfoTTL time.Duration
	// UserInfoCacheSize bounds the read and write-skip caches (default 10000 users).
	UserInfoCacheSize int
	Now               func() time.Time
	Logger            *slog.Logger
}

// Issuer issues Backstage user tokens and records user_info.
type Issuer struct {
	iss         string
	keys        signingkeys.KeySource
	expSeconds  int64
	omitEnt     bool
	store       UserInfoStore
	userInfoTTL time.Duration
	now         func() time.Time
	log         *slog.Logger
	lastWritten *lru.Cache[string, writtenInfo] // sub -> what this process last wrote
	readCache   *lru.Cache[string, cachedInfo]  // sub -> row, for /v1/userinfo
	readGroup   singleflight.Group
	writeLocks  [64]sync.Mutex // per-user (striped) so the skip cache matches the row
	lockSeed    maphash.Seed
}

// NewIssuer returns an Issuer.
func NewIssuer(opts IssuerOptions) *Issuer {
	is := &Issuer{
		iss:         opts.Issuer,
		keys:        opts.Keys,
		expSeconds:  int64(opts.Expiration / time.Second),
		omitEnt:     opts.OmitOwnershipClaim,
		store:       opts.UserInfo,
		userInfoTTL: opts.UserInfoTTL,
		now:         opts.Now,
		log:         opts.Logger,
		lockSeed:    maphash.MakeSeed(),
	}
	if is.expSeconds <= 0 {
		is.expSeconds = 3600
	}
	if is.now == nil {
		is.now = time.Now
	}
	if is.log == nil {
		is.log = slog.New(slog.DiscardHandler)
	}
	if is.userInfoTTL <= 0 {
		is.userInfoTTL = DefaultUserInfoTTL
	}
	size := opts.UserInfoCacheSize
	if size <= 0 {
		size = DefaultUserInfoCacheSize
	}
	if is.store == nil {
		is.store = newMemoryUserInfo(size * 10)
	}
	is.lastWritten, _ = lru.New[string, writtenInfo](size)
	is.readCache, _ = lru.New[string, cachedInfo](size)
	return is
}

// IssueUserToken issues a user token for claims (Backstage TokenFactory.issueToken
// plus the resolver context's user_info upsert).
func (is *Issuer) IssueUserToken(ctx context.Context, claims UserClaims) (IssuedToken, error) {
	sub, err := jsrules.CanonicalEntityRef(claims.Sub)
	if err != nil {
		return IssuedToken{}, backstageerr.Input(`"sub" claim provided by the auth resolver is not a valid EntityRef: %s`, err.Error())
	}
	ent, err := canonicalEnt(sub, claims.Ent)
	if err != nil {
		return IssuedToken{}, err
	}
	key, err := is.keys.SigningKey(ctx)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue user token: %w", err)
	}
	now := is.now()
	iat := now.Unix()
	exp := iat + is.expSeconds

	// uip: the signature of the limited token {sub,iat,exp}, serialised exactly
	// as verifiers rebuild it with JSON.stringify.
	limited := appendLimitedPayload(make([]byte, 0, 64+len(sub)), sub, iat, exp)
	limitedHeader := key.Header(signingkeys.TypLimitedUser)
	in := make([]byte, 0, len(limitedHeader)+base64.RawURLEncoding.EncodedLen(len(limited)))
	in = append(in, limitedHeader...)
	in = base64.RawURLEncoding.AppendEncode(in, limited)
	uipBytes, err := key.AppendSignature(nil, in)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue user token: %w", err)
	}
	uip := string(uipBytes)

	payload, err := is.appendPayload(make([]byte, 0, 256+len(sub)+len(ent)*32), claims.Extra, sub, ent, iat, exp, uip)
	if err != nil {
		return IssuedToken{}, err
	}
	hdr := key.Header(signingkeys.TypUser)
	if n := len(hdr) + base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + 86; n > MaxTokenLength {
		return IssuedToken{}, backstageerr.Plain("Failed to issue a new user token. The resulting token is excessively large, with either too many ownership claims or too large custom claims. You likely have a bug either in the sign-in resolver or catalog data. The following claims were requested: '%s'", payload)
	}
	token, err := key.Sign(signingkeys.TypUser, payload)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue user token: %w", err)
	}
	if is.log.Enabled(ctx, slog.LevelDebug) {
		is.log.DebugContext(ctx, "Issuing token for "+sub+", with entities "+strings.Join(ent, ","))
	}
	if !claims.NoUserInfo {
		if err := is.recordUserInfo(ctx, sub, ent, claims.Extra, now); err != nil {
			return IssuedToken{}, err
		}
	}
	return IssuedToken{Token: token, Sub: sub, Ent: ent, IssuedAt: time.Unix(iat, 0), ExpiresAt: time.Unix(exp, 0)}, nil
}

// canonicalEnt canonicalises and de-duplicates ent (nil: [sub]).
func canonicalEnt(sub string, ent []string) ([]string, error) {
	if ent == nil {
		return []string{sub}, nil
	}
	out := make([]string, 0, len(ent))
	for _, r := range ent {
		c, err := jsrules.CanonicalEntityRef(r)
		if err != nil {
			return nil, backstageerr.Input(`"ent" claim provided by the auth resolver is not a valid EntityRef: %s`, err.Error())
		}
		dup := false
		for _, o := range out {
			if o == c {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out, nil
}

func appendLimitedPayload(b []byte, sub string, iat, exp int64) []byte {
	b = append(b, `{"sub":`...)
	b = jsrules.AppendString(b, sub)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	return append(b, '}')
}

// appendPayload writes {...extra, iss, sub, ent?, aud, iat, exp, uip}.
func (is *Issuer) appendPayload(b []byte, extra map[string]any, sub string, ent []string, iat, exp int64, uip string) ([]byte, error) {
	b = append(b, '{')
	var err error
	if b, err = appendExtra(b, extra, reservedClaims); err != nil {
		return nil, err
	}
	b = append(b, `"iss":`...)
	b = jsrules.AppendString(b, is.iss)
	b = append(b, `,"sub":`...)
	b = jsrules.AppendString(b, sub)
	if !is.omitEnt {
		b = append(b, `,"ent":`...)
		b, _ = jsrules.AppendValue(b, ent)
	}
	b = append(b, `,"aud":"backstage","iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	b = append(b, `,"uip":`...)
	b = jsrules.AppendString(b, uip)
	return append(b, '}'), nil
}

// appendExtra writes the extra claims not in skip, each followed by a comma.
func appendExtra(b []byte, extra map[string]any, skip map[string]bool) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !skip[k] {
			keys = append(keys, k)
		}
	}
	jsrules.SortKeys(keys)
	for _, k := range keys {
		b = jsrules.AppendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = jsrules.AppendValue(b, extra[k]); err != nil {
			return nil, backstageerr.Input("custom claim %q: %s", k, err.Error())
		}
		b = append(b, ',')
	}
	return b, nil
}
