// Package examples holds what an operator copies to run authbackend beside a
// Backstage Node backend: the nginx route (nginx/), the discovery.endpoints entries
// both backends load (app-config.discovery.yaml) and Kubernetes manifests
// (kubernetes/). It has no Go code; examples_test.go parses and checks the files, and
// integration/e2e drives a real browser through the nginx config.
package examples
