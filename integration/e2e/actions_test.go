package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMCPActionsWhoAmI: @backstage/plugin-mcp-actions-backend in a stock Node backend
// (backend.js mode mcp, no auth plugin, discovery pointing `auth` at us) lists and
// invokes our auth:who-am-i action for an MCP client whose token came from our
// /v1/token. The plugin authenticates the client's token with our user keys, then
// calls our actions routes with its own plugin token on behalf of the user (obo = the
// limited form of that token), which we verify with the keys the Node backend
// publishes at /api/mcp-actions/.backstage/auth/v1/jwks.json.
func TestMCPActionsWhoAmI(t *testing.T) {
	h := requireE2E(t)
	dir := t.TempDir()
	ourPort, nodePort := freePort(t), freePort(t)
	ours := fmt.Sprintf("http://127.0.0.1:%d", ourPort)
	node := fmt.Sprintf("http://127.0.0.1:%d", nodePort)
	redirect := "http://127.0.0.1:33419/cb"

	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: guest\n  namespace: development\nspec:\n  memberOf: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ourCfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app": m{"baseUrl": "http://127.0.0.1:3000"},
		"backend": m{
			"baseUrl":  ours,
			"listen":   m{"host": "127.0.0.1", "port": ourPort},
			"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
		},
		"auth": m{
			"session":       m{"secret": "e2e-session-" + randHex(t, 16)},
			"providers":     m{"guest": m{"dangerouslyAllowOutsideDevelopment": true}},
			"staticClients": []m{{"clientId": "e2e-mcp", "clientName": "e2e MCP client", "redirectUris": []string{redirect}}},
		},
		// The Node backend's plugins (mcp-actions) publish their keys there.
		"discovery": m{"endpoints": []m{{"target": node + "/api/{{pluginId}}", "plugins": []string{"mcp-actions"}}}},
		"catalog": m{
			"rules":     []m{{"allow": []string{"User"}}},
			"locations": []m{{"type": "file", "target": org}},
		},
	})
	ourProc := startProc(t, h.logDir(t), procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir, args: []string{"--config", ourCfg},
	})
	nodeCfg := writeYAML(t, dir, "node-backend.yaml", m{
		"app": m{"baseUrl": "http://127.0.0.1:3000"},
		"backend": m{
			"baseUrl":  node,
			"listen":   m{"host": "127.0.0.1", "port": nodePort},
			"database": m{"client": "better-sqlite3", "connection": ":memory:"},
			"actions":  m{"pluginSources": []string{"auth"}},
		},
		"discovery": m{"endpoints": []m{{"target": ours + "/api/{{pluginId}}", "plugins": []string{"auth"}}}},
		"catalog":   m{"rules": []m{{"allow": []string{"User"}}}},
	})
	nodeProc := startNodeBackend(t, h, h.logDir(t), "node-mcp", "mcp", nodeCfg, nil)
	waitHTTP(t, ourProc, ours+readyPath, nil, 200, 30*time.Second)
	waitHTTP(t, nodeProc, node+readyPath, nil, 200, 90*time.Second)

	// The MCP client's token: consent approved by the guest, code exchanged at /v1/token.
	verifier := "e2e-verifier-" + randHex(t, 24)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"e2e-mcp"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := doHTTP(t, noFollow, http.MethodGet, ours+"/api/auth/v1/authorize?"+q.Encode(), nil, nil)
	session := strings.TrimPrefix(r.Header.Get("Location"), "http://127.0.0.1:3000/oauth2/authorize/")
	if r.Status != http.StatusFound || session == r.Header.Get("Location") {
		t.Fatalf("authorize: %d %s", r.Status, r.Header.Get("Location"))
	}
	r = doHTTP(t, nil, http.MethodPost, ours+"/api/auth/v1/sessions/"+session+"/approve", bearer(guestToken(t, ours)), nil)
	var approved struct{ RedirectURL string }
	r.json(t, &approved)
	cb, err := url.Parse(approved.RedirectURL)
	if err != nil || cb.Query().Get("code") == "" {
		t.Fatalf("approve: %d %s", r.Status, truncate(r.Body, 300))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {"e2e-mcp"}}
	r = doHTTP(t, nil, http.MethodPost, ours+"/api/auth/v1/token", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader(form.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("token: %d %s", r.Status, truncate(r.Body, 300))
	}

	// The MCP client talks to the Node backend's MCP endpoint (streamable HTTP).
	mcp := func(id int, method string, params any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(m{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		hdr := bearer(tok.AccessToken)
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Accept", "application/json, text/event-stream")
		r := doHTTP(t, nil, http.MethodPost, node+"/api/mcp-actions/v1", hdr, bytes.NewReader(body))
		if r.Status != 200 {
			t.Fatalf("%s: %d %s\n%s", method, r.Status, truncate(r.Body, 500), nodeProc.log())
		}
		return rpcResult(t, method, r.Body)
	}
	mcp(1, "initialize", m{"protocolVersion": "2025-06-18", "capabilities": m{}, "clientInfo": m{"name": "e2e", "version": "1"}})
	list := mcp(2, "tools/list", m{})
	tools, _ := dig(list, "result", "tools").([]any)
	var names []string
	for _, tl := range tools {
		names = append(names, fmt.Sprint(dig(tl, "name")))
	}
	if !strings.Contains(strings.Join(names, ","), "auth.who-am-i") {
		t.Fatalf("tools/list has no auth.who-am-i: %v\n%s\n%s", list, nodeProc.log(), ourProc.log())
	}
	call := mcp(3, "tools/call", m{"name": "auth.who-am-i", "arguments": m{}})
	if dig(call, "result", "isError") == true || dig(call, "result", "structuredContent", "userInfo", "userEntityRef") != "user:development/guest" ||
		dig(call, "result", "structuredContent", "entity", "metadata", "name") != "guest" {
		t.Fatalf("tools/call auth.who-am-i: %v\n%s\n%s", call, nodeProc.log(), ourProc.log())
	}
	if refs, _ := dig(call, "result", "structuredContent", "userInfo", "ownershipEntityRefs").([]any); len(refs) == 0 {
		t.Fatalf("no ownership refs: %v", call)
	}
	// The calls reached us as plugin tokens: we fetched the Node backend's mcp-actions
	// keys (once: the second call was verified from the cache).
	jwks := "GET /api/mcp-actions/.backstage/auth/v1/jwks.json"
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(nodeProc.log(), jwks) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(nodeProc.log(), jwks); n != 1 {
		t.Fatalf("our server fetched the caller's plugin keys %d times, want 1\n%s", n, nodeProc.log())
	}
}

// rpcResult reads the JSON-RPC response of a streamable-HTTP answer (plain JSON or
// one SSE message).
func rpcResult(t *testing.T, method string, body []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if json.Unmarshal(body, &out) == nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &out) == nil {
			if out["error"] != nil {
				t.Fatalf("%s: %v", method, out["error"])
			}
			return out
		}
	}
	t.Fatalf("%s: no JSON-RPC message in %s", method, truncate(body, 500))
	return nil
}

// dig walks nested JSON objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}
