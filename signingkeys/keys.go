package signingkeys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"golang.org/x/crypto/cryptobyte"
	asn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Token types (the JWS "typ" header) Backstage uses; a SigningKey pre-encodes its
// header for each.
const (
	TypUser        = "vnd.backstage.user"
	TypLimitedUser = "vnd.backstage.limited-user"
	TypPlugin      = "vnd.backstage.plugin"
)

// AlgES256 is the only signing algorithm keys here sign with and verify.
const AlgES256 = "ES256"

// KeySource is what token issuers and verifiers need from a key set: the key to
// sign with now, and the public keys currently listed in the JWKS. KeySet (rotating,
// stored) and StaticKeySet (files) implement it.
type KeySource interface {
	// SigningKey returns the key new tokens are signed with. It may create a key
	// or wait (ctx-aware) until a new key is published.
	SigningKey(ctx context.Context) (*SigningKey, error)
	// PublicKeys returns the immutable snapshot of listed keys, from memory.
	PublicKeys(ctx context.Context) (*PublicKeySet, error)
	// JWKS returns the {"keys":[...]} document served at jwks.json, from memory.
	JWKS(ctx context.Context) ([]byte, error)
}

// SigningKey is a private ES256 key held only in memory, with its kid and the
// pre-encoded JWS headers for each Backstage token type.
type SigningKey struct {
	KID string
	Alg string

	priv *ecdsa.PrivateKey
	// Pre-encoded base64url protected headers {"typ":T,"alg":"ES256","kid":K}
	// followed by ".", so signing builds no header per token.
	userHeader, limitedHeader, pluginHeader string
}

func newSigningKey(kid string, priv *ecdsa.PrivateKey) (*SigningKey, error) {
	if priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key %q: only P-256 (ES256) keys are supported", kid)
	}
	k := &SigningKey{KID: kid, Alg: AlgES256, priv: priv}
	k.userHeader = encodeHeader(TypUser, AlgES256, kid)
	k.limitedHeader = encodeHeader(TypLimitedUser, AlgES256, kid)
	k.pluginHeader = encodeHeader(TypPlugin, AlgES256, kid)
	return k, nil
}

// encodeHeader returns base64url(JSON.stringify({typ,alg,kid})) + "."; the kid is
// omitted when empty, as Backstage does.
func encodeHeader(typ, alg, kid string) string {
	b := []byte(`{"typ":`)
	b = jsrules.AppendString(b, typ)
	b = append(b, `,"alg":`...)
	b = jsrules.AppendString(b, alg)
	if kid != "" {
		b = append(b, `,"kid":`...)
		b = jsrules.AppendString(b, kid)
	}
	b = append(b, '}')
	return base64.RawURLEncoding.EncodeToString(b) + "."
}

// Header returns the protected header of a compact JWS of type typ signed by k:
// base64url(JSON.stringify({typ,alg,kid})) followed by ".". Backstage's three token
// types are encoded once per key.
func (k *SigningKey) Header(typ string) string {
	switch typ {
	case TypUser:
		return k.userHeader
	case TypLimitedUser:
		return k.limitedHeader
	case TypPlugin:
		return k.pluginHeader
	}
	return encodeHeader(typ, k.Alg, k.KID)
}

// Public returns the public half of the key.
func (k *SigningKey) Public() *ecdsa.PublicKey { return &k.priv.PublicKey }

// AppendSignature signs signingInput with ES256 and appends the base64url raw
// R||S signature (64 bytes) to dst.
func (k *SigningKey) AppendSignature(dst, signingInput []byte) ([]byte, error) {
	h := sha256.Sum256(signingInput)
	der, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		return dst, fmt.Errorf("sign with key %s: %w", k.KID, err)
	}
	var raw [64]byte
	if !derToRaw(der, &raw) {
		return dst, fmt.Errorf("sign with key %s: unexpected signature encoding", k.KID)
	}
	return base64.RawURLEncoding.AppendEncode(dst, raw[:]), nil
}

// derToRaw converts an ASN.1 ECDSA-Sig-Value (SEQUENCE of two INTEGERs) for
// P-256 into the JWS raw form: R and S as 32-byte big-endian, concatenated.
// (crypto/ecdsa's big.Int API costs dozens of allocations more per signature.)
func derToRaw(der []byte, raw *[64]byte) bool {
	in := cryptobyte.String(der)
	var seq, r, s cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return false
	}
	for i, v := range [2][]byte{r, s} {
		for len(v) > 0 && v[0] == 0 { // strip the sign padding
			v = v[1:]
		}
		if len(v) > 32 {
			return false
		}
		copy(raw[i*32+32-len(v):(i+1)*32], v)
	}
	return true
}

// Sign builds a compact JWS of the given typ over payload (JSON bytes, sent as they
// are: the caller serialises them).
func (k *SigningKey) Sign(typ string, payload []byte) (string, error) {
	hdr := k.Header(typ)
	buf := make([]byte, 0, len(hdr)+base64.RawURLEncoding.EncodedLen(len(payload))+1+86)
	buf = append(buf, hdr...)
	buf = base64.RawURLEncoding.AppendEncode(buf, payload)
	n := len(buf)
	buf = append(buf, '.')
	buf, err := k.AppendSignature(buf, buf[:n])
	if err != nil {
		return "", err
	}
	return string(buf), nil
}

