package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
)

// githubStub answers as github.com and api.github.com do for an OAuth App sign-in,
// and serves an OIDC discovery document under github.com for our server's
// spectrocloud provider (which has no GitHub support yet, only this proof of reach).
type githubStub struct {
	clientID, clientSecret string

	mu        sync.Mutex
	exchanges []url.Values // bodies of POST /login/oauth/access_token
}

const (
	stubCode        = "e2e-github-code"
	stubAccessToken = "gho_e2eStubAccessToken"
	stubIssuer      = "https://github.com/v1/oidc/tenant/" + mockTenant
)

func (g *githubStub) handler() http.Handler {
	web := http.NewServeMux()
	web.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != g.clientID || q.Get("response_type") != "code" || q.Get("state") == "" {
			http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || !back.IsAbs() {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		bq := back.Query()
		bq.Set("code", stubCode)
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	web.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.exchanges = append(g.exchanges, r.PostForm)
		g.mu.Unlock()
		// GitHub answers form-encoded unless asked for JSON, and 200 even on errors.
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if r.PostForm.Get("code") != stubCode || r.PostForm.Get("client_id") != g.clientID || r.PostForm.Get("client_secret") != g.clientSecret {
			fmt.Fprint(w, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.")
			return
		}
		fmt.Fprint(w, url.Values{"access_token": {stubAccessToken}, "scope": {"read:user"}, "token_type": {"bearer"}}.Encode())
	})
	web.HandleFunc("GET /v1/oidc/tenant/"+mockTenant+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m{
			"issuer":                                stubIssuer,
			"authorization_endpoint":                "https://github.com/login/oauth/authorize",
			"token_endpoint":                        "https://github.com/login/oauth/access_token",
			"userinfo_endpoint":                     "https://api.github.com/user",
			"jwks_uri":                              stubIssuer + "/keys",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	api := http.NewServeMux()
	api.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+stubAccessToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"login":"octo-e2e","id":4242,"name":"Octo E2E","email":"octo@example.com","avatar_url":"https://avatars.githubusercontent.com/u/4242"}`)
	})
	return vendornet.HostMux{"github.com": web, "api.github.com": api}
}

// TestVendorNetChain proves the chain the differential provider tests stand on: the
// stock Node auth backend with the real GitHub module, inside a vendornet namespace,
// signs a user in against a stub it reaches as https://github.com with a trusted
// certificate; and our Go server inside the same namespace reaches the same stub.
func TestVendorNetChain(t *testing.T) {
	h := requireE2E(t)
	vn := vendornet.New(t)
	logDir, dir := h.logDir(t), t.TempDir()
	stub := &githubStub{clientID: "e2e-gh-client", clientSecret: "e2e-gh-secret-" + randHex(t, 8)}
	mock := vn.Listen443(stub.handler())

	nodePort, ourPort := vn.Port(), vn.Port()
	nodeURL, ourURL := vn.URL(nodePort), vn.URL(ourPort)
	nodeCfg := writeYAML(t, dir, "node-auth.yaml", m{
		"app": m{"baseUrl": "http://app.e2e.test:3000"},
		"backend": m{
			"baseUrl":  nodeURL,
			"listen":   m{"host": vn.Addr(), "port": nodePort},
			"database": m{"client": "better-sqlite3", "connection": ":memory:"},
		},
		"auth": m{
			"environment": "development",
			"providers": m{"github": m{"development": m{
				"clientId": stub.clientID, "clientSecret": stub.clientSecret,
			}}},
		},
	})
	spec := nodeBackendSpec(h, "node-auth-github", "auth-modules", nodeCfg, []string{"E2E_AUTH_MODULES=github"})
	spec.netns = vn
	nodeProc := startProc(t, logDir, spec)

	ourCfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app": m{"baseUrl": "http://app.e2e.test:3000"},
		"backend": m{
			"baseUrl":  ourURL,
			"listen":   m{"host": vn.Addr(), "port": ourPort},
			"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
		},
		"auth": m{
			"environment": "development",
			"session":     m{"secret": "e2e-session-" + randHex(t, 16)},
			"providers": m{"spectrocloud": m{"development": m{
				"clientId": stub.clientID, "clientSecret": stub.clientSecret,
				"authorizationUrl": stubIssuer + "/auth",
			}}},
		},
	})
	ourProc := startProc(t, logDir, procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir, netns: vn,
		args: []string{"--config", ourCfg},
	})
	waitHTTP(t, ourProc, ourURL+readyPath, nil, 200, 30*time.Second)
	waitHTTP(t, nodeProc, nodeURL+readyPath, nil, 200, 90*time.Second)

	t.Run("Node module signs in against the stub github.com", func(t *testing.T) {
		client := vn.Client()
		client.Jar = newJarClient(t).Jar
		var hops []string
		client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			hops = append(hops, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
			return nil
		}
		r := doHTTP(t, client, http.MethodGet, nodeURL+"/api/auth/github/start?env=development", nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("flow ended with %d after %q: %s", r.Status, hops, truncate(r.Body, 500))
		}
		want := []string{"https://github.com/login/oauth/authorize", nodeURL + "/api/auth/github/handler/frame"}
		if !slices.Equal(hops, want) {
			t.Errorf("redirects %q, want %q", hops, want)
		}
		var res struct {
			Profile      struct{ DisplayName, Email, Picture string } `json:"profile"`
			ProviderInfo struct {
				AccessToken string `json:"accessToken"`
				Scope       string `json:"scope"`
			} `json:"providerInfo"`
		}
		raw := frameResponse(t, r.Body, &res)
		if res.ProviderInfo.AccessToken != stubAccessToken || res.Profile.DisplayName != "Octo E2E" || res.Profile.Email != "octo@example.com" {
			t.Errorf("frame response does not carry the stub's token and profile: %s", raw)
		}
		stub.mu.Lock()
		defer stub.mu.Unlock()
		if len(stub.exchanges) != 1 || stub.exchanges[0].Get("redirect_uri") != nodeURL+"/api/auth/github/handler/frame" {
			t.Errorf("token exchanges seen by the stub: %v", stub.exchanges)
		}
		for _, want := range []string{"GET github.com/login/oauth/authorize -> 302", "POST github.com/login/oauth/access_token -> 200", "GET api.github.com/user -> 200"} {
			if !slices.Contains(mock.Requests(), want) {
				t.Errorf("stub log %q lacks %q", mock.Requests(), want)
			}
		}
	})

	t.Run("our Go server reaches the stub with the CA env", func(t *testing.T) {
		client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r := doHTTP(t, client, http.MethodGet, ourURL+"/api/auth/spectrocloud/start?env=development", nil, nil)
		loc := r.Header.Get("Location")
		// The authorize endpoint is only known from the stub's discovery document.
		if r.Status != http.StatusFound || !strings.HasPrefix(loc, "https://github.com/login/oauth/authorize?") {
			t.Fatalf("start: %d Location %q: %s", r.Status, loc, truncate(r.Body, 300))
		}
		want := "GET github.com/v1/oidc/tenant/" + mockTenant + "/.well-known/openid-configuration -> 200"
		if !slices.Contains(mock.Requests(), want) {
			t.Errorf("stub log %q lacks %q", mock.Requests(), want)
		}
	})
}
