//go:build pprof

package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// A profiling build (go build -tags pprof, as scripts/load.sh PROFILE=1 does) serves
// net/http/pprof on AUTHBACKEND_PPROF_LISTEN. Release builds have none of this: the
// profiler must never be reachable on a production listener.
func init() {
	addr := os.Getenv("AUTHBACKEND_PPROF_LISTEN")
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic("pprof listener: " + err.Error())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go http.Serve(ln, mux) //nolint:errcheck // ends with the process
}
