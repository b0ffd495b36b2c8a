package oauth2engine

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// Sign-in failures keep the wording of Backstage's passport helper ("Authentication
// failed, ..." for IdP or transport trouble, "Authentication rejected, ..." for a user
// who said no or a token that did not verify), with the plain Error class. They name
// HTTP statuses and OAuth error codes, never an upstream body, token or secret; an IdP's
// error_description is shown only from the callback URL (which the user's browser
// already holds), reduced to plain text.

// Messages of the passport helper, kept verbatim where Backstage's own text is shown.
const (
	MsgFailedToObtainAccessToken = "Failed to obtain access token"
	MsgFailedToFetchUserProfile  = "Failed to fetch user profile"
	MsgFailedToRefresh           = "Failed to refresh access token"
	MsgNoAccessTokenOnRefresh    = "Failed to refresh access token, no access token received"
	MsgInvalidAccessToken        = "Invalid access token"
	MsgUnexpectedRedirect        = "Unexpected redirect (the callback has no authorization code)"
)

// Failed is a sign-in failure: "Authentication failed, <msg>".
func Failed(msg string) error { return backstageerr.Plain("Authentication failed, %s", msg) }

// Rejected is a refused sign-in: "Authentication rejected, <msg>".
func Rejected(msg string) error { return backstageerr.Plain("Authentication rejected, %s", msg) }

// callbackError maps ?error=...&error_description=... on the callback as
// passport-oauth2 does: access_denied is a rejection, anything else a failure. The
// message is the description (as plain text), else the error code.
func callbackError(code, description string) error {
	msg := upstream.Printable(description, 200)
	if msg == "" {
		if msg = upstream.ErrorCode(code); msg == "" {
			msg = "unknown_error"
		}
	}
	if code == "access_denied" {
		return Rejected(msg)
	}
	return Failed(msg)
}

// StatusError is an IdP answer with a status other than 2xx.
type StatusError struct {
	Status int
	// Code is the OAuth error code of a JSON error body ("" when there is none).
	Code string
}

func (e *StatusError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s
}

// AnswerError is a 2xx answer that is not what was asked for (a token response
// without an access token, a profile that is not a JSON object, ...).
type AnswerError struct {
	// Reason says what was wrong, in words safe to show.
	Reason string
	// Code is the OAuth error code the answer carried (GitHub's 200 with
	// error=bad_verification_code), "" when none.
	Code string
}

func (e *AnswerError) Error() string {
	if e.Code != "" {
		return e.Reason + " (" + e.Code + ")"
	}
	return e.Reason
}

// HasStatus reports whether err is an IdP answer with this HTTP status.
func HasStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// Reason describes an upstream failure in a few words safe to show a user: the HTTP
// status and OAuth error code, a timeout, an oversized or malformed answer, or an
// unreachable IdP. Details go to the log, never into the message.
func Reason(err error, timeout time.Duration) string {
	var se *StatusError
	var ae *AnswerError
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &ae):
		return ae.Error()
	case errors.Is(err, upstream.ErrTooLarge):
		return "the answer is too large"
	case upstream.IsTimeout(err):
		return "timed out after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "the identity provider could not be reached"
}

// wrapUpstream returns err as it is when it is already a Backstage error (a vendor hook
// chose its message), else "<prefix><what> (<reason>)" as a plain Error.
func wrapUpstream(err error, prefix, what string, timeout time.Duration) error {
	if _, ok := backstageerr.As(err); ok {
		return err
	}
	return backstageerr.Plain("%s%s (%s)", prefix, what, Reason(err, timeout))
}
