package actions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/credentials"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// WhoAmIID is the id of the auth plugin's one action.
const WhoAmIID = "auth:who-am-i"

// maxBody bounds a request body (express.json's default limit is 100 kB).
const maxBody = 100 << 10

// Authenticator verifies a Bearer token (tokens.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, token string, allowLimited bool) (tokens.Credentials, error)
}

// Catalog returns a user's catalog entity as JSON, or nil when there is none.
type Catalog interface {
	UserEntity(ctx context.Context, userEntityRef string) (json.RawMessage, error)
}

// UserInfo returns the stored {"claims":{...}} of a user, or tokens.ErrNotFound.
type UserInfo interface {
	UserInfo(ctx context.Context, userEntityRef string) (json.RawMessage, error)
}

// Options wire a Registry.
type Options struct {
	Logger        *slog.Logger
	Authenticator Authenticator
	Catalog       Catalog // nil: who-am-i finds no user
	UserInfo      UserInfo
}

// Registry serves the actions routes.
type Registry struct {
	log     *slog.Logger
	authn   Authenticator
	catalog Catalog
	info    UserInfo
}

// New returns a Registry.
func New(o Options) (*Registry, error) {
	if o.Authenticator == nil || o.UserInfo == nil {
		return nil, errors.New("actions: Options.Authenticator and UserInfo are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{log: o.Logger, authn: o.Authenticator, catalog: o.Catalog, info: o.UserInfo}, nil
}

// Mount adds the routes (paths relative to the plugin's base, /api/auth).
func (g *Registry) Mount(add func(method, path string, limited bool, h func(http.ResponseWriter, *http.Request) error)) {
	add(http.MethodGet, "/.backstage/actions/v1/actions", false, g.list)
	add(http.MethodGet, "/.backstage/actions/v1/status", false, g.status)
	add(http.MethodPost, "/.backstage/actions/v1/actions/:actionId/invoke", false, g.invoke(false))
	add(http.MethodPost, "/.backstage/actions/v2/actions/:actionId/invoke", false, g.invoke(true))
}

// whoAmIEntry is the listing Node's registry produces for createWhoAmIAction
// (zod-to-json-schema of its schemas, byte for byte).
const whoAmIEntry = `{"id":"auth:who-am-i","name":"who-am-i","title":"Who Am I",` +
	`"description":"Returns the catalog entity and user info for the currently authenticated user. This action requires user credentials and cannot be used with service or unauthenticated credentials.",` +
	`"pluginId":"auth","attributes":{"destructive":false,"idempotent":true,"readOnly":true},` +
	`"schema":{"input":{"type":"object","properties":{},"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"},` +
	`"output":{"type":"object","properties":{"entity":{"type":"object","properties":{},"additionalProperties":true,"description":"The full catalog entity for the authenticated user"},` +
	`"userInfo":{"type":"object","properties":{"userEntityRef":{"type":"string","description":"The entity ref of the user, e.g. user:default/jane.doe"},` +
	`"ownershipEntityRefs":{"type":"array","items":{"type":"string"},"description":"Entity refs that the user claims ownership through"}},` +
	`"required":["userEntityRef","ownershipEntityRefs"],"additionalProperties":false,"description":"User identity information extracted from the authentication token"}},` +
	`"required":["entity","userInfo"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}}`

var listBody = []byte(`{"actions":[` + whoAmIEntry + `]}`)

// kindNone is the principal of a request without credentials.
const kindNone = "none"

// credentials is httpAuth.credentials(req): no Authorization header is the none
// principal (the registry's routes are outside the plugin's credentials barrier in
// Node, so each route decides); a token that does not verify is an error.
func (g *Registry) credentials(r *http.Request) (tokens.Credentials, error) {
	token, ok := credentials.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return tokens.Credentials{Kind: kindNone}, nil
	}
	return g.authn.Authenticate(r.Context(), token, false)
}

// list answers anyone, as Node does: the listing is the action's fixed, public
// description.
func (g *Registry) list(w http.ResponseWriter, r *http.Request) error {
	if _, err := g.credentials(r); err != nil {
		return err
	}
	writeJSON(w, r, listBody)
	return nil
}

func (g *Registry) status(w http.ResponseWriter, r *http.Request) error {
	c, err := g.credentials(r)
	if err != nil {
		return err
	}
	switch c.Kind {
	case tokens.KindService:
	case kindNone:
		return backstageerr.Authentication("Missing credentials")
	default:
		return backstageerr.NotAllowed("This endpoint does not allow '%s' credentials", c.Kind)
	}
	writeJSON(w, r, []byte(`{"hasActions":true}`))
	return nil
}

func (g *Registry) invoke(wrapped bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := g.credentials(r)
		if err != nil {
			return err
		}
		if c.Kind == kindNone {
			return backstageerr.NotAllowed("Actions must be invoked by an authenticated principal, not an anonymous request")
		}
		id := r.PathValue("actionId")
		if id != WhoAmIID {
			return backstageerr.NotFound("Action %s not found", strconv.Quote(id))
		}
		body, err := readBody(r)
		if err != nil {
			return err
		}
		input, secrets := body, json.RawMessage(nil)
		if wrapped {
			var env map[string]json.RawMessage
			if json.Unmarshal(body, &env) == nil {
				input, secrets = env["input"], env["secrets"]
			} else {
				input = nil // req.body.input of an array is undefined
			}
		}
		if t := jsonType(input); t != "object" {
			return backstageerr.Input(`Invalid input to action "%s"; caused by %s`, id, zodObjectIssue(t))
		}
		if len(secrets) > 0 && !isFalsy(secrets) {
			return backstageerr.Input(`Action "%s" does not accept secrets`, id)
		}
		out, err := g.whoAmI(r.Context(), c)
		if err != nil {
			return err
		}
		b := append([]byte(`{"output":`), out...)
		writeJSON(w, r, append(b, '}'))
		return nil
	}
}

