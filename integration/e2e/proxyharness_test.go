package e2e_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
)

// proxyDiff is the harness of the proxy providers' differential tests: the stock Node
// auth backend with the real modules and our server (one or more configs), in one
// vendornet namespace, are sent the very same headers at /refresh. A proxy provider has
// no start, frame or cookies, so the OAuth harness (runDifferential) does not fit; the
// tests compare the answers with its normalizeAuthResponse.
type proxyDiff struct {
	t           *testing.T
	h           *harness
	vn          *vendornet.Net
	logDir, dir string
}

func newProxyDiff(t *testing.T, extraHosts ...string) *proxyDiff {
	t.Helper()
	h := requireE2E(t)
	vn := vendornet.New(t, extraHosts...)
	return &proxyDiff{t: t, h: h, vn: vn, logDir: h.logDir(t), dir: t.TempDir()}
}

// writeFile writes content to name in the test's directory and returns its path.
func (d *proxyDiff) writeFile(name, content string) string {
	d.t.Helper()
	p := filepath.Join(d.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		d.t.Fatal(err)
	}
	return p
}

// backendConfig writes the config of one backend (base its baseUrl, listening on port,
// with database db) and returns its path.
type backendConfig func(base string, port int, db m) string

// startNode starts the Node backend with the auth modules named (E2E_AUTH_MODULES) and
// the catalog, plus env, on an in-memory database. It does not wait: see waitNode.
func (d *proxyDiff) startNode(name, modules string, env []string, cfg backendConfig) (string, *proc) {
	d.t.Helper()
	port := d.vn.Port()
	base := d.vn.URL(port)
	spec := nodeBackendSpec(d.h, name, "auth-modules", cfg(base, port, m{"client": "better-sqlite3", "connection": ":memory:"}),
		append([]string{"E2E_AUTH_MODULES=" + modules, "E2E_BACKEND_EXTRA=catalog"}, env...))
	spec.netns = d.vn
	return base, startProc(d.t, d.logDir, spec)
}

// waitNode waits until the Node backend is ready (loading its modules takes a while).
func (d *proxyDiff) waitNode(base string, p *proc) {
	d.t.Helper()
	waitHTTP(d.t, p, base+readyPath, nil, 200, 90*time.Second)
}

// startOurs starts our server with env and its database in dbDir (under the test's
// directory) and waits until it is ready.
func (d *proxyDiff) startOurs(name, dbDir string, env []string, cfg backendConfig) (string, *proc) {
	d.t.Helper()
	port := d.vn.Port()
	base := d.vn.URL(port)
	p := startProc(d.t, d.logDir, procSpec{name: name, path: filepath.Join(d.h.binDir, "authbackend"), dir: d.dir, netns: d.vn, env: env,
		args: []string{"--config", cfg(base, port, m{"client": "better-sqlite3", "connection": m{"directory": filepath.Join(d.dir, dbDir)}})}})
	waitHTTP(d.t, p, base+readyPath, nil, 200, 30*time.Second)
	return base, p
}

// untilOK repeats call until it answers 200 (Node's catalog ingests the org file some
// seconds after start-up, one entity at a time) and fails the test at deadline.
func (d *proxyDiff) untilOK(deadline time.Time, what string, call func() httpResult) {
	d.t.Helper()
	for r := call(); r.Status != 200; r = call() {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: %d %s", what, r.Status, truncate(r.Body, 400))
		}
		time.Sleep(time.Second)
	}
}

// proxyRefresh sends one /refresh to the backend at base with header.
func proxyRefresh(t *testing.T, client *http.Client, base, provider, method string, header http.Header) httpResult {
	t.Helper()
	return doHTTP(t, client, method, base+"/api/auth/"+provider+"/refresh", header, nil)
}
