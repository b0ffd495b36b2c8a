package oidc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/keyfetch"
)

// x/oauth2 and go-oidc report several failures as bare strings (an unusable 2xx token
// response; any key-set error once it passes through IDTokenVerifier.Verify). The types
// below observe the IdP's answers beneath the libraries, so failures are classified by
// type and a library upgrade cannot silently move one to another message.

// tokenCall records what the token endpoint answered for one exchange or refresh.
type tokenCall struct {
	// answered2xx: the last response had a 2xx status, so an error x/oauth2 returns
	// without a RetrieveError means the body was not a usable token response.
	answered2xx bool
	status      int
	// err is the transport or body read error, if any.
	err error
}

// tokenCtx returns ctx carrying the HTTP client x/oauth2 uses for one token request,
// and the record of what the token endpoint answered. The transport (and so the
// connection pool) is shared with every other IdP call.
func (p *Provider) tokenCtx(ctx context.Context) (context.Context, *tokenCall) {
	call := &tokenCall{}
	c := *p.client
	c.Transport = &tokenCallTransport{base: transportOf(p.client), call: call}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.Timeout {
		// The context bounds the call already. A client Timeout would make net/http
		// treat the wrapper as a legacy transport: a timer goroutine per request.
		c.Timeout = 0
	}
	return context.WithValue(ctx, oauth2.HTTPClient, &c), call
}

type tokenCallTransport struct {
	base http.RoundTripper
	call *tokenCall
}

func (t *tokenCallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	*t.call = tokenCall{err: failure(req.Context(), err)} // a redirect or retry: the last answer counts
	if err != nil {
		return nil, err
	}
	t.call.status = resp.StatusCode
	t.call.answered2xx = resp.StatusCode >= 200 && resp.StatusCode <= 299
	resp.Body = &observedBody{ReadCloser: resp.Body, ctx: req.Context(), call: t.call}
	return resp, nil
}

// observedBody records a failure to read the token response (a 2xx whose body never
// fully arrived is a transport failure, not an invalid response).
type observedBody struct {
	io.ReadCloser
	ctx  context.Context
	call *tokenCall
}

func (b *observedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.call.answered2xx, b.call.err = false, failure(b.ctx, err)
	}
	return n, err
}

// failure is the reason a request failed with err: its context's error when the
// context ended or its deadline passed (net/http reports a body cut short as a bare
// "request canceled", and the client's own timer may fire a moment before the
// context's), else err.
func failure(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// keyCheck is how the key set tells verifyIDToken what it found, because go-oidc's
// Verify reports key-set errors as text only. verifyIDToken puts one in the context it
// passes to Verify; go-oidc hands that context on to KeySet.VerifySignature.
type keyCheck struct {
	// done: the key set was asked (go-oidc parsed the JWT and accepted its alg).
	done bool
	// err is the key set's answer: nil (signature valid), an error keyfetch.Undecided
	// reports (the keys could not be fetched) or another (no key verifies it).
	err error
	// gen is the key-set generation that verified the signature.
	gen *keyfetch.Generation
}

type keyCheckKey struct{}

func withKeyCheck(ctx context.Context) (context.Context, *keyCheck) {
	kc := &keyCheck{}
	return context.WithValue(ctx, keyCheckKey{}, kc), kc
}

// keySet is the IdP's key fetcher as go-oidc's KeySet, reporting to the keyCheck.
type keySet struct{ f *keyfetch.Fetcher }

var _ gooidc.KeySet = keySet{}

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	v, err := k.f.Verify(ctx, jwt)
	if kc, ok := ctx.Value(keyCheckKey{}).(*keyCheck); ok {
		kc.done, kc.err, kc.gen = true, err, v.Generation
	}
	if err != nil {
		return nil, err
	}
	return v.Payload, nil
}
