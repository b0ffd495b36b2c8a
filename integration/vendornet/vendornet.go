package vendornet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Placeholders baked into KnownHosts for vendor hosts that depend on config.
const (
	// AWSRegion is the `region` to configure for awsalb (its key host is per region).
	AWSRegion = "us-east-1"
	// AWSGovRegion is a GovCloud region, whose keys come from an S3 host instead.
	AWSGovRegion = "us-gov-west-1"
	// CloudflareTeam is the `teamName` to configure for cfaccess.
	CloudflareTeam = "e2e"
)

// KnownHosts are the vendor hosts the pinned provider modules (and the passport
// strategies and google-auth-library under them) call without being told to by config.
// Every Net maps them; hosts that only come from config (an Okta org, an Auth0
// domain, a Bitbucket Server, an OIDC issuer, a CIMD client) are passed to New.
var KnownHosts = []string{
	"github.com", "api.github.com", // github (passport-github2)
	"login.microsoftonline.com", "graph.microsoft.com", // microsoft (passport-microsoft); Entra keys
	"accounts.google.com", "oauth2.googleapis.com", "www.googleapis.com", "openidconnect.googleapis.com", // google
	"www.gstatic.com",                         // gcpIap keys (google-auth-library)
	"auth.atlassian.com", "api.atlassian.com", // atlassian
	"bitbucket.org", "api.bitbucket.org", // bitbucket
	"gitlab.com", // gitlab default baseUrl
	"okta.com",   // okta default audience
	"public-keys.auth.elb." + AWSRegion + ".amazonaws.com", // awsalb keys
	"s3-" + AWSGovRegion + ".amazonaws.com",                // awsalb keys in GovCloud
	CloudflareTeam + ".cloudflareaccess.com",               // cfaccess certs and get-identity
}

const (
	namePrefix = "abvn" // network namespaces: abvn<pid>-<seq>
	linkPrefix = "abvh" // host end of each veth pair: abvh<pid>-<seq>
	innerLink  = "vn0"  // namespace end of the veth pair
	// Every link gets a /24 of this block: <block>.<i>.1 on the host end (the vendor
	// address), <block>.<i>.2 inside. The whole block is routed `unreachable` on the
	// host, so a packet for a link that is gone fails here instead of leaving the machine.
	blockPrefix = "10.213."
	blockCIDR   = "10.213.0.0/16"
	stateDir    = "/run/authbackend-vendornet" // lock file and one owner file per namespace
	netnsDir    = "/run/netns"
	etcNetns    = "/etc/netns"
	firstPort   = 20000 // Port() hands out ports inside the namespace from here
)

var seq atomic.Int32

// Net is one private network namespace with the vendor hosts in its hosts file, joined
// to the test process by a veth pair. See the package documentation.
type Net struct {
	t      testing.TB
	ip     string // path of ip(8)
	name   string // namespace
	link   string // host end of the veth pair
	hostIP net.IP // host end: the vendor address
	nsIP   net.IP // namespace end: where processes inside listen
	hosts  []string
	caFile string
	ca     *authority
	port   atomic.Int32
}