// whoAmI is createWhoAmIAction's action: user credentials only, the user's entity
// and {userEntityRef, ownershipEntityRefs}.
func (g *Registry) whoAmI(ctx context.Context, c tokens.Credentials) ([]byte, error) {
	if c.Kind != tokens.KindUser {
		return nil, backstageerr.NotAllowed("This action requires user credentials")
	}
	var entity json.RawMessage
	if g.catalog != nil {
		e, err := g.catalog.UserEntity(ctx, c.Subject)
		if err != nil {
			return nil, fmt.Errorf("who-am-i: catalog: %w", err)
		}
		entity = e
	}
	if !isJSONObject(entity) {
		return nil, backstageerr.NotFound("User entity not found in the catalog for %s", strconv.Quote(c.Subject))
	}
	ent, err := g.ownership(ctx, c)
	if err != nil {
		return nil, err
	}
	b := []byte(`{"entity":`)
	b = append(b, entity...)
	b = append(b, `,"userInfo":{"userEntityRef":`...)
	b = jsrules.AppendString(b, c.Subject)
	b = append(b, `,"ownershipEntityRefs":[`...)
	for i, ref := range ent {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsrules.AppendString(b, ref)
	}
	return append(b, "]}}"...), nil
}

// ownership is DefaultUserInfoService.getUserInfo: the token's ent claim, else the
// stored user info's (limited tokens carry none).
func (g *Registry) ownership(ctx context.Context, c tokens.Credentials) ([]string, error) {
	if ent, ok := tokenEnt(c.UserToken); ok {
		return ent, nil
	}
	raw, err := g.info.UserInfo(ctx, c.Subject)
	if err != nil {
		if errors.Is(err, tokens.ErrNotFound) {
			return nil, errors.New("Ownership entity refs can not be determined")
		}
		return nil, fmt.Errorf("who-am-i: user info: %w", err)
	}
	var info struct {
		Claims struct {
			Ent []string `json:"ent"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("who-am-i: stored user info: %w", err)
	}
	if info.Claims.Ent == nil {
		return nil, errors.New("Ownership entity refs can not be determined")
	}
	return info.Claims.Ent, nil
}

// tokenEnt decodes the ent claim of an already verified token.
func tokenEnt(token string) ([]string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c struct {
		Ent []string `json:"ent"`
	}
	if json.Unmarshal(p, &c) != nil || c.Ent == nil {
		return nil, false
	}
	return c.Ent, true
}

// readBody is express.json(): an absent or non-JSON-typed body is {}; a JSON body
// must be an object or array (strict mode).
func readBody(r *http.Request) (json.RawMessage, error) {
	if !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "json") {
		return json.RawMessage(`{}`), nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, backstageerr.Input("request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, backstageerr.Input("request entity too large")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if !json.Valid(b) || (b[0] != '{' && b[0] != '[') {
		return nil, backstageerr.Input("Unexpected token in JSON body")
	}
	return b, nil
}

// jsonType is zod v3's parsed type of a JSON value ("undefined" when absent).
func jsonType(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "undefined"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

// zodObjectIssue is the text of the ZodError z.object({}) raises for a value of type
// t (JSON.stringify(issues, null, 2)), which Node appends to the InputError message.
func zodObjectIssue(t string) string {
	msg := "Expected object, received " + t
	if t == "undefined" {
		msg = "Required"
	}
	return "[\n  {\n    \"code\": \"invalid_type\",\n    \"expected\": \"object\",\n    \"received\": \"" + t +
		"\",\n    \"path\": [],\n    \"message\": \"" + msg + "\"\n  }\n]"
}

func isJSONObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// isFalsy: Node tests `!rawSecrets`, so null, false, 0 and "" count as absent.
func isFalsy(b json.RawMessage) bool {
	switch string(bytes.TrimSpace(b)) {
	case "null", "false", "0", `""`:
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
