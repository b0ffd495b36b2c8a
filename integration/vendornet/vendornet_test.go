package vendornet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a Go program run inside the namespace:
// VENDORNET_HELPER=get fetches $VENDORNET_URL and prints "<status> <body>";
// VENDORNET_HELPER=serve answers "inside" on $VENDORNET_ADDR.
func TestMain(m *testing.M) {
	switch os.Getenv("VENDORNET_HELPER") {
	case "get":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, os.Getenv("VENDORNET_URL"), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		b, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, b)
		os.Exit(0)
	case "serve":
		err := http.ListenAndServe(os.Getenv("VENDORNET_ADDR"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "inside")
		}))
		fmt.Println(err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("AUTHBACKEND_E2E") != "1" {
		t.Skip("network namespaces need root: set AUTHBACKEND_E2E=1 to run")
	}
}

// helper runs the test binary inside vn as a helper and returns its output.
func helper(t *testing.T, vn *Net, env []string, kv ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := vn.Command(self)
	cmd.Env = append(env, kv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestVendorHostsInsideNamespace(t *testing.T) {
	requireE2E(t)
	vn := New(t, "acme.okta.com")
	mock := vn.Listen443(HostMux{
		"github.com":    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "github stub "+r.URL.Path) }),
		"acme.okta.com": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "okta stub") }),
	})
	env := vn.Command("true").Env

	t.Run("Go trusts the CA through SSL_CERT_FILE", func(t *testing.T) {
		out, err := helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=https://github.com/login/oauth/authorize")
		if err != nil || out != "200 github stub /login/oauth/authorize" {
			t.Fatalf("got %q (%v)", out, err)
		}
		out, err = helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=https://acme.okta.com/oauth2/v1/keys")
		if err != nil || out != "200 okta stub" {
			t.Fatalf("extra host: got %q (%v)", out, err)
		}
	})

	t.Run("without the CA env the certificate is not trusted", func(t *testing.T) {
		var bare []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "SSL_CERT_FILE=") {
				bare = append(bare, kv)
			}
		}
		out, err := helper(t, vn, bare, "VENDORNET_HELPER=get", "VENDORNET_URL=https://github.com/")
		if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Fatalf("got %q (%v), want an unknown-authority error", out, err)
		}
	})

	t.Run("a mapped host without a handler is misdirected", func(t *testing.T) {
		out, _ := helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=https://gitlab.com/")
		if !strings.HasPrefix(out, "421 vendornet: no mock for host gitlab.com") {
			t.Fatalf("got %q", out)
		}
	})

	t.Run("other names do not resolve and nothing leaves", func(t *testing.T) {
		start := time.Now()
		out, err := helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=https://example.org/")
		if err == nil || !strings.Contains(out, "example.org") {
			t.Fatalf("got %q (%v), want a lookup error", out, err)
		}
		out, err = helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=http://203.0.113.1/")
		if err == nil || !strings.Contains(out, "network is unreachable") {
			t.Fatalf("got %q (%v), want no route", out, err)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("failures took %s; they should be immediate", d)
		}
	})

	t.Run("Node trusts the CA through NODE_EXTRA_CA_CERTS", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		cmd := vn.Command(node, "-e", `fetch("https://github.com/user").then(async r => console.log(r.status, await r.text()), e => { console.log("error", e.cause ?? e); process.exit(3) })`)
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != "200 github stub /user" {
			t.Fatalf("got %q (%v)", got, err)
		}
	})

	t.Run("the test reaches a process inside", func(t *testing.T) {
		url := vn.URL(serveInside(t, vn, vn.Addr()))
		if got := getBody(t, http.DefaultClient, url, 10*time.Second); got != "inside" {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("InsideClient reaches the namespace's loopback and the vendor hosts", func(t *testing.T) {
		client := vn.InsideClient()
		url := fmt.Sprintf("http://localhost:%d/", serveInside(t, vn, "127.0.0.1"))
		if got := getBody(t, client, url, 10*time.Second); got != "inside" {
			t.Fatalf("got %q", got)
		}
		if got := getBody(t, client, "https://github.com/from-inside", 0); got != "github stub /from-inside" {
			t.Fatalf("got %q", got)
		}
		if _, err := client.Get("http://example.org/"); err == nil || !strings.Contains(err.Error(), "not an IP address") {
			t.Fatalf("unknown name: %v", err)
		}
	})

	t.Run("Forward relays to loopback outside", func(t *testing.T) {
		outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "outside") }))
		defer outside.Close()
		addr := vn.Forward(strings.TrimPrefix(outside.URL, "http://"))
		out, err := helper(t, vn, env, "VENDORNET_HELPER=get", "VENDORNET_URL=http://"+addr+"/")
		if err != nil || out != "200 outside" {
			t.Fatalf("got %q (%v)", out, err)
		}
	})

	t.Run("the test's Client sees the vendor hosts", func(t *testing.T) {
		if got := getBody(t, vn.Client(), "https://github.com/x", 0); got != "github stub /x" {
			t.Fatalf("got %q", got)
		}
	})

	if got := mock.Requests(); len(got) < 5 || got[0] != "GET github.com/login/oauth/authorize -> 200" {
		t.Errorf("mock log: %q", got)
	}
}

