package mockvendor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// The authenticating proxies' key servers (GCPIAP, AWSALB) and the upstream IdP of an
// oauth2-proxy (OAuth2ProxyIdP) serve their keys in the vendor's layout; the headers
// the proxy would set are signed by Sign (or POST /_mock/sign), with the published key,
// a key the server does not publish (SignUnknownKey) or another key under the
// published kid (SignForged).

// Paths and kids of the proxy personalities.
const (
	// IAPJWKPath is Google's IAP key set as JWKs (www.gstatic.com), IAPPEMPath the same
	// keys as a map kid -> PEM (what google-auth-library's getIapPublicKeys reads).
	IAPJWKPath = "/iap/verify/public_key-jwk"
	IAPPEMPath = "/iap/verify/public_key"
	IAPKID     = "mock-iap-0oeLcQ"
	// ALBKID is the load balancer key's kid; its PEM is served at /<kid> on any host
	// (public-keys.auth.elb.<region>.amazonaws.com), an unknown kid answers 404.
	ALBKID = "6f2cde1a-43b5-4c8e-9f0b-2a7d8e1c5b90"
	// OIDCKID signs the ID tokens of OAuth2ProxyIdP, whose discovery document is at
	// /.well-known/openid-configuration and keys at OIDCJWKSPath; its issuer is the
	// origin the request reached.
	OIDCKID      = "mock-oidc-rs256"
	OIDCJWKSPath = "/jwks"
	// SignPath signs a SignRequest (JSON) and answers {"ok": true, "token": ...}.
	SignPath = "/_mock/sign"
	// unknownKID is the kid of keys no personality publishes.
	unknownKID = "mock-unpublished"
)

// SignKey chooses the key Sign uses.
type SignKey string

const (
	// SignPublished (the default) signs with the published key under its kid.
	SignPublished SignKey = ""
	// SignUnknownKey signs with a key the server does not publish, under a kid it does
	// not know.
	SignUnknownKey SignKey = "unknown"
	// SignForged signs with another key under the published kid.
	SignForged SignKey = "forged"
)

// SignRequest is what to sign: the claims, header fields beside alg and kid (ALB's
// signer, client, iss, exp), which key, and whether to keep base64 padding, as AWS
// load balancers do.
type SignRequest struct {
	Claims map[string]any `json:"claims"`
	Header map[string]any `json:"header,omitempty"`
	Key    SignKey        `json:"key,omitempty"`
	Pad    bool           `json:"pad,omitempty"`
}

var ecKeys struct {
	mu   sync.Mutex
	keys []*ecdsa.PrivateKey
}

// ecKey returns the process's i-th P-256 key.
func ecKey(i int) *ecdsa.PrivateKey {
	ecKeys.mu.Lock()
	defer ecKeys.mu.Unlock()
	for len(ecKeys.keys) <= i {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(fmt.Sprintf("mockvendor: generate EC key: %v", err))
		}
		ecKeys.keys = append(ecKeys.keys, k)
	}
	return ecKeys.keys[i]
}

// Sign signs req as the personality's proxy (IAP, ALB: ES256) or IdP (RS256).
func (s *Server) Sign(req SignRequest) (string, error) {
	var method jwt.SigningMethod = jwt.SigningMethodES256
	var good, other any = ecKey(0), ecKey(1)
	kid := ""
	switch s.opts.Personality {
	case GCPIAP:
		kid = IAPKID
	case AWSALB:
		kid = ALBKID
	case OAuth2ProxyIdP:
		method, good, other, kid = jwt.SigningMethodRS256, mockkit.Key(1), mockkit.Key(0), OIDCKID
	default:
		return "", fmt.Errorf("mockvendor: %s signs no proxy headers", s.opts.Personality)
	}
	key := good
	switch req.Key {
	case SignPublished:
	case SignUnknownKey:
		key, kid = other, unknownKID
	case SignForged:
		key = other
	default:
		return "", fmt.Errorf("mockvendor: unknown key %q", req.Key)
	}
	hdr := map[string]any{"alg": method.Alg(), "kid": kid}
	if s.opts.Personality == GCPIAP {
		hdr["typ"] = "JWT"
	}
	for k, v := range req.Header {
		hdr[k] = v
	}
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		if req.Pad {
			return base64.URLEncoding.EncodeToString(b), nil
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	h, err := enc(hdr)
	if err != nil {
		return "", err
	}
	c, err := enc(req.Claims)
	if err != nil {
		return "", err
	}
	sig, err := method.Sign(h+"."+c, key)
	if err != nil {
		return "", err
	}
	if req.Pad {
		return h + "." + c + "." + base64.URLEncoding.EncodeToString(sig), nil
	}
	return h + "." + c + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func ecJWK(pub *ecdsa.PublicKey, kid string) map[string]any {
	b64 := base64.RawURLEncoding
	pad := func(n *big.Int) string { return b64.EncodeToString(n.FillBytes(make([]byte, 32))) }
	return map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": pad(pub.X), "y": pad(pub.Y)}
}

func pemOf(pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(fmt.Sprintf("mockvendor: marshal public key: %v", err))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// gcpIAPRoutes serve www.gstatic.com's IAP keys.
func (s *Server) gcpIAPRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+IAPJWKPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"keys": []any{ecJWK(&ecKey(0).PublicKey, IAPKID)}})
	})
	mux.HandleFunc("GET "+IAPPEMPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		mockkit.WriteJSON(w, http.StatusOK, map[string]string{IAPKID: pemOf(&ecKey(0).PublicKey)})
	})
	mux.HandleFunc("POST "+SignPath, mintHandler("token", s.Sign))
}

// awsALBRoutes serve a region's load balancer keys: GET /<kid> is the PEM.
func (s *Server) awsALBRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{kid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("kid") != ALBKID {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
			return
		}
		w.Header().Set("Content-Type", "binary/octet-stream")
		_, _ = io.WriteString(w, pemOf(&ecKey(0).PublicKey))
	})
	mux.HandleFunc("POST "+SignPath, mintHandler("token", s.Sign))
}

// oauth2ProxyIdPRoutes serve the discovery document and keys of the IdP behind an
// oauth2-proxy.
func (s *Server) oauth2ProxyIdPRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		origin := vendorOrigin(r, "")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{
			"issuer": origin, "authorization_endpoint": origin + "/authorize", "token_endpoint": origin + "/token",
			"jwks_uri": origin + OIDCJWKSPath, "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+OIDCJWKSPath, func(w http.ResponseWriter, _ *http.Request) { writeJWKS(w, OIDCKID) })
	mux.HandleFunc("POST "+SignPath, mintHandler("token", s.Sign))
}
