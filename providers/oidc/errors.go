package oidc

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// Callback failures use Backstage's wording ("Authentication failed, ..." for IdP or
// transport trouble, "Authentication rejected, ..." for refused tokens and user-facing
// IdP errors) with the plain Error class, as openid-client's passport strategy reports
// them. Messages name status codes and OAuth error codes but never echo an upstream
// body, token or secret.

func (p *Provider) failed(format string, args ...any) error {
	return backstageerr.Plain("Authentication failed, "+format, args...)
}

func (p *Provider) rejected(msg string) error {
	return backstageerr.Plain("Authentication rejected, %s", msg)
}

// upstreamErr reports a transport failure while doing what.
func (p *Provider) upstreamErr(what string, err error) error {
	if upstream.IsTimeout(err) {
		return p.failed("%s timed out after %s", what, p.cfg.Timeout)
	}
	if errors.Is(err, context.Canceled) {
		return p.failed("%s was cancelled", what)
	}
	return p.failed("%s failed (the identity provider could not be reached)", what)
}

// tokenEndpointErr reports a token endpoint failure, naming the HTTP status and OAuth
// error code only. call is what the endpoint answered (see tokenCtx).
func (p *Provider) tokenEndpointErr(what string, err error, call *tokenCall) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		code := upstream.ErrorCode(re.ErrorCode)
		p.log.Warn("oidc token endpoint error", "op", what, "status", re.Response.StatusCode, "error", code)
		detail := "HTTP " + strconv.Itoa(re.Response.StatusCode)
		if code != "" {
			detail += " " + code
		}
		return p.failed("%s with the identity provider failed (%s)", what, detail)
	}
	if call.answered2xx {
		// A 2xx arrived in full, yet x/oauth2 found no token in it (not JSON, no
		// access_token, ...).
		p.log.Warn("oidc token endpoint answered an unusable token response", "op", what, "status", call.status, "err", err)
		return p.failed("%s with the identity provider failed (invalid token response)", what)
	}
	p.log.Warn("oidc token endpoint unreachable", "op", what, "err", err)
	if upstream.IsTimeout(err) || upstream.IsTimeout(call.err) {
		return p.failed("%s with the identity provider timed out after %s", what, p.cfg.Timeout)
	}
	return p.failed("%s with the identity provider failed (the identity provider could not be reached)", what)
}

// idpCallbackError maps ?error=...&error_description=... on the callback. Like
// openid-client, server_error and invalid_* are failures, anything else (access_denied,
// login_required, ...) is a rejection.
func idpCallbackError(code, description string) error {
	c := upstream.ErrorCode(code)
	if c == "" {
		c = "unknown_error"
	}
	prefix := "Authentication rejected, "
	if c == "server_error" || strings.HasPrefix(c, "invalid") || c == "temporarily_unavailable" {
		prefix = "Authentication failed, "
	}
	msg := prefix + c
	if d := upstream.Printable(description, 200); d != "" {
		msg += " (" + d + ")"
	}
	return backstageerr.Plain("%s", msg)
}
