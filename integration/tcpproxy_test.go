package integration

import (
	"io"
	"net"
	"sync"
	"testing"
)

type proxyMode int

const (
	proxyForward   proxyMode = iota
	proxyRefuse              // close every connection, new ones at once
	proxyBlackHole           // accept, never answer
)

// tcpProxy forwards 127.0.0.1:port to target until the test ends; set switches its
// behaviour, cutting the connections it holds.
type tcpProxy struct {
	addr   string
	target string
	mu     sync.Mutex
	mode   proxyMode
	conns  map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	p.addr = serveLoopback(t, p.serve)
	t.Cleanup(func() { p.set(proxyRefuse) })
	return p
}

// serveLoopback accepts connections on 127.0.0.1 until the test ends, each served by
// serve on its own goroutine, and returns the address.
func serveLoopback(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == proxyRefuse {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *tcpProxy) serve(c net.Conn) {
	if !p.track(c) {
		return
	}
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	if mode == proxyBlackHole {
		_, _ = io.Copy(io.Discard, c) // until set cuts it
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(up) {
		_ = c.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

func (p *tcpProxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]bool{}
}
