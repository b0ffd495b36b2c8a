// Package vendornet is a test harness that puts the vendor hosts the Backstage
// provider modules hard-code (github.com, login.microsoftonline.com,
// www.gstatic.com, <team>.cloudflareaccess.com, ...: KnownHosts) on this machine,
// so the real Node modules and our Go server can be run against the same vendor mock
// without changing either. Only tests import it; no product package may.
//
// vendornet.New(t, extraHosts...) builds, for one test:
//
//   - a private network namespace (`ip netns add abvn<pid>-<n>`, iproute2) whose
//     /etc/netns/<name>/hosts maps every vendor host to one address, VendorAddr, and
//     whose resolv.conf makes every other name fail at once; it has no default route,
//     so nothing inside can reach beyond this machine;
//   - a veth pair joining it to the test process: VendorAddr (10.213.<i>.1) is the
//     host end, Addr (10.213.<i>.2) the namespace end. The test reaches processes
//     inside at Addr; processes inside reach the test's listeners at VendorAddr. The
//     whole 10.213.0.0/16 is routed `unreachable` on the host (left in place, it is
//     idempotent), so a packet for a link already removed fails locally;
//   - a throwaway CA and one certificate (ECDSA, 48 h) for all the hosts and both
//     addresses, in memory; CAFile is the CA's PEM in the test's temp dir.
//
// The mock is an ordinary http.Handler served by the test process: Listen443(h) serves
// it over TLS on VendorAddr:443, so https://github.com/... inside the namespace is h
// with a trusted certificate (route several vendors with HostMux); Serve(port, h) does
// the same on another port, Listener(port) gives the bare socket, Forward(target)
// relays a port on VendorAddr to something outside (PostgreSQL, a loopback server),
// and Client() is a test-side client that sees the hosts as processes inside do.
// Listening on the host end instead of inside the namespace needs no setns on a locked
// thread: the name→address mapping is what makes the host "github.com".
//
// Command(name, args...) runs a process inside (`ip netns exec`, which bind-mounts the
// hosts file and execs in place, so pid, process group and signals are the process's
// own) with NODE_EXTRA_CA_CERTS and SSL_CERT_FILE set to the CA and proxy variables
// removed: Node adds the CA to its roots, Go, OpenSSL and curl use it as theirs.
// Processes inside listen on Addr (or 0.0.0.0) at any port (Port hands out distinct
// ones: the namespace is private).
//
// Clean-up runs in t.Cleanup after the caller's later cleanups (so its processes stop
// first): whatever still runs inside is killed, then the namespace, the veth pair and
// /etc/netns/<name> are removed, also when the test failed. A run killed before its
// cleanup leaves an owner file (pid and start time) in /run/authbackend-vendornet; the
// next New removes every namespace whose owner is gone. Set-up is serialised across
// processes by a lock file there, so several test binaries can use it at once.
//
// It needs root and iproute2 (integration/node/install.sh installs it); callers gate
// it like the other e2e tests (AUTHBACKEND_E2E=1), and New fails the test when
// something is missing. Its own tests run under the same switch.
package vendornet
