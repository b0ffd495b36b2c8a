package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// signInResult is what our handler/frame page posts to the opener.
type signInResult struct {
	Profile struct {
		Email       string `json:"email"`
		DisplayName string `json:"displayName"`
	} `json:"profile"`
	BackstageIdentity struct {
		Token    string `json:"token"`
		Identity struct {
			Type                string   `json:"type"`
			UserEntityRef       string   `json:"userEntityRef"`
			OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
		} `json:"identity"`
		ExpiresInSeconds int `json:"expiresInSeconds"`
	} `json:"backstageIdentity"`
}

var frameResponseRE = regexp.MustCompile(`var authResponse = decodeURIComponent\('([^']*)'\)`)

// signInPopup runs the popup flow with a cookie jar, as the browser would: /start on
// our server, the mock Palette's authorize (auto-approving the user chosen with
// /_mock/next, alice by default), our handler/frame. It returns the decoded
// authorization_response and the client holding the cookies.
func (s *stack) signInPopup(t *testing.T, email string) (signInResult, *http.Client) {
	t.Helper()
	if email != "" {
		r := doHTTP(t, nil, http.MethodGet, s.mockURL+"/_mock/next?email="+url.QueryEscape(email), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("mock /_mock/next: %d %s", r.Status, r.Body)
		}
	}
	client := newJarClient(t)
	q := url.Values{"env": {"development"}, "scope": {"openid profile email"}, "origin": {s.appOrigin}, "flow": {"popup"}}
	start := s.authBase() + "/spectrocloud/start?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	r := doHTTP(t, client, http.MethodGet, start, nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("popup flow ended with %d: %s", r.Status, truncate(r.Body, 500))
	}
	var res signInResult
	raw := frameResponse(t, r.Body, &res)
	if res.BackstageIdentity.Token == "" {
		t.Fatalf("no Backstage token in %s", raw)
	}
	return res, client
}

