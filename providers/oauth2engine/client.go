package oauth2engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// Client makes a provider's calls to its IdP: every call has the configured timeout
// and a body limit, redirects are not followed (an IdP endpoint that redirects is
// misconfigured, and a bearer token must not follow a redirect), and nothing it
// returns quotes an answer's body.
type Client struct {
	http      *http.Client
	timeout   time.Duration
	maxBody   int64
	userAgent string
	log       *slog.Logger
}

// Timeout is the per-call timeout.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Answer is an IdP's answer, read in full (up to the body limit).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (a *Answer) OK() bool { return a.Status >= 200 && a.Status <= 299 }

// Do sends req with the client's timeout, User-Agent (unless req sets one) and body
// limit, whatever the status. A transport failure, a timeout or an oversized body is
// an error; use Reason to describe it.
func (c *Client) Do(ctx context.Context, req *http.Request) (*Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := upstream.ReadLimited(resp.Body, c.maxBody)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, err
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// GetJSON fetches url with "Authorization: Bearer <accessToken>" (the token never goes
// in the query string) and decodes a 2xx JSON object answer into a map, numbers as
// int64 or float64. A non-2xx answer is a *StatusError (with the OAuth error code of a
// JSON error body), an answer that is not a JSON object an *AnswerError.
func (c *Client) GetJSON(ctx context.Context, url, accessToken string) (map[string]any, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, &AnswerError{Reason: "the profile URL is invalid"}
	}
	return c.JSON(ctx, req, accessToken)
}

// JSON is GetJSON for any request (Okta's userinfo is a POST): it sends req with
// "Authorization: Bearer <accessToken>" (unless accessToken is "") and decodes a 2xx
// JSON object answer.
func (c *Client) JSON(ctx context.Context, req *http.Request, accessToken string) (map[string]any, http.Header, error) {
	req.Header.Set("Accept", "application/json")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	a, err := c.Do(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if !a.OK() {
		return nil, a.Header, &StatusError{Status: a.Status, Code: errorCodeOf(a.Body)}
	}
	m, ok := decodeObject(a.Body)
	if !ok {
		return nil, a.Header, &AnswerError{Reason: "the answer is not a JSON object"}
	}
	return m, a.Header, nil
}

// decodeObject decodes a JSON object, numbers as int64 or float64.
func decodeObject(b []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return upstream.NormalizeNumbers(m).(map[string]any), true
}

// errorCodeOf returns the OAuth error code of a JSON or form error body, if any.
func errorCodeOf(body []byte) string {
	if m, ok := decodeObject(body); ok {
		s, _ := m["error"].(string)
		return upstream.ErrorCode(s)
	}
	if bytes.ContainsRune(body, '=') && !bytes.ContainsAny(body, "<{") {
		v, _ := ParseQuery(strings.TrimSpace(string(body))).Get("error")
		return upstream.ErrorCode(v)
	}
	return ""
}
