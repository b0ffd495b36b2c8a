package integration

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Vendors whose modules hard-code their hosts (github.com, accounts.google.com,
// login.microsoftonline.com, ...) are tested with the real binary unchanged: a mock
// serves TLS with a certificate for those names from a throwaway CA, and a CONNECT
// proxy in the test tunnels exactly those host:ports to it. The server process gets
// HTTPS_PROXY and SSL_CERT_FILE (Go's standard proxy and root CA environment; loopback
// is never proxied), the test's browser the same proxy and CA. Nothing in the product
// knows about it.

// vendorHosts is the CA, the mock's certificate and the proxy for one test.
type vendorHosts struct {
	dir      string
	caFile   string
	certFile string
	keyFile  string
	pool     *x509.CertPool
	proxy    *connectProxy
}

// newVendorHosts makes a CA and a certificate for hosts (plus 127.0.0.1, so the test
// can reach the mock directly).
func newVendorHosts(t *testing.T, hosts ...string) *vendorHosts {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "integration test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	v := &vendorHosts{dir: dir, caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	for path, block := range map[string]*pem.Block{v.caFile: {Type: "CERTIFICATE", Bytes: caDER}, v.certFile: {Type: "CERTIFICATE", Bytes: leafDER}, v.keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	v.pool.AddCert(ca)
	return v
}

// tlsArgs are the mock's flags to serve with the certificate.
func (v *vendorHosts) tlsArgs() []string {
	return []string{"--tls-cert", v.certFile, "--tls-key", v.keyFile}
}

// route starts the proxy (once) and tunnels each host:port to addr.
func (v *vendorHosts) route(t *testing.T, addr string, hostPorts ...string) {
	t.Helper()
	if v.proxy == nil {
		v.proxy = startConnectProxy(t)
	}
	v.proxy.mu.Lock()
	defer v.proxy.mu.Unlock()
	for _, hp := range hostPorts {
		v.proxy.routes[hp] = addr
	}
}

// serverEnv is the server process's environment: the proxy and the CA.
func (v *vendorHosts) serverEnv() []string {
	return []string{"HTTPS_PROXY=" + v.proxy.url, "SSL_CERT_FILE=" + v.caFile}
}

// client is an HTTP client trusting the CA (for the mock's control endpoints).
func (v *vendorHosts) client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: v.pool}}}
}

// browse makes b reach https:// hosts through the proxy, trusting the CA.
func (v *vendorHosts) browse(b *browser) {
	proxy, _ := url.Parse(v.proxy.url)
	b.Client.Transport = &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) {
			if r.URL.Scheme == "https" {
				return proxy, nil
			}
			return nil, nil
		},
		TLSClientConfig: &tls.Config{RootCAs: v.pool},
	}
}

// connectProxy tunnels CONNECT requests for the routed host:ports only; anything else
// is refused, so no test reaches the real vendor.
type connectProxy struct {
	url    string
	mu     sync.Mutex
	routes map[string]string
	seen   []string
}

func startConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{url: "http://" + ln.Addr().String(), routes: map[string]string{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	target, ok := p.routes[req.Host]
	p.seen = append(p.seen, req.Method+" "+req.Host)
	p.mu.Unlock()
	if req.Method != http.MethodConnect || !ok {
		fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	fmt.Fprintf(c, "HTTP/1.1 200 Connection Established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, br); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// tunnelled reports whether the proxy tunnelled a CONNECT to hostPort.
func (p *connectProxy) tunnelled(hostPort string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.seen, "CONNECT "+hostPort)
}

// startVendorMockTLS starts a vendor personality serving TLS with v's certificate and
// returns it with its loopback address (for route).
func startVendorMockTLS(t *testing.T, v *vendorHosts, personality string, extraArgs ...string) (*vendorMock, string) {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	m := &vendorMock{URL: "https://" + addr, client: v.client()}
	args := append([]string{"--listen", addr, "--personality", personality,
		"--client-id", "backstage-client", "--client-secret", "backstage-secret"}, append(v.tlsArgs(), extraArgs...)...)
	m.proc = startProcess(t, "mockpalette", nil, args...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := m.client.Get(m.URL + "/_mock/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return m, addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS mock not ready: %v\n%s", err, m.proc.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
