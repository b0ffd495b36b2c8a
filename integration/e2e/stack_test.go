package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// stack is one deployment under test: the mock Palette, our server, a stock Node
// backend with the catalog (no auth plugin), the sign-in page, and optionally nginx
// in front of all three with the examples/nginx route.
type stack struct {
	h      *harness
	logDir string

	mockURL    string // http://127.0.0.1:M
	authDirect string // http://127.0.0.1:A (our server, no proxy)
	nodeDirect string // http://127.0.0.1:B (Node backend, no proxy)
	appOrigin  string // where the browser loads the page (page server, or nginx)
	publicURL  string // origin the browser uses for /api/* (our server, or nginx)

	authProc, nodeProc, mockProc, nginxProc *proc
	staticToken                             string // Node externalAccess token
}

// authBase is the external auth base URL (the `iss` of our tokens).
func (s *stack) authBase() string { return s.publicURL + "/api/auth" }

type stackOptions struct {
	// proxy puts nginx (examples/nginx/backstage-auth.conf) in front: page, backend
	// and auth on one origin. Without it the page is served from its own origin and
	// our server answers it with CORS.
	proxy bool
}

// The Node catalog: alice (also known to the mock Palette) and carol, who exists ONLY
// here; our server has no catalog of its own in these stacks.
const orgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
spec:
  profile:
    displayName: Alice Smith
    email: alice@example.com
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: carol
spec:
  profile:
    displayName: Carol Only-In-Node
    email: carol@example.com
  memberOf: [group-c]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: group-c
spec:
  type: team
  children: []
