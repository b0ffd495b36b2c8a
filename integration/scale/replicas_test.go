package scale

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// balancer is a round-robin TCP balancer (as a Kubernetes Service or an L4 load
// balancer does): each new connection goes to the next backend.
type balancer struct {
	ln       net.Listener
	backends []string
	next     atomic.Int64
}

func newBalancer(t *testing.T, backends []string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			target := b.backends[int(b.next.Add(1)-1)%len(b.backends)]
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c) }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	return b
}

// replica is one authbackend process.
type replica struct{ addr string }

func startReplica(t *testing.T, bin, dsn, prefix string) replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pgPort := u.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	pw, _ := u.User.Password()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`app: {baseUrl: "http://127.0.0.1:3000"}
backend:
  baseUrl: http://127.0.0.1:%d
  listen: {host: 127.0.0.1, port: %d}
  database: {client: pg, prefix: %s, connection: {host: %s, port: %s, user: %s, password: %q}}
auth:
  session: {secret: scale-secret-scale-secret-scale-00}
  providers: {guest: {dangerouslyAllowOutsideDevelopment: true}}
authbackend: {rateLimit: {enabled: false}}
`, port, port, prefix, u.Hostname(), pgPort, u.User.Username(), pw)
	path := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", path, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "NODE_ENV=production")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/.backstage/health/v1/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica on %s not ready", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return replica{addr: addr}
}

// drive sends requests from conns keep-alive connections for d and returns the
// rate of 200 answers, the p99 latency and the number of other answers.
func drive(t *testing.T, target string, conns int, d time.Duration, newReq func() *http.Request) (float64, time.Duration, int64) {
	t.Helper()
	var ok, bad atomic.Int64
	var mu sync.Mutex
	var all latencies
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One connection per worker, so the balancer spreads the workers.
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			var lat latencies
			for time.Now().Before(stop) {
				req := newReq()
				req.URL.Host = target
				s := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(s))
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / d.Seconds(), all.p99(), bad.Load()
}

// TestReplicasCurve: throughput of 1, 2 and 3 replicas (real processes, built by
// scripts/scale.sh into AUTHBACKEND_BIN) on one PostgreSQL database behind a
// round-robin balancer, for /refresh (guest: mints a token, skips the unchanged
// user_info write) and /v1/userinfo (a token minted by some replica, verified by any).
func TestReplicasCurve(t *testing.T) {
	bin := os.Getenv("AUTHBACKEND_BIN")
	if bin == "" {
		t.Skip("AUTHBACKEND_BIN (a built cmd/authbackend) is not set; scripts/scale.sh sets it")
	}
	dsn := os.Getenv("AUTHBACKEND_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("set AUTHBACKEND_TEST_PG_DSN to run the replicas curve")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "scale_" + hex.EncodeToString(b) + "_"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{prefix + "auth"}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	reps := []replica{startReplica(t, bin, dsn, prefix)} // the first creates the database
	for range 2 {
		reps = append(reps, startReplica(t, bin, dsn, prefix))
	}
	refresh := func() *http.Request {
		req, _ := http.NewRequest("GET", "http://x/api/auth/guest/refresh", nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		return req
	}
	resp, err := http.DefaultClient.Do(func() *http.Request { r := refresh(); r.URL.Host = reps[0].addr; return r }())
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		BackstageIdentity struct{ Token string } `json:"backstageIdentity"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || body.BackstageIdentity.Token == "" {
		t.Fatalf("guest refresh: %d %v", resp.StatusCode, err)
	}
	userinfo := func() *http.Request {
		req, _ := http.NewRequest("GET", "http://x/api/auth/v1/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+body.BackstageIdentity.Token)
		return req
	}
	d := time.Second
	if full() {
		d = 8 * time.Second
	}
	header := []string{"replicas", "/refresh req/s", "p99", "/v1/userinfo req/s", "p99"}
	var rows [][]string
	for n := 1; n <= len(reps); n++ {
		addrs := make([]string, n)
		for i := range n {
			addrs[i] = reps[i].addr
		}
		lb := newBalancer(t, addrs)
		target := lb.ln.Addr().String()
		drive(t, target, 32, d/4, refresh) // warm-up
		rr, rp, rbad := drive(t, target, 32, d, refresh)
		drive(t, target, 32, d/4, userinfo)
		ur, up, ubad := drive(t, target, 32, d, userinfo)
		if rbad+ubad > 0 {
			t.Errorf("%d replicas: %d refresh and %d userinfo requests failed", n, rbad, ubad)
		}
		rows = append(rows, []string{fmt.Sprint(n), fmt.Sprintf("%.0f", rr), dur(rp), fmt.Sprintf("%.0f", ur), dur(up)})
	}
	table("Replicas on one PostgreSQL behind a round-robin balancer (32 connections, load generator on the same 2 cores)", header, rows)
}
