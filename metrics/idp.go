package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IdP endpoints, told apart by the request (the transport sees URLs, not the
// provider's discovery document): a small fixed set, so the label stays bounded.
const (
	EndpointDiscovery  = "discovery"
	EndpointJWKS       = "jwks"
	EndpointToken      = "token"
	EndpointUserinfo   = "userinfo"
	EndpointRevocation = "revocation"
	EndpointOther      = "api"
)

var endpoints = [...]string{EndpointDiscovery, EndpointJWKS, EndpointToken, EndpointUserinfo, EndpointRevocation, EndpointOther}

// Error kinds of IdP calls.
var errorKinds = [...]string{"timeout", "network", "http_4xx", "http_5xx"}

// ClassifyEndpoint names the IdP endpoint a request goes to.
func ClassifyEndpoint(r *http.Request) string {
	p := strings.ToLower(r.URL.Path)
	switch {
	case strings.HasSuffix(p, "/.well-known/openid-configuration"), strings.HasSuffix(p, "/.well-known/oauth-authorization-server"):
		return EndpointDiscovery
	case strings.Contains(p, "revoke"), strings.Contains(p, "revocation"):
		return EndpointRevocation
	case r.Method == http.MethodPost && strings.Contains(p, "token"):
		return EndpointToken
	case strings.Contains(p, "userinfo"):
		return EndpointUserinfo
	case strings.Contains(p, "jwks"), strings.Contains(p, "/certs"), strings.HasSuffix(p, "/keys"):
		return EndpointJWKS
	}
	return EndpointOther
}

type endpointChildren struct {
	duration prometheus.Observer
	errors   [len(errorKinds)]prometheus.Counter
}

// idpTransport records IdP calls of one provider.
type idpTransport struct {
	base     http.RoundTripper
	children [len(endpoints)]endpointChildren
}

// IdPTransport wraps base (nil: http.DefaultTransport) so that every call records
// authbackend_idp_request_duration_seconds and, when it fails,
// authbackend_idp_request_errors_total, labelled with provider (a configured id) and
// the endpoint. The duration is until the response headers arrive.
func (m *Metrics) IdPTransport(provider string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &idpTransport{base: base}
	for i, ep := range endpoints {
		t.children[i].duration = m.idpDuration.WithLabelValues(provider, ep)
		for j, k := range errorKinds {
			t.children[i].errors[j] = m.idpErrors.WithLabelValues(provider, ep, k)
		}
	}
	return t
}

func (t *idpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ep := ClassifyEndpoint(req)
	var ch *endpointChildren
	for i := range endpoints {
		if endpoints[i] == ep {
			ch = &t.children[i]
			break
		}
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	ch.duration.Observe(time.Since(start).Seconds())
	switch {
	case err != nil:
		if isTimeout(req.Context(), err) {
			ch.errors[0].Inc()
		} else {
			ch.errors[1].Inc()
		}
	case resp.StatusCode >= 500:
		ch.errors[3].Inc()
	case resp.StatusCode >= 400:
		ch.errors[2].Inc()
	}
	return resp, err
}

func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
