package authserver

import (
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/audit"
	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// authorize is GET /v1/authorize: the request is validated and stored as a pending
// session, and the browser sent to the app's consent page. Errors are never
// redirected to the redirect_uri (it may not be validated).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	q, err := validate(queryParams(r),
		field{name: "client_id", required: true}, field{name: "redirect_uri", required: true, url: true},
		field{name: "response_type", required: true}, field{name: "scope"}, field{name: "state"}, field{name: "nonce"},
		field{name: "code_challenge"}, field{name: "code_challenge_method"})
	if err != nil {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	if q["response_type"] != "code" {
		return backstageerr.Input("Only authorization code flow is supported")
	}
	if _, err := s.resolveClient(r.Context(), q["client_id"], q["redirect_uri"]); err != nil {
		return err
	}
	if q["code_challenge"] == "" {
		return backstageerr.Input("PKCE is required for all clients. Provide a code_challenge parameter.")
	}
	if q["code_challenge_method"] != "S256" {
		return backstageerr.Input("Invalid code_challenge_method")
	}
	id, err := s.uuid4()
	if err != nil {
		return err
	}
	err = s.sessions.CreateSession(r.Context(), store.Session{
		ID: id, ClientID: q["client_id"], RedirectURI: q["redirect_uri"], Scope: q["scope"], State: q["state"],
		ResponseType: q["response_type"], CodeChallenge: q["code_challenge"], CodeChallengeMethod: q["code_challenge_method"],
		Nonce: q["nonce"], Status: store.StatusPending, ExpiresAt: s.now().Add(sessionLifetime),
	})
	if err != nil {
		return err
	}
	base := s.appBase
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	target := u.ResolveReference(&url.URL{Path: "oauth2/authorize/" + id}).String()
	redirect(w, r, target)
	return nil
}

// redirect is Express's res.redirect (302 with a short body chosen by Accept).
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	h := w.Header()
	h.Set("Location", target)
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "text/html") && !strings.Contains(accept, "text/plain") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusFound)
		e := html.EscapeString(target)
		_, _ = w.Write([]byte("<p>Found. Redirecting to <a href=\"" + e + "\">" + e + "</a></p>"))
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	_, _ = w.Write([]byte("Found. Redirecting to " + target))
}

// validPendingSession is getValidPendingSession.
func (s *Server) validPendingSession(r *http.Request, id string) (store.Session, error) {
	sess, err := s.sessions.GetSession(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, backstageerr.NotFound("Invalid authorization session")
	}
	if err != nil {
		return store.Session{}, err
	}
	if sess.ExpiresAt.Before(s.now()) {
		return store.Session{}, backstageerr.Input("Authorization session expired")
	}
	if sess.Status != store.StatusPending {
		return store.Session{}, backstageerr.NotFound("Authorization session not found or expired")
	}
	return sess, nil
}

type sessionBody struct {
	ID          string `json:"id"`
	ClientID    string `json:"clientId"`
	ClientName  string `json:"clientName"`
	Scope       string `json:"scope,omitempty"`
	RedirectURI string `json:"redirectUri"`
}

// getSession is GET /v1/sessions/:sessionId, the consent page's data.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	sess, c, err := s.pendingWithClient(r)
	if err != nil {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	body, err := jsrules.Marshal(sessionBody{ID: sess.ID, ClientID: sess.ClientID, ClientName: c.name, Scope: sess.Scope, RedirectURI: sess.RedirectURI})
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, body)
	return nil
}

func (s *Server) pendingWithClient(r *http.Request) (store.Session, *client, error) {
	id := r.PathValue("sessionId")
	if id == "" {
		return store.Session{}, nil, oerr("invalid_request", http.StatusBadRequest, `Validation error: Too small: expected string to have >=1 characters at "sessionId"`)
	}
	sess, err := s.validPendingSession(r, id)
	if err != nil {
		return store.Session{}, nil, err
	}
	c, err := s.resolveClient(r.Context(), sess.ClientID, "")
	if err != nil {
		return store.Session{}, nil, err
	}
	return sess, c, nil
}

type redirectBody struct {
	RedirectURL string `json:"redirectUrl"`
}

// approve is POST /v1/sessions/:sessionId/approve with the user's Bearer token.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) error {
	fail := func(err error) error {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	kind, user, err := s.caller(r)
	if err != nil {
		return fail(err)
	}
	if kind != principalUser {
		return fail(oerr("access_denied", http.StatusForbidden, "Authentication required"))
	}
	sess, err := s.validPendingSession(r, r.PathValue("sessionId"))
	if err != nil {
		return fail(err)
	}
	if err := s.decide(w, r, sess, user, true); err != nil {
		return fail(err)
	}
	return nil
}

// reject is POST /v1/sessions/:sessionId/reject. As in Backstage, a bad token here is
// answered as Backstage's error JSON, not an OAuth error.
func (s *Server) reject(w http.ResponseWriter, r *http.Request) error {
	kind, user, err := s.caller(r)
	if err != nil {
		return err
	}
	if kind != principalUser {
		s.writeOAuthError(w, r, oerr("access_denied", http.StatusForbidden, "Authentication required"))
		return nil
	}
	fail := func(err error) error {
		s.writeOAuthError(w, r, fromError(err))
		return nil
	}
	sess, _, err := s.pendingWithClient(r)
	if err != nil {
		return fail(err)
	}
	if err := s.decide(w, r, sess, user, false); err != nil {
		return fail(err)
	}
	return nil
}

// decide records the user's decision with one conditional update (of two concurrent
// decisions only one wins, so only one code is ever issued) and answers the redirect
// URL: with a new code (appended to the registered query) when approved, with
// access_denied (replacing the query) when not.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, sess store.Session, user string, approved bool) error {
	status, outcome := store.StatusRejected, "rejected"
	pairs := []kv{{"error", "access_denied"}, {"error_description", "User denied the request"}}
	if approved {
		status, outcome = store.StatusApproved, "approved"
	}
	ok, err := s.sessions.DecideSession(r.Context(), sess.ID, status, user)
	if err != nil {
		return err
	}
	if !ok {
		return backstageerr.NotFound("Authorization session not found or expired")
	}
	if approved {
		code, err := s.randomToken(32)
		if err != nil {
			return err
		}
		if err := s.codes.CreateCode(r.Context(), store.Code{Code: code, SessionID: sess.ID, ExpiresAt: s.now().Add(codeLifetime)}); err != nil {
			return err
		}
		pairs = []kv{{"code", code}}
	}
	if sess.State != "" {
		pairs = append(pairs, kv{"state", sess.State})
	}
	target, err := withQuery(sess.RedirectURI, !approved, pairs...)
	if err != nil {
		return err
	}
	s.record(r, EventConsent, audit.Medium, user, outcome, "", slog.String("clientId", sess.ClientID), slog.String("sessionId", sess.ID))
	body, err := jsrules.Marshal(redirectBody{RedirectURL: target})
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, body)
	return nil
}
