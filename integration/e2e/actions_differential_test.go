package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDifferentialActions: the stock Node auth backend (its actions registry with
// auth:who-am-i, the catalog beside it) and ours answer the same actions requests
// alike: the listing byte for byte, errors by status, name and message, who-am-i's
// userInfo exactly and its entity by kind and name (Node's catalog adds uid, etag and
// relations to the entity; ours is the sign-in catalog's view).
func TestDifferentialActions(t *testing.T) {
	h := requireE2E(t)
	logDir, dir := h.logDir(t), t.TempDir()
	org := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(org, []byte("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: guest\n  namespace: development\nspec:\n  memberOf: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	static := "e2e-static-" + randHex(t, 16)
	secret := "e2e-session-" + randHex(t, 16)
	config := func(name string, port int, db m) string {
		return writeYAML(t, dir, name+".yaml", m{
			"app": m{"baseUrl": "http://127.0.0.1:3000"},
			"backend": m{
				"baseUrl": fmt.Sprintf("http://127.0.0.1:%d", port), "listen": m{"host": "127.0.0.1", "port": port}, "database": db,
				"auth": m{"externalAccess": []m{{"type": "static", "options": m{"token": static, "subject": "e2e-ops"}}}},
			},
			"auth": m{"session": m{"secret": secret}, "providers": m{"guest": m{"dangerouslyAllowOutsideDevelopment": true}}},
			"catalog": m{
				"rules":     []m{{"allow": []string{"User"}}},
				"locations": []m{{"type": "file", "target": org}},
			},
		})
	}
	nodePort, ourPort := freePort(t), freePort(t)
	nodeBase, ourBase := fmt.Sprintf("http://127.0.0.1:%d", nodePort), fmt.Sprintf("http://127.0.0.1:%d", ourPort)
	nodeProc := startNodeBackend(t, h, logDir, "node-auth-actions", "auth",
		config("node", nodePort, m{"client": "better-sqlite3", "connection": ":memory:"}), []string{"E2E_BACKEND_EXTRA=catalog"})
	ourProc := startProc(t, logDir, procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir,
		args: []string{"--config", config("ours", ourPort, m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}})},
	})
	waitHTTP(t, ourProc, ourBase+readyPath, nil, 200, 30*time.Second)
	waitHTTP(t, nodeProc, nodeBase+readyPath, nil, 200, 90*time.Second)
	waitHTTP(t, nodeProc, nodeBase+"/api/catalog/entities/by-name/user/development/guest", bearer(static), 200, 90*time.Second)
	users := map[string]string{nodeBase: guestToken(t, nodeBase), ourBase: guestToken(t, ourBase)}

	type answer struct {
		status int
		body   []byte
	}
	ask := func(base, method, path, token, body string) answer {
		t.Helper()
		hdr := http.Header{"Content-Type": {"application/json"}}
		switch token {
		case "user":
			hdr.Set("Authorization", "Bearer "+users[base])
		case "":
		default:
			hdr.Set("Authorization", "Bearer "+token)
		}
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		} else {
			rd = strings.NewReader("")
		}
		r := doHTTP(t, nil, method, base+"/api/auth"+path, hdr, rd)
		return answer{r.Status, r.Body}
	}
	errOf := func(b []byte) string {
		var e struct {
			Error struct{ Name, Message string }
		}
		_ = json.Unmarshal(b, &e)
		return e.Error.Name + ": " + e.Error.Message
	}
	invoke := "/.backstage/actions/v1/actions/auth%3Awho-am-i/invoke"
	rows := []struct {
		name, method, path, token, body string
		exact                           bool // bodies byte for byte (else errors by name and message)
	}{
		{"list (service)", "GET", "/.backstage/actions/v1/actions", static, "", true},
		{"list (user)", "GET", "/.backstage/actions/v1/actions", "user", "", true},
		{"list (anonymous)", "GET", "/.backstage/actions/v1/actions", "", "", false},
		{"list (garbage token)", "GET", "/.backstage/actions/v1/actions", "garbage", "", false},
		{"status (service)", "GET", "/.backstage/actions/v1/status", static, "", true},
		{"status (user)", "GET", "/.backstage/actions/v1/status", "user", "", false},
		{"status (anonymous)", "GET", "/.backstage/actions/v1/status", "", "", false},
		{"invoke (service)", "POST", invoke, static, "{}", false},
		{"invoke (anonymous)", "POST", invoke, "", "{}", false},
		{"invoke unknown action (anonymous)", "POST", "/.backstage/actions/v1/actions/auth%3Anope/invoke", "", "{}", false},
		{"invoke (garbage token)", "POST", invoke, "garbage", "{}", false},
		{"invoke unknown action", "POST", "/.backstage/actions/v1/actions/auth%3Anope/invoke", "user", "{}", false},
		{"invoke array input", "POST", invoke, "user", "[]", false},
		{"v2 with secrets", "POST", "/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke", "user", `{"input":{},"secrets":{"a":"b"}}`, false},
		{"v2 without input", "POST", "/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke", "user", `{}`, false},
		{"v2 string input", "POST", "/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke", "user", `{"input":"x"}`, false},
		{"v2 number input", "POST", "/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke", "user", `{"input":1.5}`, false},
		{"v2 null secrets", "POST", "/.backstage/actions/v2/actions/auth%3Awho-am-i/invoke", "user", `{"input":{},"secrets":null}`, false},
		{"v1 extra input keys", "POST", invoke, "user", `{"a":1}`, false},
		{"v1 no JSON content type", "POST", invoke, "user", ``, false},
	}
	for _, row := range rows {
		n, o := ask(nodeBase, row.method, row.path, row.token, row.body), ask(ourBase, row.method, row.path, row.token, row.body)
		switch {
		case n.status != o.status:
			t.Errorf("%s: status Node %d (%s), ours %d (%s)", row.name, n.status, truncate(n.body, 300), o.status, truncate(o.body, 300))
		case row.exact && string(n.body) != string(o.body):
			t.Errorf("%s: bodies differ\nNode %s\nours %s", row.name, n.body, o.body)
		case !row.exact && errOf(n.body) != errOf(o.body):
			t.Errorf("%s: errors differ: Node %q, ours %q", row.name, errOf(n.body), errOf(o.body))
		default:
			t.Logf("%s: %d %s", row.name, n.status, truncate(n.body, 120))
		}
	}

	// who-am-i for each side's own guest token.
	type whoAmI struct {
		Output struct {
			Entity struct {
				Kind     string
				Metadata struct{ Name, Namespace string }
			}
			UserInfo json.RawMessage
		}
	}
	var got [2]whoAmI
	for i, base := range []string{nodeBase, ourBase} {
		a := ask(base, "POST", invoke, "user", "{}")
		if a.status != 200 || json.Unmarshal(a.body, &got[i]) != nil {
			t.Fatalf("who-am-i at %s: %d %s", base, a.status, truncate(a.body, 500))
		}
	}
	if string(got[0].Output.UserInfo) != string(got[1].Output.UserInfo) || got[0].Output.Entity != got[1].Output.Entity ||
		got[1].Output.Entity.Metadata.Name != "guest" {
		t.Fatalf("who-am-i differs: Node %+v %s, ours %+v %s", got[0].Output.Entity, got[0].Output.UserInfo, got[1].Output.Entity, got[1].Output.UserInfo)
	}
}
