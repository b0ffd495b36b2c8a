package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds the binaries built once for the whole package: the tests drive the real
// server and mock IdP processes, as an operator would run them.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authbackend-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	for _, name := range []string{"authbackend", "mockpalette"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a loopback port that was free a moment ago (the child process binds it).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a child's output for failure reports.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startProcess runs a binary from binDir until the test ends (SIGTERM, then kill).
func startProcess(t testing.TB, name string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return p
}

// waitHTTP polls url until it answers 200, the process exits, or the deadline passes.
func waitHTTP(t testing.TB, p *process, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited early:\n%s", p.name, p.out.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not ready at %s:\n%s", p.name, url, p.out.String())
}

type mockIdP struct {
	URL    string // http://127.0.0.1:port
	Tenant string
	proc   *process
}

func (m *mockIdP) issuer() string       { return m.URL + "/v1/oidc/tenant/" + m.Tenant }
func (m *mockIdP) authorizeURL() string { return m.issuer() + "/auth" }
func (m *mockIdP) next(t testing.TB, q string) {
	t.Helper()
	resp, err := http.Get(m.URL + "/_mock/next?" + q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("mock next %q: %d", q, resp.StatusCode)
	}
}

func startMock(t testing.TB, extraArgs ...string) *mockIdP {
	t.Helper()
	port := freePort(t)
	m := &mockIdP{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Tenant: "t1"}
	args := append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--tenant", m.Tenant,
		"--client-id", "backstage-client", "--client-secret", "backstage-secret"}, extraArgs...)
	m.proc = startProcess(t, "mockpalette", nil, args...)
	waitHTTP(t, m.proc, m.issuer()+"/.well-known/openid-configuration")
	return m
}

type server struct {
	URL     string // backend base URL
	AppURL  string // app.baseUrl
	Dir     string
	proc    *process
	cfgPath string
}

func (s *server) auth(path string) string { return s.URL + "/api/auth" + path }

// serverConfig is the app-config template the integration tests start the server with.
type serverConfig struct {
	Port      int
	AppURL    string
	Mock      *mockIdP
	Secret    string
	Database  string // YAML for backend.database
	Extra     string // YAML appended at the top level
	Auth      string // YAML appended inside auth: (keys indented by two spaces)
	Resolvers string // YAML list under signIn.resolvers
	SignIn    string // YAML of the whole signIn section, unindented (replaces Resolvers)
	Org       string // the catalog file (orgYAML when empty)
	Providers string // YAML appended inside auth.providers: (keys indented by four spaces)
}

func writeConfig(t testing.TB, dir string, c serverConfig) string {
	t.Helper()
	org := filepath.Join(dir, "org.yaml")
	if c.Org == "" {
		c.Org = orgYAML
	}
	if err := os.WriteFile(org, []byte(c.Org), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.Secret == "" {
		c.Secret = "integration-secret-0123456789abcdef"
	}
	if c.Database == "" {
		c.Database = fmt.Sprintf("client: better-sqlite3\n    connection:\n      directory: %s", filepath.Join(dir, "data"))
	}
	if c.Resolvers == "" {
		c.Resolvers = "- resolver: emailMatchingUserEntityProfileEmail\n            - resolver: emailLocalPartMatchingUserEntityName\n              allowedDomains: [example.com]"
	}
	signIn := "resolvers:\n            " + c.Resolvers
	if c.SignIn != "" {
		signIn = strings.ReplaceAll(strings.TrimSpace(c.SignIn), "\n", "\n          ")
	}
	provider := ""
	if c.Mock != nil {
		provider = fmt.Sprintf(`
    spectrocloud:
      development:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: %s
        scope: openid profile email
        signIn:
          %s`, c.Mock.authorizeURL(), signIn)
	}
	cfg := fmt.Sprintf(`app:
  baseUrl: %s
backend:
  baseUrl: http://127.0.0.1:%d
  listen:
    host: 127.0.0.1
    port: %d
  database:
    %s
auth:
  session:
    secret: %s
  providers:
    guest:
      dangerouslyAllowOutsideDevelopment: true%s
%s
%s
catalog:
  rules:
    - allow: [User, Group, Location]
  locations:
    - type: file
      target: %s
%s
`, c.AppURL, c.Port, c.Port, c.Database, c.Secret, provider, c.Providers, c.Auth, org, c.Extra)
	path := filepath.Join(dir, fmt.Sprintf("app-config-%d.yaml", c.Port))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const orgYAML = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
  annotations:
    github.com/user-id: MDQ6VXNlcjEwMDE=
    google.com/email: alice@example.com
    microsoft.com/email: alice@example.com
    graph.microsoft.com/user-id: 00000000-0000-4000-8000-000000001001
spec:
  profile:
    displayName: Alice Smith
    email: alice@example.com
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: carol
spec:
  profile:
    email: carol@example.com
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`

// startServer starts cmd/authbackend with a generated config and waits for readiness.
func startServer(t testing.TB, c serverConfig, env ...string) *server {
	t.Helper()
	dir := t.TempDir()
	if c.Port == 0 {
		c.Port = freePort(t)
	}
	if c.AppURL == "" {
		c.AppURL = "http://127.0.0.1:3000"
	}
	s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", c.Port), AppURL: c.AppURL, Dir: dir}
	s.cfgPath = writeConfig(t, dir, c)
	s.proc = startProcess(t, "authbackend", append([]string{"NODE_ENV=production"}, env...), "--config", s.cfgPath)
	waitHTTP(t, s.proc, s.URL+"/.backstage/health/v1/readiness")
	return s
}

// browser is a cookie-keeping HTTP client that behaves like the popup window: it
// follows redirects within the server and the IdP, and stops at the app's origin.
type browser struct {
	*http.Client
	t      testing.TB
	appURL string
}

func newBrowser(t testing.TB, appURL string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, appURL: appURL}
	b.Client = &http.Client{
		Jar:     jar,
		Timeout: 15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), appURL) || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

func (b *browser) get(u string, header ...string) (*http.Response, []byte) {
	return b.do(http.MethodGet, u, header...)
}

func (b *browser) do(method, u string, header ...string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// cookie returns the value of a cookie the jar would send to u.
func (b *browser) cookie(u, name string) (string, bool) {
	parsed, _ := url.Parse(u)
	for _, c := range b.Jar.Cookies(parsed) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

var authResponseRE = regexp.MustCompile(`decodeURIComponent\('([^']*)'\)`)

// popupMessage extracts the authorization_response message the frame page posts.
func popupMessage(t testing.TB, html []byte) map[string]any {
	t.Helper()
	m := authResponseRE.FindSubmatch(html)
	if m == nil {
		t.Fatalf("no authResponse in frame page:\n%s", html)
	}
	decoded, err := url.PathUnescape(string(m[1]))
	if err != nil {
		t.Fatalf("decode authResponse: %v", err)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(decoded), &msg); err != nil {
		t.Fatalf("authResponse JSON: %v\n%s", err, decoded)
	}
	return msg
}

func jsonBody(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return m
}

func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

var _ = context.Background
