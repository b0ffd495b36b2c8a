package authdb

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// signals counts callbacks and lets a test wait for the next one.
type signals struct{ ch chan struct{} }

func newSignals() *signals { return &signals{ch: make(chan struct{}, 100)} }

func (s *signals) fire() { s.ch <- struct{}{} }

func (s *signals) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("no callback: %s", what)
	}
}

// drain empties the queue so that the next wait sees only new callbacks.
func (s *signals) drain() {
	for {
		select {
		case <-s.ch:
		default:
			return
		}
	}
}

func notifier(t *testing.T, s signingkeys.KeyStore) signingkeys.ChangeNotifier {
	t.Helper()
	n, ok := s.(signingkeys.ChangeNotifier)
	if !ok {
		t.Fatalf("%T is not a ChangeNotifier", s)
	}
	return n
}

func TestListenNotify(t *testing.T) {
	for _, mode := range pgModes {
		t.Run(mode.name, func(t *testing.T) {
			dsn, name := freshPGDatabase(t)
			a := openT(t, pgOptions(dsn, name, mode.schema))
			b := openT(t, pgOptions(dsn, name, mode.schema))

			signing, plugin := newSignals(), newSignals()
			if err := notifier(t, b.SigningKeys()).Listen(t.Context(), signing.fire); err != nil {
				t.Fatal(err)
			}
			if err := notifier(t, b.PluginKeys()).Listen(t.Context(), plugin.fire); err != nil {
				t.Fatal(err)
			}
			signing.wait(t, "after the first LISTEN")
			plugin.wait(t, "after the first LISTEN")

			if err := notifier(t, a.SigningKeys()).Notify(t.Context()); err != nil {
				t.Fatal(err)
			}
			signing.wait(t, "after A notified signing keys")

			if err := notifier(t, a.PluginKeys()).Notify(t.Context()); err != nil {
				t.Fatal(err)
			}
			plugin.wait(t, "after A notified plugin keys")

			// B's own notification is for the others; A's still arrives after it, in order.
			signing.drain()
			if err := notifier(t, b.SigningKeys()).Notify(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := notifier(t, a.SigningKeys()).Notify(t.Context()); err != nil {
				t.Fatal(err)
			}
			signing.wait(t, "after A notified again")
		})
	}
}

// The LISTEN connection is killed by the server: the listener reconnects, reports a
// change (whatever was notified meanwhile is lost otherwise) and keeps receiving.
func TestListenReconnectsAfterTermination(t *testing.T) {
	dsn, name := freshPGDatabase(t)
	opts := pgOptions(dsn, name, "")
	a := openT(t, opts)
	b := openT(t, opts)
	sig := newSignals()
	if err := notifier(t, b.SigningKeys()).Listen(t.Context(), sig.fire); err != nil {
		t.Fatal(err)
	}
	sig.wait(t, "after the first LISTEN")

	var killed int
	if err := a.sql.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, applicationName+"-listen").Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	sig.wait(t, "after reconnecting")
	if err := notifier(t, a.SigningKeys()).Notify(t.Context()); err != nil {
		t.Fatal(err)
	}
	sig.wait(t, "after a notify on the new connection")
}

// tcpProxy forwards 127.0.0.1:<port> to the PostgreSQL server and can be cut off and
// restored on the same port, to simulate the database becoming unreachable.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = up.Close()
}

// down closes the listener and every proxied connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) up() {
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("proxy: relisten on %s: %v", p.addr, err)
}

// viaProxy starts a proxy to the DSN's server and returns the DSN rewritten to use it.
func viaProxy(t *testing.T, dsn string) (string, *tcpProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("AUTHBACKEND_TEST_PG_DSN is not a URL with a host (%v); skipping outage test", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := newTCPProxy(t, target)
	u.Host = p.addr
	return u.String(), p
}

// Ping fails while the server is unreachable and recovers after; the LISTEN connection
// comes back by itself and reports a change.
func TestPingAndListenAcrossOutage(t *testing.T) {
	dsn, name := freshPGDatabase(t)
	proxied, proxy := viaProxy(t, dsn)
	opts := pgOptions(proxied, name, "")
	db := openT(t, opts)
	direct := openT(t, pgOptions(dsn, name, ""))

	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping while up: %v", err)
	}
	sig := newSignals()
	if err := notifier(t, db.SigningKeys()).Listen(t.Context(), sig.fire); err != nil {
		t.Fatal(err)
	}
	sig.wait(t, "after the first LISTEN")

	proxy.down()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	err := db.Ping(ctx)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeded while the database was unreachable")
	}
	proxy.up()
	sig.wait(t, "after the LISTEN connection came back")
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after recovery: %v", err)
	}
	if err := notifier(t, direct.SigningKeys()).Notify(t.Context()); err != nil {
		t.Fatal(err)
	}
	sig.wait(t, "after a notify following the outage")
}

// Close ends the listener goroutines and their connections.
func TestCloseStopsListeners(t *testing.T) {
	dsn, name := freshPGDatabase(t)
	opts := pgOptions(dsn, name, "")
	watcher := openT(t, opts)
	db, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	sig := newSignals()
	if err := notifier(t, db.PluginKeys()).Listen(context.Background(), sig.fire); err != nil {
		t.Fatal(err)
	}
	sig.wait(t, "after the first LISTEN")
	listeners := func() int {
		var n int
		if err := watcher.sql.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, applicationName+"-listen").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := listeners(); n != 1 {
		t.Fatalf("%d listener connections, want 1", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for listeners() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("listener connection still open after Close")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := notifier(t, db.PluginKeys()).Listen(t.Context(), sig.fire); err == nil {
		t.Fatal("Listen on a closed DB succeeded")
	}
}
