package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/spectrocloud-labs/backstage-auth-go/integration/vendornet"
)

// Environment switches.
const (
	envE2E   = "AUTHBACKEND_E2E"         // "1" runs these tests
	envPGDSN = "AUTHBACKEND_TEST_PG_DSN" // PostgreSQL for the migration test
)

const (
	chromiumPath = "/usr/bin/chromium"
	nginxPath    = "/usr/sbin/nginx"
	mockTenant   = "t1"
	mockClientID = "backstage-client"
	mockSecret   = "backstage-secret"
	readyPath    = "/.backstage/health/v1/readiness"
)

// harness is what every e2e test shares: the built binaries, the installed npm tree,
// the bundled sign-in page. Built once per `go test` run.
type harness struct {
	root      string // module root
	binDir    string // authbackend, mockpalette
	nodeDir   string // integration/node (node_modules linked by install.sh)
	artifacts string // integration/artifacts
	pageDir   string // bundled page (index.html, app.bundle.js)
}

var (
	harnessOnce sync.Once
	sharedH     *harness
	harnessErr  error
)

// TestMain removes the run's temporary binaries and page bundle.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedH != nil {
		os.RemoveAll(filepath.Dir(sharedH.binDir))
	}
	os.Exit(code)
}

// requireE2E skips unless AUTHBACKEND_E2E=1 and returns the shared harness; with the
// variable set, anything missing is a failure.
func requireE2E(t *testing.T) *harness {
	t.Helper()
	if os.Getenv(envE2E) != "1" {
		t.Skipf("end-to-end test against real Backstage packages: set %s=1 to run", envE2E)
	}
	harnessOnce.Do(func() { sharedH, harnessErr = newHarness() })
	if harnessErr != nil {
		t.Fatalf("e2e setup: %v", harnessErr)
	}
	return sharedH
}

func newHarness() (*harness, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	h := &harness{
		root:      root,
		nodeDir:   filepath.Join(root, "integration", "node"),
		artifacts: filepath.Join(root, "integration", "artifacts"),
	}
	if err := os.MkdirAll(h.artifacts, 0o755); err != nil {
		return nil, err
	}
	// A directory that outlives each test but not the run.
	tmp, err := os.MkdirTemp("", "authbackend-e2e-")
	if err != nil {
		return nil, err
	}
	h.binDir = filepath.Join(tmp, "bin")
	h.pageDir = filepath.Join(tmp, "page")

	start := time.Now()
	install := exec.Command("bash", filepath.Join(h.nodeDir, "install.sh"))
	install.Dir = h.nodeDir
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("integration/node/install.sh: %w\n%s", err, out)
	} else {
		fmt.Fprintf(os.Stderr, "e2e: install.sh (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	}
	for _, tool := range []string{chromiumPath, nginxPath} {
		if _, err := os.Stat(tool); err != nil {
			return nil, fmt.Errorf("%s missing after install.sh: %w", tool, err)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}

	start = time.Now()
	for _, name := range []string{"authbackend", "mockpalette"} {
		build := exec.Command("go", "build", "-o", filepath.Join(h.binDir, name), "./cmd/"+name)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
		}
	}
	fmt.Fprintf(os.Stderr, "e2e: built authbackend and mockpalette in %s\n", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	bundle := exec.Command("node", filepath.Join(h.nodeDir, "page", "build.mjs"), h.pageDir)
	bundle.Dir = h.nodeDir
	if out, err := bundle.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bundling integration/node/page: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: bundled page in %s\n", time.Since(start).Round(time.Millisecond))
	return h, nil
}

// moduleRoot walks up from the test's directory to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// logDir is where one test's process logs go (kept after the run for CI).
func (h *harness) logDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(h.artifacts, "logs", regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.RemoveAll(d); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// proc is a child process with its output in a log file, stopped in t.Cleanup.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

type procSpec struct {
	name  string
	path  string
	args  []string
	dir   string
	env   []string       // added to os.Environ() (to netns's environment when set)
	netns *vendornet.Net // run inside this namespace, trusting its CA
}

func startProc(t *testing.T, logDir string, s procSpec) *proc {
	t.Helper()
	logPath := filepath.Join(logDir, s.name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if s.netns != nil {
		cmd = s.netns.Command(s.path, s.args...)
		cmd.Env = append(cmd.Env, s.env...)
	} else {
		cmd = exec.Command(s.path, s.args...)
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so stopping it also stops anything it spawned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", s.name, err)
	}
	p := &proc{name: s.name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s log (%s), last lines:\n%s", p.name, p.logPath, tailFile(p.logPath, 40))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(ansiRE.ReplaceAllString(string(b), ""), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 600 {
			lines[i] = l[:600] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// waitHTTP polls url until it answers want, failing early when p exits.
func waitHTTP(t *testing.T, p *proc, url string, header http.Header, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			t.Fatalf("%s exited (%v) before %s answered %d; log %s:\n%s", p.name, p.waitErr, url, want, p.logPath, tailFile(p.logPath, 40))
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	name := "?"
	if p != nil {
		name = p.name
	}
	t.Fatalf("%s: %s did not answer %d within %s (last: %s)", name, url, want, timeout, last)
}

// writeYAML writes v as YAML into dir/name and returns the absolute path.
func writeYAML(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// m is shorthand for YAML/JSON maps.
type m = map[string]any

// httpResult is a response read fully.
type httpResult struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r httpResult) json(t *testing.T, into any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, into); err != nil {
		t.Fatalf("decode JSON (%d): %v: %s", r.Status, err, truncate(r.Body, 300))
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func doHTTP(t *testing.T, client *http.Client, method, url string, header http.Header, body io.Reader) httpResult {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return httpResult{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func newJarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
