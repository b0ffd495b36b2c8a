package authbackend

import (
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// errorJSON is serializeError's output for a Backstage error: name, message, the
// cause (recursively) and, in development mode only, a stack.
type errorJSON struct {
	Name    string     `json:"name"`
	Message string     `json:"message"`
	Cause   *errorJSON `json:"cause,omitempty"`
	Stack   string     `json:"stack,omitempty"`
}

// errorBody is Backstage's standard error response.
type errorBody struct {
	Error   errorJSON `json:"error"`
	Request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

// publicError returns the Backstage error a client may see for err: the outermost
// *backstageerr.Error in its chain, or, for any other error, a plain Error "An
// internal error occurred logId=<id>" after logging the real error under that id.
// A Backstage error with a Detail (internal addresses, upstream answers) is shown with
// its Message and a logId, and the Detail is logged under that id. Internals
// (database, network, bugs) therefore never reach a response.
func (s *Server) publicError(r *http.Request, err error) *backstageerr.Error {
	if be, ok := backstageerr.As(err); ok {
		if be.Detail == "" {
			return be
		}
		logID := s.logID()
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "request failed",
			slog.String("logId", logID),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("error", be.Name+": "+be.Message),
			slog.String("detail", be.Detail))
		return &backstageerr.Error{Name: be.Name, Message: be.Message + " logId=" + logID, Cause: be.Cause}
	}
	logID := s.logID()
	s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
		slog.String("logId", logID),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("error", err.Error()))
	return backstageerr.Plain("An internal error occurred logId=%s", logID)
}

// logID is a random id that ties a response to the log record with the details.
func (s *Server) logID() string {
	var b [10]byte
	if _, rerr := io.ReadFull(s.rand, b[:]); rerr != nil {
		copy(b[:], "0000000000")
	}
	return hex.EncodeToString(b[:])
}

// serializeError renders a public error (and its causes) as serializeError does.
func (s *Server) serializeError(be *backstageerr.Error, depth int) errorJSON {
	out := errorJSON{Name: be.Name, Message: be.Message}
	if out.Name == "" {
		out.Name = "Unknown"
	}
	if out.Message == "" {
		out.Message = "<no reason given>"
	}
	if s.cfg.DevelopmentMode && depth == 0 {
		out.Stack = out.Name + ": " + out.Message
	}
	// Only causes the message names ("...; caused by X: y", backstageerr.Wrap) are
	// serialised, as Backstage's CustomErrorBase does; a cause attached only for
	// diagnostics (e.g. why a redirect URL was refused) stays out of the response.
	if be.Cause != nil && depth < 8 && strings.Contains(be.Message, "; caused by ") {
		var cause *backstageerr.Error
		if !errors.As(be.Cause, &cause) {
			cause = &backstageerr.Error{Name: backstageerr.NameError, Message: be.Cause.Error()}
		}
		c := s.serializeError(cause, depth+1)
		out.Cause = &c
	}
	return out
}

// writeError is the only place errors become HTTP responses: Backstage's error JSON
// with the status its name maps to, request.url relative to /api/auth.
func (s *Server) writeError(c *gin.Context, err error) {
	r := c.Request
	be := s.publicError(r, err)
	status := backstageerr.Status(be.Name)
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "request error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.String("error", be.Name+": "+be.Message))
	var body errorBody
	body.Error = s.serializeError(be, 0)
	body.Request.Method = r.Method
	body.Request.URL = pluginRelativeURL(r)
	body.Response.StatusCode = status
	out, merr := jsrules.Marshal(body)
	if merr != nil {
		out = []byte(`{"error":{"name":"Error","message":"An internal error occurred"}}`)
	}
	writeBody(c, status, "application/json; charset=utf-8", out)
	c.Abort()
}

// pluginRelativeURL is req.url as the auth plugin's router sees it: the original
// request URI without the /api/auth mount path.
func pluginRelativeURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if strings.HasPrefix(uri, authPrefix) {
		rest := uri[len(authPrefix):]
		switch {
		case rest == "" || strings.HasPrefix(rest, "?"):
			return "/" + rest
		case strings.HasPrefix(rest, "/"):
			return rest
		}
	}
	return uri
}

// writeJSON writes v as application/json (JSON.stringify's bytes, see
// jsrules.Marshal); an encoding failure becomes a 500.
func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	out, err := jsrules.Marshal(v)
	if err != nil {
		s.writeError(c, err)
		return
	}
	writeBody(c, status, "application/json; charset=utf-8", out)
}
