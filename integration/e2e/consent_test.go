package e2e_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserConsentPage: in headless Chromium, /v1/authorize sends the browser to the
// demo's consent page, which shows the client, signs the user in through the popup
// (mock Palette, local catalog), approves with that user's token and lands on the
// client's callback with a code; the code is exchanged for alice's token.
func TestBrowserConsentPage(t *testing.T) {
	h := requireE2E(t)
	dir := t.TempDir()
	logDir := h.logDir(t)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "callback") }))
	t.Cleanup(callback.Close)
	redirect := callback.URL + "/callback"

	mockPort := freePort(t)
	mockURL := fmt.Sprintf("http://127.0.0.1:%d", mockPort)
	startProc(t, logDir, procSpec{
		name: "mockpalette", path: filepath.Join(h.binDir, "mockpalette"), dir: dir,
		args: []string{"--listen", fmt.Sprintf("127.0.0.1:%d", mockPort), "--tenant", mockTenant, "--client-id", mockClientID, "--client-secret", mockSecret},
	})
	waitHTTP(t, nil, fmt.Sprintf("%s/v1/oidc/tenant/%s/.well-known/openid-configuration", mockURL, mockTenant), nil, 200, 30*time.Second)
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte(orgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app": m{"baseUrl": base},
		"backend": m{
			"baseUrl": base, "listen": m{"host": "127.0.0.1", "port": port},
			"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
		},
		"auth": m{
			"session": m{"secret": "e2e-session-" + randHex(t, 16)},
			"providers": m{"spectrocloud": m{"development": m{
				"clientId": mockClientID, "clientSecret": mockSecret,
				"authorizationUrl": fmt.Sprintf("%s/v1/oidc/tenant/%s/auth", mockURL, mockTenant),
				"scope":            "openid profile email",
				"signIn":           m{"resolvers": []m{{"resolver": "emailMatchingUserEntityProfileEmail"}}},
			}}},
			"staticClients": []m{{"clientId": "desktop-tool", "clientName": "Desktop tool", "redirectUris": []string{redirect}}},
		},
		"authbackend": m{"demoPage": m{"enabled": true}},
		"catalog": m{
			"rules":     []m{{"allow": []string{"User", "Group"}}},
			"locations": []m{{"type": "file", "target": org}},
		},
	})
	p := startProc(t, logDir, procSpec{name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir,
		args: []string{"--config", cfg}, env: []string{"NODE_ENV=production"}})
	waitHTTP(t, p, base+readyPath, nil, 200, 30*time.Second)

	const verifier = "consent-page-verifier-0123456789-abcdefghijklmnopq"
	sum := sha256.Sum256([]byte(verifier))
	authorize := base + "/api/auth/v1/authorize?" + url.Values{"client_id": {"desktop-tool"}, "redirect_uri": {redirect},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"st"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
	arg, _ := json.Marshal(m{"authorizeUrl": authorize, "callbackPrefix": redirect})
	cmd := exec.Command("node", filepath.Join(h.nodeDir, "consent-browser.mjs"), string(arg))
	cmd.Dir = h.nodeDir
	cmd.Env = append(os.Environ(), "CHROMIUM_PATH="+chromiumPath)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("consent-browser.mjs: %v\n%s", err, raw)
	}
	var got struct {
		ConsentURL   string `json:"consentUrl"`
		Client       string
		Scope        string
		RedirectHost string `json:"redirectHost"`
		Status       string
		FinalURL     string   `json:"finalUrl"`
		PageErrors   []string `json:"pageErrors"`
		Error        string
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("consent-browser.mjs output: %v\n%s", err, raw)
	}
	if got.Error != "" || len(got.PageErrors) > 0 {
		t.Fatalf("browser: %s %v", got.Error, got.PageErrors)
	}
	if !strings.HasPrefix(got.ConsentURL, base+"/oauth2/authorize/") || got.Client != "Desktop tool" || got.Scope != "openid" ||
		got.RedirectHost != strings.TrimPrefix(callback.URL, "http://") || got.Status != "Signed in as user:default/alice" {
		t.Fatalf("consent page: %+v", got)
	}
	final, err := url.Parse(got.FinalURL)
	if err != nil || final.Query().Get("state") != "st" || final.Query().Get("code") == "" {
		t.Fatalf("callback URL %s", got.FinalURL)
	}
	res := doHTTP(t, nil, http.MethodPost, base+"/api/auth/v1/token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {final.Query().Get("code")}, "redirect_uri": {redirect},
			"code_verifier": {verifier}, "client_id": {"desktop-tool"}}.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.json(t, &tok)
	ui := doHTTP(t, nil, http.MethodGet, base+"/api/auth/v1/userinfo", bearer(tok.AccessToken), nil)
	if ui.Status != 200 || !strings.Contains(string(ui.Body), `"sub":"user:default/alice"`) {
		t.Fatalf("userinfo: %d %s", ui.Status, truncate(ui.Body, 300))
	}
}
