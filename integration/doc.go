// Package integration holds the end-to-end tests of the real binaries: TestMain builds
// cmd/authbackend and cmd/mockpalette, and the tests start them on loopback ports and
// drive them like a browser with a cookie jar (popup and redirect flows, refresh,
// logout, every refusal), verify issued tokens with an independent JOSE library,
// start two replicas on one PostgreSQL database (AUTHBACKEND_TEST_PG_DSN), and check
// that bad configuration stops the server with a clear message. bench_test.go wires the
// whole server in process for end-to-end handler benchmarks. integration/e2e runs the
// same server against real Backstage packages from npm (AUTHBACKEND_E2E=1).
package integration