// frameResponse decodes the message a handler/frame page (ours or Node's) posts to
// the opener, fails unless it is a successful authorization_response, decodes its
// `response` into into and returns the whole message as JSON.
func frameResponse(t *testing.T, page []byte, into any) string {
	t.Helper()
	mt := frameResponseRE.FindSubmatch(page)
	if mt == nil {
		t.Fatalf("handler/frame page has no authResponse: %s", truncate(page, 500))
	}
	raw, err := url.PathUnescape(string(mt[1]))
	if err != nil {
		t.Fatalf("authResponse is not URI-encoded: %v", err)
	}
	var msg struct {
		Type     string          `json:"type"`
		Error    json.RawMessage `json:"error"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal([]byte(raw), &msg); err != nil {
		t.Fatalf("authResponse: %v: %s", err, raw)
	}
	if msg.Type != "authorization_response" || msg.Error != nil {
		t.Fatalf("sign-in failed: %s", raw)
	}
	if err := json.Unmarshal(msg.Response, into); err != nil {
		t.Fatalf("authResponse.response: %v: %s", err, raw)
	}
	return raw
}

// jwtParts splits a compact JWS and decodes header and payload.
func jwtParts(t *testing.T, token string) (header, payload map[string]any, parts []string) {
	t.Helper()
	parts = strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	for i, into := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWS part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("JWS part %d: %v", i, err)
		}
	}
	return header, payload, parts
}

// jsJSON serialises like JSON.stringify for the flat objects of a limited token:
// no whitespace, given key order, no HTML escaping.
func jsJSON(t *testing.T, kv ...any) []byte {
	t.Helper()
	enc := func(v any) []byte {
		var e bytes.Buffer
		en := json.NewEncoder(&e)
		en.SetEscapeHTML(false)
		if err := en.Encode(v); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimRight(e.Bytes(), "\n")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(enc(kv[i]))
		b.WriteByte(':')
		b.Write(enc(kv[i+1]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// limitedToken rebuilds the limited user token from a full one and its uip, the way
// Backstage verifiers do (BACKSTAGE_AUTH.md 5.3), without any private key.
func limitedToken(t *testing.T, full string) string {
	t.Helper()
	h, p, _ := jwtParts(t, full)
	uip, ok := p["uip"].(string)
	if !ok || uip == "" {
		t.Fatalf("token has no uip: %v", p)
	}
	kv := []any{"typ", "vnd.backstage.limited-user", "alg", h["alg"]}
	if kid, ok := h["kid"]; ok {
		kv = append(kv, "kid", kid)
	}
	header := jsJSON(t, kv...)
	payload := jsJSON(t, "sub", p["sub"], "iat", jsonInt(t, p["iat"]), "exp", jsonInt(t, p["exp"]))
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(payload) + "." + uip
}

func jsonInt(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok || f != float64(int64(f)) {
		t.Fatalf("not an integer claim: %v", v)
	}
	return int64(f)
}

// tamper swaps the payload's sub for another user, keeping the signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	_, p, parts := jwtParts(t, token)
	p["sub"] = "user:default/mallory"
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// backstageError is the standard Backstage error body.
type backstageError struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestStockCatalogBackend is issue 4 item 1 and 2: a stock Node backend with the
// catalog and no auth plugin, discovery pointing `auth` at our server.
func TestStockCatalogBackend(t *testing.T) {
	h := requireE2E(t)
	s := startStack(t, h, stackOptions{})
	catalogUsers := s.nodeDirect + "/api/catalog/entities?filter=kind=user"

	alice, _ := s.signInPopup(t, "")
	token := alice.BackstageIdentity.Token
	if got := alice.BackstageIdentity.Identity.UserEntityRef; got != "user:default/alice" {
		t.Fatalf("signed in as %q, want user:default/alice", got)
	}

	t.Run("user token accepted by the stock catalog", func(t *testing.T) {
		r := doHTTP(t, nil, http.MethodGet, catalogUsers, bearer(token), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("catalog with our token: %d %s", r.Status, truncate(r.Body, 300))
		}
		var entities []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		r.json(t, &entities)
		var names []string
		for _, e := range entities {
			names = append(names, e.Metadata.Name)
		}
		if !slices.Contains(names, "alice") || !slices.Contains(names, "carol") {
			t.Errorf("catalog users = %v, want alice and carol", names)
		}
	})

	t.Run("tampered token rejected", func(t *testing.T) {
		r := doHTTP(t, nil, http.MethodGet, catalogUsers, bearer(tamper(t, token)), nil)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("catalog with a tampered token: %d %s, want 401", r.Status, truncate(r.Body, 300))
		}
		var e backstageError
		r.json(t, &e)
		if e.Error.Name != "AuthenticationError" {
			t.Errorf("error %+v, want AuthenticationError", e.Error)
		}
	})

	t.Run("limited token: catalog 401, our userinfo 200", func(t *testing.T) {
		limited := limitedToken(t, token)
		r := doHTTP(t, nil, http.MethodGet, catalogUsers, bearer(limited), nil)
		if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "Illegal limited user token") {
			t.Fatalf("catalog with the limited token: %d %s, want 401 Illegal limited user token", r.Status, truncate(r.Body, 300))
		}
		r = doHTTP(t, nil, http.MethodGet, s.authDirect+"/api/auth/v1/userinfo", bearer(limited), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("our userinfo with the limited token: %d %s", r.Status, truncate(r.Body, 300))
		}
		var info struct {
			Claims struct {
				Sub string   `json:"sub"`
				Ent []string `json:"ent"`
			} `json:"claims"`
		}
		r.json(t, &info)
		if info.Claims.Sub != "user:default/alice" || !slices.Contains(info.Claims.Ent, "group:default/team-a") {
			t.Errorf("userinfo claims = %+v", info.Claims)
		}
	})

	// Carol exists only in the Node catalog: resolving her proves our server found her
	// through the catalog REST API with plugin tokens the stock catalog accepted.
	carol, _ := s.signInPopup(t, "carol@example.com")
	carolToken := carol.BackstageIdentity.Token

	t.Run("sign-in resolves a user only the Node catalog has", func(t *testing.T) {
		id := carol.BackstageIdentity.Identity
		if id.UserEntityRef != "user:default/carol" {
			t.Fatalf("userEntityRef = %q, want user:default/carol", id.UserEntityRef)
		}
		want := []string{"user:default/carol", "group:default/group-c"}
		if !sameSet(id.OwnershipEntityRefs, want) {
			t.Errorf("ownershipEntityRefs = %v, want %v", id.OwnershipEntityRefs, want)
		}
		r := doHTTP(t, nil, http.MethodGet, s.authDirect+"/api/auth/.backstage/auth/v1/jwks.json", nil, nil)
		var jwks struct {
			Keys []map[string]any `json:"keys"`
		}
		r.json(t, &jwks)
		if r.Status != http.StatusOK || len(jwks.Keys) == 0 {
			t.Errorf("plugin-token JWKS after a remote catalog lookup: %d %s, want keys", r.Status, truncate(r.Body, 300))
		}
	})

	t.Run("ownership through userInfo service without ent", func(t *testing.T) {
		if _, p, _ := jwtParts(t, carolToken); p["ent"] != nil {
			t.Fatalf("token carries ent %v; this check needs it omitted (the default)", p["ent"])
		}
		r := doHTTP(t, nil, http.MethodGet, s.nodeDirect+"/api/whoami/ownership", bearer(carolToken), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("whoami: %d %s", r.Status, truncate(r.Body, 300))
		}
		var who struct {
			UserEntityRef       string   `json:"userEntityRef"`
			OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
		}
		r.json(t, &who)
		if who.UserEntityRef != "user:default/carol" || !sameSet(who.OwnershipEntityRefs, []string{"user:default/carol", "group:default/group-c"}) {
			t.Errorf("whoami = %+v", who)
		}
		// The limited token is refused by the whoami route (user credentials only).
		r = doHTTP(t, nil, http.MethodGet, s.nodeDirect+"/api/whoami/ownership", bearer(limitedToken(t, carolToken)), nil)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("whoami with a limited token: %d, want 401", r.Status)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
