package authserver

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// oauthError is Backstage's OidcError: an OAuth error code, its description and the
// status, answered as {"error","error_description"}.
type oauthError struct {
	code, description string
	status            int
	cause             error
}

func (e *oauthError) Error() string { return e.code + ", " + e.description }
func (e *oauthError) Unwrap() error { return e.cause }

func oerr(code string, status int, description string) *oauthError {
	return &oauthError{code: code, description: description, status: status}
}

// fromError is OidcError.fromError: Backstage errors map by class, anything else is a
// server_error whose message is not shown (ours: Node shows it).
func fromError(err error) *oauthError {
	var oe *oauthError
	if errors.As(err, &oe) {
		return oe
	}
	be, ok := backstageerr.As(err)
	if !ok {
		return &oauthError{code: "server_error", description: "Unknown error", status: http.StatusInternalServerError, cause: err}
	}
	msg := be.Message
	if msg == "" {
		msg = "Unknown error"
	}
	switch be.Name {
	case backstageerr.NameInput, backstageerr.NameNotFound:
		return &oauthError{code: "invalid_request", description: msg, status: http.StatusBadRequest, cause: err}
	case backstageerr.NameAuthentication:
		return &oauthError{code: "invalid_client", description: msg, status: http.StatusUnauthorized, cause: err}
	case backstageerr.NameNotAllowed:
		return &oauthError{code: "access_denied", description: msg, status: http.StatusForbidden, cause: err}
	}
	return &oauthError{code: "server_error", description: msg, status: http.StatusInternalServerError, cause: err}
}

// tokenError is /v1/token's mapping: an AuthenticationError is invalid_grant 400.
func tokenError(err error) *oauthError {
	var oe *oauthError
	if !errors.As(err, &oe) && backstageerr.NameOf(err) == backstageerr.NameAuthentication {
		return &oauthError{code: "invalid_grant", description: backstageerr.MessageOf(err), status: http.StatusBadRequest, cause: err}
	}
	return fromError(err)
}

type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if e.status >= 500 {
		s.log.ErrorContext(r.Context(), "OIDC request failed", "status", e.status, "error", e.code, "path", r.URL.Path, "cause", errString(e.cause))
		if _, ok := backstageerr.As(e.cause); !ok && e.cause != nil {
			e = &oauthError{code: e.code, description: "Unknown error", status: e.status}
		}
	} else {
		s.log.InfoContext(r.Context(), "OIDC request failed with status "+strconv.Itoa(e.status)+": "+e.code+" - "+e.description)
	}
	if e.status == http.StatusUnauthorized && e.code == "invalid_client" {
		w.Header().Set("WWW-Authenticate", `Basic realm="auth"`)
	}
	body, _ := jsrules.Marshal(oauthErrorBody{Error: e.code, ErrorDescription: e.description})
	writeJSON(w, r, e.status, body)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