// New creates the namespace, the veth pair, the hosts file and the CA, and removes
// them all in t.Cleanup (after the cleanups registered later, so processes started
// inside are stopped first). The KnownHosts and extraHosts all resolve to VendorAddr
// inside. Leftovers of a killed earlier run are removed first. It needs root and
// iproute2; anything missing is a test failure.
func New(t testing.TB, extraHosts ...string) *Net {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Fatalf("vendornet: needs root on Linux for network namespaces (euid %d, %s)", os.Geteuid(), runtime.GOOS)
	}
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("vendornet: ip(8) not found (Debian's iproute2; integration/node/install.sh installs it): %v", err)
	}
	hosts, err := normalizeHosts(append(slices.Clone(KnownHosts), extraHosts...))
	if err != nil {
		t.Fatalf("vendornet: %v", err)
	}
	n := &Net{t: t, ip: ipPath, hosts: hosts}
	id := fmt.Sprintf("%d-%d", os.Getpid(), seq.Add(1))
	n.name, n.link = namePrefix+id, linkPrefix+id
	if len(n.link) > 15 { // IFNAMSIZ - 1
		t.Fatalf("vendornet: interface name %q too long", n.link)
	}
	n.port.Store(firstPort)

	if err := n.setUp(); err != nil {
		t.Fatalf("vendornet: %v", err)
	}
	ca, err := newAuthority(hosts, []net.IP{n.hostIP, n.nsIP}, time.Now())
	if err != nil {
		t.Fatalf("vendornet: %v", err)
	}
	n.ca = ca
	n.caFile = filepath.Join(t.TempDir(), "vendornet-ca.pem")
	if err := os.WriteFile(n.caFile, ca.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("vendornet: namespace %s, inside %s, vendor address %s (%d hosts)", n.name, n.nsIP, n.hostIP, len(hosts))
	return n
}

// setUp creates everything under the cross-process lock (test binaries of several
// packages or worktrees may run at once) and registers the teardown first, so a
// half-built namespace is removed too.
func (n *Net) setUp() error {
	unlock, err := lockState()
	if err != nil {
		return err
	}
	defer unlock()
	n.reapLeftovers()
	if _, err := n.run("route", "replace", "unreachable", blockCIDR); err != nil {
		return err
	}
	subnet, err := freeSubnet()
	if err != nil {
		return err
	}
	n.hostIP = net.ParseIP(fmt.Sprintf("%s%d.1", blockPrefix, subnet)).To4()
	n.nsIP = net.ParseIP(fmt.Sprintf("%s%d.2", blockPrefix, subnet)).To4()

	if err := writeOwner(n.name); err != nil {
		return err
	}
	n.t.Cleanup(func() {
		if err := n.destroy(n.name, n.link); err != nil {
			n.t.Errorf("vendornet: cleanup: %v", err)
		}
	})
	if err := n.writeEtc(); err != nil {
		return err
	}
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.link, "type", "veth", "peer", "name", innerLink, "netns", n.name},
		{"addr", "add", n.hostIP.String() + "/24", "dev", n.link},
		{"link", "set", n.link, "up"},
		{"-n", n.name, "addr", "add", n.nsIP.String() + "/24", "dev", innerLink},
		{"-n", n.name, "link", "set", innerLink, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := n.run(s...); err != nil {
			return err
		}
	}
	return n.waitLinkUp(5 * time.Second)
}

// writeEtc writes the files `ip netns exec` bind-mounts over /etc: the hosts file
// with the vendor hosts, and a resolv.conf that makes any other name fail at once.
func (n *Net) writeEtc() error {
	dir := filepath.Join(etcNetns, n.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# vendornet " + n.name + ": vendor hosts -> the test's mock\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, h := range n.hosts {
		fmt.Fprintf(&b, "%s\t%s\n", n.hostIP, h)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	// Nothing listens on port 53 inside: unknown names fail fast, never leak.
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644)
}