// publicJWK returns the public JWK exactly as Backstage stores it:
// {"kty":"EC","x":…,"y":…,"crv":"P-256","kid":…,"alg":"ES256"}, plus
// ,"use":"sig" when use is set (static keys).
func publicJWK(pub *ecdsa.PublicKey, kid, use string) []byte {
	var x, y [32]byte
	pub.X.FillBytes(x[:])
	pub.Y.FillBytes(y[:])
	b := []byte(`{"kty":"EC","x":"`)
	b = base64.RawURLEncoding.AppendEncode(b, x[:])
	b = append(b, `","y":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, y[:])
	b = append(b, `","crv":"P-256","kid":`...)
	b = jsrules.AppendString(b, kid)
	b = append(b, `,"alg":"ES256"`...)
	if use != "" {
		b = append(b, `,"use":`...)
		b = jsrules.AppendString(b, use)
	}
	return append(b, '}')
}

// parseECJWK parses a stored public JWK into an ES256 verification key. Keys of
// other types (e.g. RSA keys written by a Node replica configured differently) are
// reported as errUnsupportedKey: they are still listed, never used here.
func parseECJWK(raw []byte) (*ecdsa.PublicKey, error) {
	var j struct {
		Kty, Crv, X, Y, Alg, Use string
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("invalid JWK JSON: %w", err)
	}
	if j.Kty != "EC" || j.Crv != "P-256" || (j.Alg != "" && j.Alg != AlgES256) || (j.Use != "" && j.Use != "sig") {
		return nil, errUnsupportedKey
	}
	xb, err1 := base64.RawURLEncoding.DecodeString(j.X)
	yb, err2 := base64.RawURLEncoding.DecodeString(j.Y)
	if err := errors.Join(err1, err2); err != nil || len(xb) != 32 || len(yb) != 32 {
		return nil, fmt.Errorf("invalid EC JWK coordinates")
	}
	// Validate the point through the uncompressed encoding (rejects off-curve points).
	pt := make([]byte, 0, 65)
	pt = append(append(append(pt, 4), xb...), yb...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
	if err != nil {
		return nil, fmt.Errorf("invalid EC JWK point: %w", err)
	}
	return pub, nil
}

var errUnsupportedKey = errors.New("unsupported key type")

// PublicKeySet is an immutable snapshot of the keys listed in the JWKS. Readers
// get it with one atomic load; a new snapshot replaces it when the set changes.
type PublicKeySet struct {
	keys    map[string]*ecdsa.PublicKey // ES256 keys by kid
	listed  map[string]struct{}         // every listed kid (including non-ES256)
	kids    []string
	jwks    []byte
	etag    string
	version uint64
	// nextExpiry is the earliest time a listed key expires (zero: never).
	nextExpiry time.Time
}

// Key returns the ES256 public key listed under kid, or nil.
func (p *PublicKeySet) Key(kid string) *ecdsa.PublicKey { return p.keys[kid] }

// Has reports whether kid is listed.
func (p *PublicKeySet) Has(kid string) bool { _, ok := p.listed[kid]; return ok }

// KIDs returns the listed kids in JWKS order.
func (p *PublicKeySet) KIDs() []string { return append([]string(nil), p.kids...) }

// JWKS returns the {"keys":[...]} document. The slice is shared: do not modify it.
func (p *PublicKeySet) JWKS() []byte { return p.jwks }

// ETag is a strong validator of the JWKS bytes, for HTTP caching.
func (p *PublicKeySet) ETag() string { return p.etag }

// Version increases whenever the listed set changes (within one process).
func (p *PublicKeySet) Version() uint64 { return p.version }

// listedKey is one key the set may list.
type listedKey struct {
	kid       string
	jwk       []byte // compact JSON
	pub       *ecdsa.PublicKey
	createdAt time.Time
	expiresAt time.Time // zero: never (static keys)
}

// buildPublicKeySet builds a snapshot of the keys not expired at now; it returns
// the kids of keys that are expired.
func buildPublicKeySet(all []listedKey, now time.Time, version uint64) (*PublicKeySet, []string) {
	live := make([]listedKey, 0, len(all))
	var expired []string
	var next time.Time
	for _, k := range all {
		if !k.expiresAt.IsZero() && !now.Before(k.expiresAt) {
			expired = append(expired, k.kid)
			continue
		}
		live = append(live, k)
		if !k.expiresAt.IsZero() && (next.IsZero() || k.expiresAt.Before(next)) {
			next = k.expiresAt
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if !live[i].createdAt.Equal(live[j].createdAt) {
			return live[i].createdAt.Before(live[j].createdAt)
		}
		return live[i].kid < live[j].kid
	})
	p := &PublicKeySet{
		keys:       make(map[string]*ecdsa.PublicKey, len(live)),
		listed:     make(map[string]struct{}, len(live)),
		kids:       make([]string, 0, len(live)),
		version:    version,
		nextExpiry: next,
	}
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for i, k := range live {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k.jwk)
		p.listed[k.kid] = struct{}{}
		p.kids = append(p.kids, k.kid)
		if k.pub != nil {
			p.keys[k.kid] = k.pub
		}
	}
	buf.WriteString(`]}`)
	p.jwks = buf.Bytes()
	sum := sha256.Sum256(p.jwks)
	p.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return p, expired
}

// generateKey creates a fresh P-256 key with a random UUID kid read from rnd.
func generateKey(rnd io.Reader) (*SigningKey, []byte, error) {
	id, err := uuid.NewRandomFromReader(rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key id: %w", err)
	}
	kid := id.String()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("generate ES256 key: %w", err)
	}
	sk, err := newSigningKey(kid, priv)
	if err != nil {
		return nil, nil, err
	}
	return sk, publicJWK(&priv.PublicKey, kid, ""), nil
}
