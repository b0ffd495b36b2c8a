package oauth2engine

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/upstream"
)

// maxExpiresIn caps expires_in (ten years): a larger value is not a lifetime.
const maxExpiresIn = 10 * 365 * 24 * 3600

// Token is a token endpoint's answer.
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	// Scope is the answer's scope parameter as sent ("" when absent).
	Scope string
	// ExpiresIn is expires_in in whole seconds, whether the IdP sent a JSON number, a
	// numeric string or a form value; 0 when absent or not a positive number.
	ExpiresIn int64
	// Params are all the answer's parameters except refresh_token (passport's params):
	// JSON values, or strings for a form-encoded answer.
	Params map[string]any
}

// parseToken reads a 2xx token answer as the oauth library does: as JSON, and when
// that fails as a form-encoded string (GitHub without Accept: application/json).
func parseToken(body []byte) (*Token, error) {
	params, ok := decodeObject(body)
	if !ok {
		var js any
		if json.Unmarshal(body, &js) == nil {
			// Valid JSON but not an object: there is no token in it.
			return nil, &AnswerError{Reason: MsgFailedToObtainAccessToken}
		}
		params = map[string]any{}
		for _, p := range ParseQuery(strings.TrimSpace(string(body))) {
			if _, dup := params[p.Key]; dup {
				// querystring.parse would make an array; a repeated parameter is
				// ambiguous, so none of its values is used.
				params[p.Key] = nil
				continue
			}
			params[p.Key] = p.Value
		}
	}
	str := func(k string) string { s, _ := params[k].(string); return s }
	tok := &Token{
		AccessToken:  str("access_token"),
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
		IDToken:      str("id_token"),
		Scope:        str("scope"),
		ExpiresIn:    Seconds(params["expires_in"]),
	}
	delete(params, "refresh_token")
	tok.Params = params
	if tok.AccessToken == "" {
		return nil, &AnswerError{Reason: MsgFailedToObtainAccessToken, Code: upstream.ErrorCode(str("error"))}
	}
	return tok, nil
}

// Seconds reads a lifetime in seconds from a JSON number, a numeric string or a form
// value, rounded to whole seconds; 0 when absent, not a number, not positive or more
// than ten years. Backstage passes expires_in through as it came, so a form-encoded
// answer gave a string; the frontend expects a number.
func Seconds(v any) int64 {
	var f float64
	switch t := v.(type) {
	case int64:
		f = float64(t)
	case float64:
		f = t
	case json.Number:
		f, _ = t.Float64()
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(t), 64); err != nil {
			return 0
		}
	default:
		return 0
	}
	if math.IsNaN(f) || f < 1 || f > maxExpiresIn {
		return 0
	}
	return int64(math.Round(f))
}

// tokenRequest posts grant (grant_type first, as passport orders it) plus the client
// credentials and the code or refresh token (credential) to the token endpoint.
func (e *Engine) tokenRequest(ctx context.Context, grant Params, credential Param) (*Token, error) {
	body := append(Params(nil), grant...)
	if e.cfg.ClientAuth != AuthBasic {
		body.Set("client_id", e.cfg.ClientID)
		body.Set("client_secret", e.cfg.ClientSecret)
	}
	body.Set(credential.Key, credential.Value)
	req, err := http.NewRequest(http.MethodPost, e.cfg.TokenURL, strings.NewReader(body.Encode()))
	if err != nil {
		return nil, &AnswerError{Reason: "the token URL is invalid"}
	}
	for k, vs := range e.cfg.TokenHeaders {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if req.Header.Get("Accept") == "" {
		// RFC 6749 answers are JSON anyway; GitHub answers form-encoded without it.
		req.Header.Set("Accept", "application/json")
	}
	if e.cfg.ClientAuth != AuthPost {
		req.SetBasicAuth(e.cfg.ClientID, e.cfg.ClientSecret)
	}
	a, err := e.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !a.OK() {
		return nil, &StatusError{Status: a.Status, Code: errorCodeOf(a.Body)}
	}
	return parseToken(a.Body)
}