func (n *Net) waitLinkUp(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		host, _ := os.ReadFile(filepath.Join("/sys/class/net", n.link, "operstate"))
		inner, _ := n.run("-n", n.name, "-o", "link", "show", innerLink)
		if strings.TrimSpace(string(host)) == "up" && strings.Contains(inner, "state UP") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("veth %s/%s not up after %s (host %q, inside %q)", n.link, innerLink, timeout, strings.TrimSpace(string(host)), inner)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// destroy kills what still runs inside the namespace (only this harness's processes
// can be there), then removes the namespace, the veth pair and the /etc/netns dir. It
// tolerates parts that are already gone.
func (n *Net) destroy(name, link string) error {
	var errs []error
	if out, err := n.run("netns", "pids", name); err == nil {
		var pids []int
		for _, f := range strings.Fields(out) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
				pids = append(pids, pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		waitGone(pids, 5*time.Second)
	}
	if _, err := n.run("netns", "del", name); err != nil && !isGone(err) {
		errs = append(errs, err)
	}
	if _, err := n.run("link", "del", link); err != nil && !isGone(err) {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(etcNetns, name)); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(filepath.Join(stateDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reapLeftovers removes namespaces, links and /etc/netns dirs whose owning test
// process is gone (a run killed before its cleanup). Called with the lock held.
func (n *Net) reapLeftovers() {
	names := map[string]bool{}
	for _, dir := range []string{netnsDir, etcNetns, stateDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), namePrefix) {
				names[e.Name()] = true
			}
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if strings.HasPrefix(i.Name, linkPrefix) {
			names[namePrefix+strings.TrimPrefix(i.Name, linkPrefix)] = true
		}
	}
	for name := range names {
		if ownerAlive(name) {
			continue
		}
		id := strings.TrimPrefix(name, namePrefix)
		if err := n.destroy(name, linkPrefix+id); err != nil {
			n.t.Logf("vendornet: removing leftover %s: %v", name, err)
		} else {
			n.t.Logf("vendornet: removed leftover namespace %s of a finished run", name)
		}
	}
}

// run runs ip(8) and returns its output; a failure carries the command and output.
func (n *Net) run(args ...string) (string, error) {
	out, err := exec.Command(n.ip, args...).CombinedOutput()
	if err != nil {
		return string(out), &ipError{args: args, out: strings.TrimSpace(string(out)), err: err}
	}
	return string(out), nil
}

type ipError struct {
	args []string
	out  string
	err  error
}

func (e *ipError) Error() string {
	return fmt.Sprintf("ip %s: %v: %s", strings.Join(e.args, " "), e.err, e.out)
}

func (e *ipError) Unwrap() error { return e.err }

// isGone reports an ip(8) failure that only says the object does not exist.
func isGone(err error) bool {
	var ie *ipError
	if !errors.As(err, &ie) {
		return false
	}
	for _, s := range []string{"No such file", "Cannot find device", "does not exist", "Cannot open network namespace"} {
		if strings.Contains(ie.out, s) {
			return true
		}
	}
	return false
}

// waitGone waits until the processes have exited (a zombie counts: its parent reaps
// it, and it holds no namespace).
func waitGone(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			s := string(b)
			if err != nil || strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// lockState takes the cross-process lock that serialises set-up and reaping.
func lockState() (func(), error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(stateDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// The owner file names the process (pid and start time, so a reused pid is not taken
// for the owner) that created a namespace.
func writeOwner(name string) error {
	st, err := procStart(os.Getpid())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(stateDir, name), fmt.Appendf(nil, "%d %s\n", os.Getpid(), st), 0o644)
}

func ownerAlive(name string) bool {
	var pid int
	var start string
	if b, err := os.ReadFile(filepath.Join(stateDir, name)); err == nil {
		if _, err := fmt.Sscan(string(b), &pid, &start); err != nil {
			return false
		}
	} else if _, err := fmt.Sscanf(strings.TrimPrefix(name, namePrefix), "%d-", &pid); err != nil {
		return false
	}
	st, err := procStart(pid)
	if err != nil {
		return false
	}
	return start == "" || st == start
}

var procStatRE = regexp.MustCompile(`\) \S+(?: \S+){18} (\d+)`)

// procStart is field 22 of /proc/<pid>/stat (start time in clock ticks since boot).
func procStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	m := procStatRE.FindStringSubmatch(s[strings.LastIndexByte(s, '(')+1:])
	if m == nil {
		return "", fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	return m[1], nil
}

// freeSubnet returns an i for which no host interface has <block>.i.1.
func freeSubnet() (int, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0, err
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			used[ipn.IP.String()] = true
		}
	}
	for i := 1; i < 255; i++ {
		if !used[fmt.Sprintf("%s%d.1", blockPrefix, i)] {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no free /24 in %s", blockCIDR)
}

var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

func normalizeHosts(in []string) ([]string, error) {
	var out []string
	for _, h := range in {
		h = strings.ToLower(strings.TrimSpace(h))
		if !hostRE.MatchString(h) {
			return nil, fmt.Errorf("%q is not a host name (no scheme, port or wildcard)", h)
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Name is the network namespace (for `ip netns exec`).
func (n *Net) Name() string { return n.name }

// Addr is the namespace's address: processes inside listen on it (or 0.0.0.0) and
// the test reaches them there.
func (n *Net) Addr() string { return n.nsIP.String() }

// URL is http://Addr():port.
func (n *Net) URL(port int) string { return fmt.Sprintf("http://%s:%d", n.nsIP, port) }

// Port returns a port for a process inside the namespace, distinct on every call
// (the namespace is private: no other process can hold it).
func (n *Net) Port() int { return int(n.port.Add(1)) }

// VendorAddr is the address every vendor host resolves to inside the namespace: the
// host end of the veth pair, where Listen443 and Serve listen.
func (n *Net) VendorAddr() string { return n.hostIP.String() }

// Hosts are the names mapped to VendorAddr inside the namespace.
func (n *Net) Hosts() []string { return slices.Clone(n.hosts) }

// CAFile is the PEM file of the throwaway CA.
func (n *Net) CAFile() string { return n.caFile }

// CertPool trusts the throwaway CA (for test-side clients).
func (n *Net) CertPool() *x509.CertPool { return n.ca.pool }

// Leaf is the certificate every mock serves (for clients that pin it instead of
// trusting the CA, e.g. Chromium's --ignore-certificate-errors-spki-list).
func (n *Net) Leaf() *x509.Certificate { return n.ca.leaf.Leaf }

// TLSConfig serves the certificate for all Hosts (and both link addresses).
func (n *Net) TLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{n.ca.leaf}, MinVersion: tls.VersionTLS12}
}

// Environ returns base without proxy settings or CA overrides, plus the variables
// that make Node (NODE_EXTRA_CA_CERTS, added to its bundled roots) and Go, OpenSSL and
// curl (SSL_CERT_FILE, which replaces the system roots) trust the throwaway CA.
func (n *Net) Environ(base []string) []string {
	drop := []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"}
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, strings.ToUpper(k)) {
			env = append(env, kv)
		}
	}
	return append(env, "NODE_EXTRA_CA_CERTS="+n.caFile, "SSL_CERT_FILE="+n.caFile)
}

// Command returns a command that runs name inside the namespace (through
// `ip netns exec`, which also bind-mounts the hosts file), with Environ(os.Environ()).
// `ip netns exec` execs name in place, so the process's pid, process group and
// signals are the command's own. Callers may add to Env, Dir, output and SysProcAttr.
func (n *Net) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(n.ip, append([]string{"netns", "exec", n.name, name}, args...)...)
	cmd.Env = n.Environ(os.Environ())
	return cmd
}

// Listener listens on VendorAddr():port (0 for any), closed in cleanup. Processes
// inside reach it directly; combine with TLSConfig for a TLS service on another port.
func (n *Net) Listener(port int) net.Listener {
	n.t.Helper()
	l, err := net.Listen("tcp4", net.JoinHostPort(n.hostIP.String(), fmt.Sprint(port)))
	if err != nil {
		n.t.Fatalf("vendornet: listen on %s:%d: %v", n.hostIP, port, err)
	}
	n.t.Cleanup(func() { l.Close() })
	return l
}

// Listen443 serves h over TLS at https://<any vendor host>/ for processes inside the
// namespace. One server answers every host; route with HostMux.
func (n *Net) Listen443(h http.Handler) *Server { return n.Serve(443, h) }

// Serve serves h over TLS on VendorAddr():port (for vendors on other ports, e.g. a
// Bitbucket Server or an OpenShift API server). Closed in cleanup.
func (n *Net) Serve(port int, h http.Handler) *Server {
	n.t.Helper()
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(s.record(h))
	s.Server.Listener.Close()
	s.Server.Listener = n.Listener(port)
	s.Server.TLS = n.TLSConfig()
	// Handshake failures (a client that does not trust the CA) go to the test log.
	s.Server.Config.ErrorLog = log.New(testLogWriter{n.t}, "vendornet mock: ", 0)
	s.Server.StartTLS()
	n.t.Cleanup(func() {
		s.Close()
		if n.t.Failed() {
			n.t.Logf("vendornet: mock %s saw:\n  %s", s.URL, strings.Join(s.Requests(), "\n  "))
		}
	})
	return s
}

// Forward accepts TCP connections on VendorAddr() and relays them to target (an
// address outside the namespace, e.g. PostgreSQL at 127.0.0.1:5432 or a server of
// the test on loopback); it returns the address to use inside.
func (n *Net) Forward(target string) string {
	n.t.Helper()
	l := n.Listener(0)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go relay(c, target)
		}
	}()
	return l.Addr().String()
}

func relay(in net.Conn, target string) {
	defer in.Close()
	out, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(out, in)
	go cp(in, out)
	<-done
	<-done
}

// Client is an HTTP client for the test itself that sees what processes inside see:
// vendor hosts go to VendorAddr and the CA is trusted; other addresses (Addr, loopback)
// are dialled as they are. Set Jar and CheckRedirect on it as needed.
func (n *Net) Client() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err == nil && slices.Contains(n.hosts, strings.ToLower(host)) {
					addr = net.JoinHostPort(n.hostIP.String(), port)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: n.ca.pool, MinVersion: tls.VersionTLS12},
		},
	}
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// DialInside connects from inside the namespace, so the test can reach what listens on
// the namespace's own loopback (e.g. `backstage-cli auth login`'s callback on
// 127.0.0.1:8055). addr's host must be an IP, "localhost" or one of Hosts (which go
// to VendorAddr): no name is looked up, since a lookup could run on a thread outside.
func (n *Net) DialInside(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	switch h := strings.ToLower(host); {
	case h == "localhost":
		host = "127.0.0.1"
	case slices.Contains(n.hosts, h):
		host = n.hostIP.String()
	case net.ParseIP(host) == nil:
		return nil, fmt.Errorf("vendornet: DialInside %s: not an IP address, localhost or a vendor host", addr)
	}
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// This goroutine's thread enters the namespace and is never unlocked, so the
		// runtime discards the thread when the goroutine returns instead of reusing it.
		// The socket keeps the namespace it was created in.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, n.name))
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("vendornet: setns %s: %w", n.name, err)}
			return
		}
		// One IP address: the dialer connects in this goroutine, on this thread.
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, net.JoinHostPort(host, port))
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// InsideClient is an HTTP client whose connections start inside the namespace (see
// DialInside), trusting the CA.
func (n *Net) InsideClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			DialContext:     n.DialInside,
			TLSClientConfig: &tls.Config{RootCAs: n.ca.pool, MinVersion: tls.VersionTLS12},
		},
	}
}

// Server is a TLS mock on the vendor address; it keeps a log of what it answered.
type Server struct {
	*httptest.Server
	mu  sync.Mutex
	log []string
}

// Requests lists "METHOD host/path -> status" for every request so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func (s *Server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.mu.Lock()
		s.log = append(s.log, fmt.Sprintf("%s %s%s -> %d", r.Method, r.Host, r.URL.Path, sw.status))
		s.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// HostMux routes by host name (the Host header without its port, lower-cased). A
// host without a handler answers 421 Misdirected Request, naming the host.
type HostMux map[string]http.Handler

func (m HostMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if h, ok := m[host]; ok {
		h.ServeHTTP(w, r)
		return
	}
	http.Error(w, "vendornet: no mock for host "+host, http.StatusMisdirectedRequest)
}