// serveInside starts the serve helper inside vn on host:<new port> and returns the port.
func serveInside(t *testing.T, vn *Net, host string) int {
	t.Helper()
	port := vn.Port()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := vn.Command(self)
	cmd.Env = append(cmd.Env, "VENDORNET_HELPER=serve", fmt.Sprintf("VENDORNET_ADDR=%s:%d", host, port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return port
}

// getBody GETs url, retrying connection errors for up to wait, and returns the body.
func getBody(t *testing.T, client *http.Client, url string, wait time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leftovers lists which of the namespace, its link, its /etc/netns dir or its owner
// file are still there.
func leftovers(name, link string) []string {
	var found []string
	for _, p := range []string{filepath.Join(netnsDir, name), filepath.Join(etcNetns, name), filepath.Join(stateDir, name), filepath.Join("/sys/class/net", link)} {
		if _, err := os.Lstat(p); err == nil {
			found = append(found, p)
		}
	}
	return found
}

// assertRemoved checks that nothing of the namespace is left and that the process
// that ran inside (done is closed when it exits) was killed.
func assertRemoved(t *testing.T, name, link string, done <-chan struct{}) {
	t.Helper()
	if found := leftovers(name, link); len(found) != 0 {
		t.Errorf("%s not removed: %q", name, found)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Errorf("a process inside %s still runs", name)
	}
}

func TestCleanupRemovesEverything(t *testing.T) {
	requireE2E(t)
	var name, link string
	sleeperDone := make(chan struct{})
	t.Run("inner", func(t *testing.T) {
		vn := New(t)
		name, link = vn.name, vn.link
		// Left running on purpose: cleanup must kill it.
		sleeper := vn.Command("sleep", "300")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = sleeper.Wait(); close(sleeperDone) }()
		if found := leftovers(name, link); len(found) != 4 {
			t.Fatalf("set-up incomplete: %q", found)
		}
	})
	assertRemoved(t, name, link, sleeperDone)
}

// A run killed before its cleanup leaves a namespace (with a process in it), its
// veth pair, /etc/netns dir and owner file; the next New removes them all.
func TestNewRemovesLeftoversOfAKilledRun(t *testing.T) {
	requireE2E(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	pid := gone.Process.Pid // exited: stands for the killed test binary
	id := fmt.Sprintf("%d-1", pid)
	name, link := namePrefix+id, linkPrefix+id
	n := &Net{t: t, ip: "ip"}
	for _, args := range [][]string{
		{"netns", "add", name},
		{"link", "add", link, "type", "veth", "peer", "name", innerLink, "netns", name},
	} {
		if _, err := n.run(args...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = n.destroy(name, link) }) // if the test fails
	if err := os.MkdirAll(filepath.Join(etcNetns, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etcNetns, name, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, name), fmt.Appendf(nil, "%d 1\n", pid), 0o644); err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command("ip", "netns", "exec", name, "sleep", "300")
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	orphanDone := make(chan struct{})
	go func() { _ = orphan.Wait(); close(orphanDone) }()

	vn := New(t)
	if vn.name == name {
		t.Fatal("reused the leftover's name")
	}
	assertRemoved(t, name, link, orphanDone)
	// A namespace whose owner is alive (this process) is never touched.
	if found := leftovers(vn.name, vn.link); len(found) != 4 {
		t.Errorf("own namespace incomplete: %q", found)
	}
}

func TestNormalizeHosts(t *testing.T) {
	got, err := normalizeHosts([]string{"GitHub.com", "github.com", " api.github.com "})
	if err != nil || strings.Join(got, ",") != "github.com,api.github.com" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, bad := range []string{"https://github.com", "github.com:443", "*.okta.com", "localhost", ""} {
		if _, err := normalizeHosts([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHostMux(t *testing.T) {
	mux := HostMux{"github.com": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })}
	for host, want := range map[string]int{"github.com": 204, "GitHub.com:443": 204, "gitlab.com": 421} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "https://x/", nil)
		req.Host = host
		mux.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestProcStart(t *testing.T) {
	a, err := procStart(os.Getpid())
	if err != nil || a == "" {
		t.Fatalf("%q %v", a, err)
	}
	if !ownerAlive(namePrefix + fmt.Sprint(os.Getpid()) + "-999") {
		t.Error("own pid not alive")
	}
}
