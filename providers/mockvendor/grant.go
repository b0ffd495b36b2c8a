package mockvendor

import (
	"net/http"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// tokenFault takes the armed token fault and, after its delay, answers an armed
// TokenStatus with upstream (the vendor's own error page). It returns false when the
// request is answered (or has ended).
func (s *Server) tokenFault(w http.ResponseWriter, r *http.Request, upstream func(w http.ResponseWriter, status int)) (Fault, bool) {
	f := s.takeFault(Fault.token)
	if !mockkit.Delay(r, f.TokenDelay) {
		return f, false
	}
	if f.TokenStatus != 0 {
		upstream(w, f.TokenStatus)
		return f, false
	}
	return f, true
}

// profileFault takes the armed profile fault and, after its delay, answers an armed
// ProfileStatus with upstream. It returns true when the request is answered (or has
// ended).
func (s *Server) profileFault(w http.ResponseWriter, r *http.Request, upstream func(w http.ResponseWriter, status int)) bool {
	f := s.takeFault(Fault.profile)
	if !mockkit.Delay(r, f.ProfileDelay) {
		return true
	}
	if f.ProfileStatus != 0 {
		upstream(w, f.ProfileStatus)
		return true
	}
	return false
}

// writePage answers status with a vendor's non-JSON error page.
func writePage(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// grantErrors are a vendor's token endpoint error descriptions, in the order
// redeemGrant checks them.
type grantErrors struct {
	// invalidGrantStatus is the status of invalid_grant (0: 400).
	invalidGrantStatus                           int
	unknownCode, redirectMismatch, badVerifier   string
	badRefresh, wideScope, unsupportedGrantTypes string
}

// refreshPolicy is how a vendor treats a refresh grant.
type refreshPolicy struct {
	// rotate: the refresh token is single use (else it stays valid and is answered again).
	rotate bool
	// keepScope: a narrower requested scope is accepted, but the grant keeps the
	// granted one (else it narrows to the requested one).
	keepScope bool
}

// redeemed is what a token request redeemed.
type redeemed struct {
	g grant
	// nonce is the authorize request's ("" on refresh).
	nonce      string
	refreshing bool
	// keep is the refresh token that stays valid (a vendor that does not rotate), else "".
	keep string
}

// redeemGrant runs the authorization_code or refresh_token grant of the parsed token
// request; an armed fault's Login replaces the grant's user. On failure it has answered
// with fail and returns false.
func (s *Server) redeemGrant(w http.ResponseWriter, r *http.Request, f Fault, p refreshPolicy, e grantErrors, fail func(w http.ResponseWriter, status int, code, desc string)) (redeemed, bool) {
	invalidGrant := e.invalidGrantStatus
	if invalidGrant == 0 {
		invalidGrant = http.StatusBadRequest
	}
	var out redeemed
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.takeCode(r.PostForm.Get("code"))
		switch {
		case c == nil:
			fail(w, invalidGrant, "invalid_grant", e.unknownCode)
			return out, false
		case c.redirectURI != r.PostForm.Get("redirect_uri"):
			fail(w, invalidGrant, "invalid_grant", e.redirectMismatch)
			return out, false
		case c.challenge != "" && !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")):
			fail(w, invalidGrant, "invalid_grant", e.badVerifier)
			return out, false
		}
		out.g, out.nonce = grant{login: c.login, scope: c.scope}, c.nonce
	case "refresh_token":
		out.refreshing = true
		rt := r.PostForm.Get("refresh_token")
		var old *grant
		if p.rotate {
			old = s.takeRefresh(rt)
		} else {
			s.mu.Lock()
			old = s.refresh[rt]
			s.mu.Unlock()
			out.keep = rt
		}
		if old == nil {
			fail(w, invalidGrant, "invalid_grant", e.badRefresh)
			return out, false
		}
		sc, ok := narrowScope(old.scope, strings.Fields(r.PostForm.Get("scope")))
		if !ok {
			fail(w, http.StatusBadRequest, "invalid_scope", e.wideScope)
			return out, false
		}
		if p.keepScope {
			sc = old.scope
		}
		out.g = grant{login: old.login, scope: sc}
	default:
		fail(w, http.StatusBadRequest, "unsupported_grant_type", e.unsupportedGrantTypes)
		return out, false
	}
	if f.Login != "" {
		out.g.login = f.Login
	}
	return out, true
}
