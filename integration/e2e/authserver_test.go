package e2e_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMCPSDKAuthFlow: the Model Context Protocol TypeScript SDK's OAuth client
// (auth() with a client-metadata URL, integration/node/mcp-auth.mjs) completes against
// our authorization server: RFC 9728 resource metadata (served by the script as the
// MCP server would) names our /api/auth, the SDK discovers it through RFC 8414,
// identifies itself with an https Client ID Metadata Document (served by this test
// over TLS, trusted through SSL_CERT_FILE), the consent is approved with a guest
// user's token, the code exchanged, and a second auth() refreshes.
func TestMCPSDKAuthFlow(t *testing.T) {
	h := requireE2E(t)
	dir := t.TempDir()
	redirect := "http://127.0.0.1:33418/callback"

	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mcp/client.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id":"https://%s/mcp/client.json","client_name":"e2e MCP client","redirect_uris":[%q],"token_endpoint_auth_method":"none"}`, r.Host, redirect)
	}))
	t.Cleanup(docs.Close)
	clientID := docs.URL + "/mcp/client.json"
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: docs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	base, userToken := startOurAuthServer(t, h, dir, m{
		"providers": m{"guest": m{"dangerouslyAllowOutsideDevelopment": true}},
		"clientIdMetadataDocuments": m{
			"enabled": true,
			// An exact pattern: the operator names the document, so its (loopback)
			// address is not checked, as in Backstage.
			"allowedClientIdPatterns": []string{clientID},
		},
		"experimentalRefreshToken": m{"enabled": true},
	}, "SSL_CERT_FILE="+caFile, "NODE_ENV=production")

	cmd := exec.Command("node", filepath.Join(h.nodeDir, "mcp-auth.mjs"))
	cmd.Dir = h.nodeDir
	cmd.Env = append(os.Environ(), "AUTH_BASE="+base+"/api/auth", "CLIENT_ID="+clientID,
		"USER_TOKEN="+userToken, "REDIRECT_URI="+redirect)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mcp-auth.mjs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got struct {
		First, Second, Third string
		AuthorizationURL     string `json:"authorizationUrl"`
		AuthorizeStatus      int    `json:"authorizeStatus"`
		Session              map[string]any
		State                string
		TokenType            string `json:"tokenType"`
		Scope                string
		HasRefresh           bool `json:"hasRefresh"`
		Rotated              bool
		Userinfo             map[string]any
		Replay               struct {
			Status int
			Body   map[string]any
		}
		Error string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("mcp-auth.mjs output: %v\n%s", err, out)
	}
	if got.Error != "" {
		t.Fatalf("SDK flow failed: %s\n%s", got.Error, out)
	}
	if got.First != "REDIRECT" || got.Second != "AUTHORIZED" || got.Third != "AUTHORIZED" {
		t.Fatalf("auth() results %q %q %q", got.First, got.Second, got.Third)
	}
	if !strings.HasPrefix(got.AuthorizationURL, base+"/api/auth/v1/authorize?") || got.AuthorizeStatus != 302 {
		t.Fatalf("authorization URL %s (%d)", got.AuthorizationURL, got.AuthorizeStatus)
	}
	if got.Session["clientName"] != "e2e MCP client" || got.Session["clientId"] != clientID || got.State != "e2e-state" {
		t.Fatalf("consent session %v, state %q", got.Session, got.State)
	}
	if strings.ToLower(got.TokenType) != "bearer" || !got.HasRefresh || !got.Rotated {
		t.Fatalf("tokens: type %q refresh %v rotated %v scope %q", got.TokenType, got.HasRefresh, got.Rotated, got.Scope)
	}
	if claims, _ := got.Userinfo["claims"].(map[string]any); claims["sub"] != "user:development/guest" {
		t.Fatalf("userinfo with the SDK's access token: %v", got.Userinfo)
	}
	if got.Replay.Status != 400 || got.Replay.Body["error"] != "invalid_grant" {
		t.Fatalf("replay of the rotated refresh token: %d %v", got.Replay.Status, got.Replay.Body)
	}
}

// TestBackstageCLILogin: @backstage/cli-module-auth's own `auth login` command code
// (integration/node/cli-login.cjs) signs in with the CLI's cli.json client, PKCE and
// its callback server on 127.0.0.1:8055, the consent approved with a guest user's
// token; `auth print-token` with the access token marked expired refreshes it.
func TestBackstageCLILogin(t *testing.T) {
	h := requireE2E(t)
	dir := t.TempDir()
	// Development mode: the CLI's client id is this http://127.0.0.1 backend's cli.json.
	base, userToken := startOurAuthServer(t, h, dir, m{
		"providers":                 m{"guest": m{}},
		"clientIdMetadataDocuments": m{"enabled": true},
		"experimentalRefreshToken":  m{"enabled": true},
	}, "NODE_ENV=development")

	cmd := exec.Command("node", filepath.Join(h.nodeDir, "cli-login.cjs"))
	cmd.Dir = h.nodeDir
	cmd.Env = append(os.Environ(), "BACKEND_URL="+base, "USER_TOKEN="+userToken,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cli-login.cjs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got struct {
		AuthorizeURL   string `json:"authorizeURL"`
		Session        map[string]any
		Callback       string
		LoginOutput    bool   `json:"loginOutput"`
		ClientID       string `json:"clientId"`
		RefreshedToken string `json:"refreshedToken"`
		UserinfoStatus int    `json:"userinfoStatus"`
		Userinfo       map[string]any
		Error          string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("cli-login.cjs output: %v\n%s", err, out)
	}
	if got.Error != "" {
		t.Fatalf("CLI login failed: %s\n%s", got.Error, out)
	}
	cli := base + "/api/auth/.well-known/oauth-client/cli.json"
	if got.Session["clientName"] != "Backstage CLI" || got.ClientID != cli || !got.LoginOutput || got.Callback != "You may now close this window." {
		t.Fatalf("login: %+v", got)
	}
	if claims, _ := got.Userinfo["claims"].(map[string]any); got.UserinfoStatus != 200 || claims["sub"] != "user:development/guest" {
		t.Fatalf("refreshed token's userinfo: %d %v", got.UserinfoStatus, got.Userinfo)
	}
}

// startOurAuthServer starts our binary with SQLite, a local catalog holding the guest
// user (user:development/guest, whom the refresh grant's presence check finds) and the
// given auth keys; it returns the base URL and a guest user token.
func startOurAuthServer(t *testing.T, h *harness, dir string, auth m, env ...string) (base, userToken string) {
	t.Helper()
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: guest\n  namespace: development\nspec: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	auth["session"] = m{"secret": "e2e-session-" + randHex(t, 16)}
	cfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app": m{"baseUrl": "http://127.0.0.1:3000"},
		"backend": m{
			"baseUrl":  base,
			"listen":   m{"host": "127.0.0.1", "port": port},
			"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
		},
		"auth": auth,
		"catalog": m{
			"rules":     []m{{"allow": []string{"User"}}},
			"locations": []m{{"type": "file", "target": org}},
		},
	})
	p := startProc(t, h.logDir(t), procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir, args: []string{"--config", cfg}, env: env,
	})
	waitHTTP(t, p, base+readyPath, nil, 200, 30*time.Second)
	return base, guestToken(t, base)
}