`

func startStack(t *testing.T, h *harness, opts stackOptions) *stack {
	t.Helper()
	began := time.Now()
	s := &stack{h: h, logDir: h.logDir(t), staticToken: "e2e-static-" + randHex(t, 16)}
	dir := t.TempDir()
	mockPort, authPort, nodePort := freePort(t), freePort(t), freePort(t)
	s.mockURL = fmt.Sprintf("http://127.0.0.1:%d", mockPort)
	s.authDirect = fmt.Sprintf("http://127.0.0.1:%d", authPort)
	s.nodeDirect = fmt.Sprintf("http://127.0.0.1:%d", nodePort)

	// The page server: the bundle plus a config.json naming the discovery pattern.
	var pageCfg sync.Map
	page := httptest.NewServer(pageHandler(h.pageDir, &pageCfg))
	t.Cleanup(page.Close)

	var nginxPort int
	if opts.proxy {
		nginxPort = freePort(t)
		s.publicURL = fmt.Sprintf("http://127.0.0.1:%d", nginxPort)
		s.appOrigin = s.publicURL
	} else {
		s.publicURL = s.authDirect
		s.appOrigin = page.URL
	}
	pageCfg.Store("discoveryPattern", s.publicURL+"/api/{{pluginId}}")

	// 1. Mock Palette.
	s.mockProc = startProc(t, s.logDir, procSpec{
		name: "mockpalette", path: filepath.Join(h.binDir, "mockpalette"), dir: dir,
		args: []string{"--listen", fmt.Sprintf("127.0.0.1:%d", mockPort), "--tenant", mockTenant,
			"--client-id", mockClientID, "--client-secret", mockSecret},
	})

	// 2. Our server: remote catalog through discovery, CORS for the page's origin.
	backend := m{
		"baseUrl":  s.publicURL,
		"listen":   m{"host": "127.0.0.1", "port": authPort},
		"database": m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(dir, "authdb")}},
	}
	if !opts.proxy {
		backend["cors"] = m{"origin": s.appOrigin, "credentials": true, "methods": []string{"GET", "HEAD", "PATCH", "POST", "PUT", "DELETE"}}
	}
	ourCfg := writeYAML(t, dir, "authbackend.yaml", m{
		"app":     m{"baseUrl": s.appOrigin},
		"backend": backend,
		"auth": m{
			"environment": "development",
			"session":     m{"secret": "e2e-session-" + randHex(t, 16)},
			"providers": m{"spectrocloud": m{"development": m{
				"clientId":         mockClientID,
				"clientSecret":     mockSecret,
				"authorizationUrl": fmt.Sprintf("%s/v1/oidc/tenant/%s/auth", s.mockURL, mockTenant),
				"callbackUrl":      s.authBase() + "/spectrocloud/handler/frame",
				"scope":            "openid profile email",
				"signIn": m{"resolvers": []m{
					{"resolver": "emailMatchingUserEntityProfileEmail"},
				}},
			}}},
		},
		"discovery": m{"endpoints": []m{
			{"target": m{"internal": s.authDirect + "/api/{{pluginId}}", "external": s.publicURL + "/api/{{pluginId}}"}, "plugins": []string{"auth"}},
			{"target": m{"internal": s.nodeDirect + "/api/{{pluginId}}", "external": s.publicURL + "/api/{{pluginId}}"}, "plugins": []string{"catalog"}},
		}},
	})
	s.authProc = startProc(t, s.logDir, procSpec{
		name: "authbackend", path: filepath.Join(h.binDir, "authbackend"), dir: dir,
		args: []string{"--config", ourCfg},
	})

	// 3. Stock Node backend: catalog + whoami, discovery points `auth` at us.
	orgPath := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(orgPath, []byte(orgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	nodeCfg := writeYAML(t, dir, "node-backend.yaml", m{
		"app": m{"baseUrl": s.appOrigin},
		"backend": m{
			"baseUrl":  s.publicURL,
			"listen":   m{"host": "127.0.0.1", "port": nodePort},
			"database": m{"client": "better-sqlite3", "connection": ":memory:"},
			"auth": m{"externalAccess": []m{
				{"type": "static", "options": m{"token": s.staticToken, "subject": "e2e-poller"}},
			}},
		},
		"discovery": m{"endpoints": []m{
			{"target": m{"internal": s.authDirect + "/api/{{pluginId}}", "external": s.publicURL + "/api/{{pluginId}}"}, "plugins": []string{"auth"}},
		}},
		"catalog": m{
			"rules":     []m{{"allow": []string{"User", "Group", "Location"}}},
			"locations": []m{{"type": "file", "target": orgPath}},
		},
	})
	s.nodeProc = startNodeBackend(t, h, s.logDir, "node-catalog", "catalog", nodeCfg, nil)

	// 4. nginx with the example route, templated with our ports.
	if opts.proxy {
		s.nginxProc = startNginx(t, h, s.logDir, nginxPort, authPort, nodePort, page.URL)
	}

	waitHTTP(t, s.mockProc, fmt.Sprintf("%s/v1/oidc/tenant/%s/.well-known/openid-configuration", s.mockURL, mockTenant), nil, 200, 20*time.Second)
	waitHTTP(t, s.authProc, s.authDirect+readyPath, nil, 200, 30*time.Second)
	waitHTTP(t, s.nodeProc, s.nodeDirect+readyPath, nil, 200, 90*time.Second)
	// Catalog ingestion of the file location is asynchronous.
	waitHTTP(t, s.nodeProc, s.nodeDirect+"/api/catalog/entities/by-name/user/default/carol", bearer(s.staticToken), 200, 90*time.Second)
	waitHTTP(t, s.nodeProc, s.nodeDirect+"/api/catalog/entities/by-name/user/default/alice", bearer(s.staticToken), 200, 30*time.Second)
	if s.nginxProc != nil {
		waitHTTP(t, s.nginxProc, s.publicURL+"/index.html", nil, 200, 20*time.Second)
	}
	t.Logf("stack up in %s: auth %s, node %s, public %s, app %s", time.Since(began).Round(time.Millisecond), s.authDirect, s.nodeDirect, s.publicURL, s.appOrigin)
	return s
}

// startNodeBackend runs integration/node/backend.js with the given config.
func startNodeBackend(t *testing.T, h *harness, logDir, name, mode, cfg string, env []string) *proc {
	t.Helper()
	return startProc(t, logDir, nodeBackendSpec(h, name, mode, cfg, env))
}

// nodeBackendSpec is backend.js in E2E_BACKEND_MODE=mode with the config file cfg;
// set netns on it to run it inside a vendornet namespace.
func nodeBackendSpec(h *harness, name, mode, cfg string, env []string) procSpec {
	return procSpec{
		name: name, path: "node", dir: h.nodeDir,
		args: []string{filepath.Join(h.nodeDir, "backend.js"), "--config", cfg},
		// NODE_ENV=production gives JSON logs; callers may override it (later wins).
		env: append([]string{"E2E_BACKEND_MODE=" + mode, "NODE_ENV=production"}, env...),
	}
}

// pageHandler serves the bundled page and config.json.
func pageHandler(dir string, cfg *sync.Map) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/config.json" {
			out := map[string]any{}
			cfg.Range(func(k, v any) bool { out[k.(string)] = v; return true })
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// templateNginx rewrites the example route for loopback ports. It fails when the
// example no longer has the lines it promises (examples_test checks the same shape).
func templateNginx(t *testing.T, conf string, listen, authPort, nodePort int, appAddr string) string {
	t.Helper()
	repl := []struct{ re, with string }{
		{`(?s)(upstream backstage_auth \{\s*server )[^;]+;`, fmt.Sprintf("${1}127.0.0.1:%d;", authPort)},
		{`(?s)(upstream backstage_backend \{\s*server )[^;]+;`, fmt.Sprintf("${1}127.0.0.1:%d;", nodePort)},
		{`(?s)(upstream backstage_app \{\s*server )[^;]+;`, "${1}" + appAddr + ";"},
		{`(?m)^(\s*listen )[^;]+;`, fmt.Sprintf("${1}127.0.0.1:%d;", listen)},
	}
	for _, r := range repl {
		re := regexp.MustCompile(r.re)
		if !re.MatchString(conf) {
			t.Fatalf("examples/nginx/backstage-auth.conf: no match for %s", r.re)
		}
		conf = re.ReplaceAllString(conf, r.with)
	}
	return conf
}

// startNginx runs Debian's nginx in the foreground with a temp prefix.
func startNginx(t *testing.T, h *harness, logDir string, listen, authPort, nodePort int, appURL string) *proc {
	t.Helper()
	example, err := os.ReadFile(filepath.Join(h.root, "examples", "nginx", "backstage-auth.conf"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	site := templateNginx(t, string(example), listen, authPort, nodePort, strings.TrimPrefix(appURL, "http://"))
	sitePath := filepath.Join(prefix, "backstage-auth.conf")
	if err := os.WriteFile(sitePath, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(prefix, "tmp")
	// master_process off: one process, no worker switching to an unprivileged user
	// that could not write the temp paths below (the tests may run as root).
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[2]s/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log %[2]s/nginx-access.log;
    client_body_temp_path %[3]s/body;
    proxy_temp_path %[3]s/proxy;
    fastcgi_temp_path %[3]s/fastcgi;
    uwsgi_temp_path %[3]s/uwsgi;
    scgi_temp_path %[3]s/scgi;
    include %[4]s;
}
`, prefix, logDir, tmp, sitePath)
	mainPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(mainPath, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(nginxPath, "-t", "-p", prefix, "-c", mainPath); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	return startProc(t, logDir, procSpec{name: "nginx", path: nginxPath, dir: prefix, args: []string{"-p", prefix, "-c", mainPath}})
}

func runCmd(path string, args ...string) (string, error) {
	out, err := exec.Command(path, args...).CombinedOutput()
	return string(out), err
}
