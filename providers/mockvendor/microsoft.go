package mockvendor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// Entra ID's paths under login.microsoftonline.com/{tenant} and Microsoft Graph's at
// graph.microsoft.com.
const (
	EntraAuthorizePath = "/oauth2/v2.0/authorize"
	EntraTokenPath     = "/oauth2/v2.0/token"
	EntraDiscoveryPath = "/v2.0/.well-known/openid-configuration"
	EntraKeysPath      = "/discovery/v2.0/keys"
	GraphMePath        = "/v1.0/me"
	GraphPhotoPath     = "/v1.0/me/photos/96x96/$value"
)

// Entra ID's tenants: the mock's own (users without a tenantId), the tenant of personal
// Microsoft accounts, and the domain that names the mock's tenant.
const (
	DefaultEntraTenant   = "7f3c2a1b-4d5e-4f60-8a9b-0c1d2e3f4a5b"
	EntraConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	DefaultEntraDomain   = "mock.onmicrosoft.com"
	// GraphAppID is Microsoft Graph's application id, the aud of Graph access tokens.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// EntraIssuerTemplate is the issuer path the common and organizations documents
	// announce.
	EntraIssuerTemplate = "/{tenantid}/v2.0"
)

var microsoftHosts = []string{"login.microsoftonline.com", "graph.microsoft.com"}

const entraKid = "KQ2tAcrE7lBaVVGBmc5FobgdJo4"

var (
	tenantName = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)
	guid       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// oidcScopes are the scopes that name no resource.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

func (s *Server) microsoftRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/{tenant}"+EntraAuthorizePath, s.entraAuthorize)
	mux.HandleFunc("POST /{tenant}"+EntraTokenPath, s.entraToken)
	mux.HandleFunc("GET /{tenant}"+EntraDiscoveryPath, s.entraDiscovery)
	mux.HandleFunc("GET /{tenant}"+EntraKeysPath, func(w http.ResponseWriter, _ *http.Request) { writeJWKS(w, entraKid) })
	mux.HandleFunc("GET "+GraphMePath, s.graphMe)
	mux.HandleFunc("GET "+GraphMePath+"/{$}", s.graphMe)
	mux.HandleFunc("GET "+GraphPhotoPath, s.graphPhoto)
}

func loginOrigin(r *http.Request) string {
	return vendorOrigin(r, "login.microsoftonline.com", microsoftHosts...)
}

// issuerTenant is the tenant segment of the issuer a tenant path's document announces
// ("" for an unknown tenant).
func (s *Server) issuerTenant(path string) string {
	switch strings.ToLower(path) {
	case "common", "organizations":
		return "{tenantid}"
	case "consumers":
		return EntraConsumersTenant
	case strings.ToLower(DefaultEntraDomain):
		return DefaultEntraTenant
	}
	if path == DefaultEntraTenant || path == EntraConsumersTenant {
		return path
	}
	for _, u := range s.opts.Users {
		if u.entraTenant() == path {
			return path
		}
	}
	return ""
}

// tenantAdmits reports whether a user of tenant tid may sign in at the tenant path.
func tenantAdmits(path, tid string) bool {
	switch strings.ToLower(path) {
	case "common":
		return true
	case "organizations":
		return tid != EntraConsumersTenant
	case "consumers":
		return tid == EntraConsumersTenant
	case strings.ToLower(DefaultEntraDomain):
		return tid == DefaultEntraTenant
	}
	return tid == path
}

// entraError is an Entra ID token endpoint error (AADSTS code in the description).
func entraError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	now := time.Now().UTC()
	mockkit.WriteJSON(w, status, struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		ErrorURI      string `json:"error_uri"`
	}{code, fmt.Sprintf("AADSTS%d: %s Trace ID: 0 Correlation ID: 0 Timestamp: %s", aadsts, desc, now.Format("2006-01-02 15:04:05Z")),
		[]int{aadsts}, now.Format("2006-01-02 15:04:05Z"), "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000",
		fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts)})
}

// entraPage is Entra ID's sign-in error page (for requests it cannot send back).
func entraPage(w http.ResponseWriter, status, aadsts int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>Sign in</h1><p>Sorry, but we’re having trouble signing you in.</p><p>AADSTS%d: %s</p></body></html>", aadsts, text)
}

func (s *Server) entraDiscovery(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("tenant")
	it := s.issuerTenant(path)
	if it == "" {
		entraError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", path))
		return
	}
	o := loginOrigin(r)
	base := o + "/" + path
	w.Header().Set("Cache-Control", "max-age=86400, private")
	// Entra ID's document in its key order (it lists no code_challenge_methods_supported).
	mockkit.WriteJSON(w, http.StatusOK, struct {
		TokenEndpoint       string   `json:"token_endpoint"`
		AuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
		JWKSURI             string   `json:"jwks_uri"`
		ResponseModes       []string `json:"response_modes_supported"`
		SubjectTypes        []string `json:"subject_types_supported"`
		SigningAlgs         []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes       []string `json:"response_types_supported"`
		Scopes              []string `json:"scopes_supported"`
		Issuer              string   `json:"issuer"`
		RequestURIParameter bool     `json:"request_uri_parameter_supported"`
		UserinfoEndpoint    string   `json:"userinfo_endpoint"`
		AuthorizeEndpoint   string   `json:"authorization_endpoint"`
		DeviceEndpoint      string   `json:"device_authorization_endpoint"`
		HTTPLogout          bool     `json:"http_logout_supported"`
		FrontchannelLogout  bool     `json:"frontchannel_logout_supported"`
		EndSessionEndpoint  string   `json:"end_session_endpoint"`
		Claims              []string `json:"claims_supported"`
		KerberosEndpoint    string   `json:"kerberos_endpoint"`
		TenantRegionScope   *string  `json:"tenant_region_scope"`
		CloudInstanceName   string   `json:"cloud_instance_name"`
		CloudGraphHostName  string   `json:"cloud_graph_host_name"`
		MSGraphHost         string   `json:"msgraph_host"`
		RBACURL             string   `json:"rbac_url"`
	}{
		TokenEndpoint: base + EntraTokenPath, AuthMethods: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI: base + EntraKeysPath, ResponseModes: []string{"query", "fragment", "form_post"}, SubjectTypes: []string{"pairwise"},
		SigningAlgs: []string{"RS256"}, ResponseTypes: []string{"code", "id_token", "code id_token", "id_token token"},
		Scopes: []string{"openid", "profile", "email", "offline_access"}, Issuer: o + "/" + it + "/v2.0",
		UserinfoEndpoint: vendorOrigin(r, "graph.microsoft.com", microsoftHosts...) + "/oidc/userinfo", AuthorizeEndpoint: base + EntraAuthorizePath,
		DeviceEndpoint: base + "/oauth2/v2.0/devicecode", HTTPLogout: true, FrontchannelLogout: true, EndSessionEndpoint: base + "/oauth2/v2.0/logout",
		Claims:           []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		KerberosEndpoint: base + "/kerberos", CloudInstanceName: "microsoftonline.com", CloudGraphHostName: "graph.windows.net",
		MSGraphHost: "graph.microsoft.com", RBACURL: "https://pas.windows.net",
	})
}

// resourceOf is the resource a scope names: the part before the last "/" of a
// resource scope, Graph for Graph's short names (User.Read), "" for OpenID scopes.
func resourceOf(scope string) string {
	if slices.Contains(oidcScopes, strings.ToLower(scope)) {
		return ""
	}
	if i := strings.LastIndexByte(scope, '/'); i > 0 {
		res := scope[:i]
		if strings.EqualFold(res, "https://graph.microsoft.com") || strings.EqualFold(res, "https://graph.microsoft.com/") {
			return GraphAppID
		}
		return res
	}
	return GraphAppID
}

// resources are the distinct resources of a scope list.
func resources(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if r := resourceOf(sc); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// entraGranted is the scope Entra ID reports for a token: the resource's scopes
// (Graph's by their short, canonical names) and the OpenID scopes but offline_access,
// in request order; Graph's User.Read when only OpenID scopes were asked for.
func entraGranted(scopes []string) (resource string, granted []string) {
	res := resources(scopes)
	resource = GraphAppID
	if len(res) > 0 {
		resource = res[0]
	}
	add := func(sc string) {
		if !slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, sc) }) {
			granted = append(granted, sc)
		}
	}
	hasResource := false
	for _, sc := range scopes {
		switch r := resourceOf(sc); {
		case strings.EqualFold(sc, "offline_access"):
		case r == "":
			add(strings.ToLower(sc))
		case r == resource && resource == GraphAppID:
			name := sc[strings.LastIndexByte(sc, '/')+1:]
			if strings.EqualFold(name, "user.read") {
				name = "User.Read"
			}
			add(name)
			hasResource = true
		case r == resource:
			add(sc)
			hasResource = true
		}
	}
	if !hasResource && resource == GraphAppID {
		add("User.Read")
	}
	return resource, granted
}

func (s *Server) entraAuthorize(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("tenant")
	if !tenantName.MatchString(path) || s.issuerTenant(path) == "" {
		entraPage(w, http.StatusBadRequest, 90002, fmt.Sprintf("Tenant '%s' not found.", url.PathEscape(path)))
		return
	}
	ru, ok := mockkit.CheckAuthorize(w, r, s.opts.ClientID, s.opts.RedirectURIs, mockkit.AuthorizePages{
		UnknownClient: "AADSTS700016: Application with identifier was not found in the directory.",
		BadRedirect:   "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.",
	})
	if !ok {
		return
	}
	q := r.Form
	state := q.Get("state")
	fail := func(code, desc string, aadsts int) {
		mockkit.RedirectBack(w, r, ru, state, url.Values{"error": {code}, "error_description": {fmt.Sprintf("AADSTS%d: %s", aadsts, desc)},
			"error_uri": {fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts)}})
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "The provided value for the input parameter 'response_type' is not allowed for this request.", 900144)
		return
	}
	if strings.TrimSpace(q.Get("scope")) == "" {
		fail("invalid_request", "The provided request must include a 'scope' input parameter.", 900144)
		return
	}
	u, ok := s.authorizeUser(w, r, ru, authorizeAnswers{vendor: "Microsoft",
		badPKCE: url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS501491: Invalid size of Code_Challenge parameter."}},
		denied: url.Values{"error_subcode": {"cancel"}, "error_description": {"AADSTS65004: User declined to consent to access the app."},
			"error_uri": {"https://login.microsoftonline.com/error?code=65004"}}})
	if !ok {
		return
	}
	if !tenantAdmits(path, u.entraTenant()) {
		entraPage(w, http.StatusBadRequest, 50020, "User account from identity provider does not exist in tenant and cannot access the application in that tenant.")
		return
	}
	c := s.newCode(code{login: u.Login, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope"), nonce: q.Get("nonce"), tenant: path})
	mockkit.RedirectBack(w, r, ru, state, url.Values{"code": {"1.AXEA" + c}, "session_state": {"00000000-0000-0000-0000-000000000000"}})
}

// entraClient checks client_secret_post or client_secret_basic, with Entra ID's errors.
func (s *Server) entraClient(w http.ResponseWriter, r *http.Request) bool {
	_, secret := clientCredentials(r)
	idOK, secretOK := s.isClient(clientCredentials(r))
	switch {
	case !idOK:
		entraError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier was not found in the directory.")
	case secret == "":
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case !secretOK:
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	default:
		return true
	}
	return false
}

// entraTokenJSON is Entra ID's token answer in its key order.
type entraTokenJSON struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

func (s *Server) entraToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenFault(w, r, func(w http.ResponseWriter, status int) {
		entraError(w, status, "temporarily_unavailable", 50196, "The server encountered an unexpected error (mock fault: upstream body canary).")
	})
	if !ok {
		return
	}
	path := r.PathValue("tenant")
	if !tenantName.MatchString(path) || s.issuerTenant(path) == "" {
		entraError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", url.PathEscape(path)))
		return
	}
	if !s.entraClient(w, r) {
		return
	}
	var (
		g     grant
		nonce string
	)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := s.takeCode(strings.TrimPrefix(r.PostForm.Get("code"), "1.AXEA"))
		switch {
		case c == nil:
			entraError(w, http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
			return
		case c.redirectURI != r.PostForm.Get("redirect_uri"):
			entraError(w, http.StatusBadRequest, "invalid_grant", 500112, "The reply address does not match the reply address provided when requesting the authorization code.")
			return
		case c.challenge != "" && !mockkit.VerifierMatches(c.challenge, r.PostForm.Get("code_verifier")):
			entraError(w, http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		g, nonce = grant{login: c.login, scope: c.scope, tenant: c.tenant}, c.nonce
	case "refresh_token":
		// Entra ID rotates refresh tokens; the mock makes them single-use. A refresh
		// token redeems a token for any one resource the user consented to.
		old := s.takeRefresh(r.PostForm.Get("refresh_token"))
		if old == nil {
			entraError(w, http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity.")
			return
		}
		g = *old
		if sc := strings.Fields(r.PostForm.Get("scope")); len(sc) > 0 {
			g.scope = strings.Join(sc, " ")
		}
	default:
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	scopes := strings.Fields(g.scope)
	if res := resources(scopes); len(res) > 1 {
		entraError(w, http.StatusBadRequest, "invalid_scope", 28000, fmt.Sprintf("Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", g.scope))
		return
	}
	if f.Login != "" {
		g.login = f.Login
	}
	u, _ := s.user(g.login)
	resource, granted := entraGranted(scopes)
	now := s.now()
	ttl := s.opts.AccessTokenTTL
	var at string
	if resource == GraphAppID && u.entraTenant() == EntraConsumersTenant {
		// Graph tokens of personal accounts are opaque.
		at = "EwB" + randomString(400, base62)
	} else {
		at = mockkit.SignRS256(mockkit.Key(1), entraKid, map[string]any{
			"aud": resource, "iss": "https://sts.windows.net/" + u.entraTenant() + "/", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
			"appid": s.opts.ClientID, "name": u.Name, "oid": u.entraOID(), "scp": strings.Join(granted, " "), "tid": u.entraTenant(),
			"upn": u.entraUPN(), "uti": randomString(22, base62), "ver": "1.0",
		})
	}
	prefix := ""
	if slices.ContainsFunc(scopes, func(sc string) bool { return strings.EqualFold(sc, "offline_access") }) || r.PostForm.Get("grant_type") == "refresh_token" {
		prefix = "1.AXEA"
	}
	at, rt := s.issueToken(at, prefix, g, true)
	resp := entraTokenJSON{TokenType: "Bearer", Scope: strings.Join(granted, " "), ExpiresIn: int64(ttl / time.Second), ExtExpiresIn: int64(ttl / time.Second),
		AccessToken: at, RefreshToken: rt}
	if slices.ContainsFunc(scopes, func(sc string) bool { return strings.EqualFold(sc, "openid") }) {
		claims := map[string]any{
			"ver": "2.0", "iss": loginOrigin(r) + "/" + u.entraTenant() + "/v2.0", "sub": u.entraSub(s.opts.ClientID), "aud": s.opts.ClientID,
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "oid": u.entraOID(), "tid": u.entraTenant(),
			"aio": randomString(40, base62),
		}
		if slices.ContainsFunc(scopes, func(sc string) bool { return strings.EqualFold(sc, "profile") }) {
			if u.Name != "" {
				claims["name"] = u.Name
			}
			claims["preferred_username"] = u.entraUPN()
		}
		if slices.ContainsFunc(scopes, func(sc string) bool { return strings.EqualFold(sc, "email") }) && u.Email != "" {
			claims["email"] = u.Email
		}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		resp.IDToken = s.signIDToken(entraKid, claims, f)
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	mockkit.WriteJSON(w, http.StatusOK, resp)
}

func (u User) entraTenant() string {
	if u.TenantID != "" {
		return u.TenantID
	}
	return DefaultEntraTenant
}

// entraOID is the user's object id (Graph's /me id).
func (u User) entraOID() string {
	if u.ObjectID != "" {
		return u.ObjectID
	}
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", u.ID)
}

func (u User) entraUPN() string {
	if u.UPN != "" {
		return u.UPN
	}
	return u.Login + "@" + DefaultEntraDomain
}

// entraSub is Entra ID's pairwise subject: one per user and application.
func (u User) entraSub(clientID string) string {
	if u.Sub != "" {
		return u.Sub
	}
	sum := sha256.Sum256([]byte(u.entraOID() + "|" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

// graphError is Microsoft Graph's error shape.
func graphError(w http.ResponseWriter, status int, code, message string) {
	mockkit.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": "00000000-0000-0000-0000-000000000000",
			"client-request-id": "00000000-0000-0000-0000-000000000000"}}})
}

// graphUser authenticates a Graph request: a live Graph token with User.Read.
func (s *Server) graphUser(w http.ResponseWriter, r *http.Request) (User, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return User{}, false
	}
	g := s.accessGrant(tok)
	u, known := s.user(loginOf(g))
	if g == nil || !known {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return User{}, false
	}
	resource, granted := entraGranted(strings.Fields(g.scope))
	if resource != GraphAppID {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return User{}, false
	}
	if !slices.Contains(granted, "User.Read") {
		graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return User{}, false
	}
	return u, true
}

// graphUserJSON is Graph's /me in its key order, with its nulls.
type graphUserJSON struct {
	Context           string   `json:"@odata.context"`
	BusinessPhones    []string `json:"businessPhones"`
	DisplayName       *string  `json:"displayName"`
	GivenName         *string  `json:"givenName"`
	JobTitle          *string  `json:"jobTitle"`
	Mail              *string  `json:"mail"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage *string  `json:"preferredLanguage"`
	Surname           *string  `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"`
	ID                string   `json:"id"`
}

func (s *Server) graphMe(w http.ResponseWriter, r *http.Request) {
	if s.profileFault(w, r, func(w http.ResponseWriter, status int) {
		graphError(w, status, "generalException", "mock fault: upstream body canary")
	}) {
		return
	}
	u, ok := s.graphUser(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	mockkit.WriteJSON(w, http.StatusOK, graphUserJSON{
		Context: "https://graph.microsoft.com/v1.0/$metadata#users/$entity", BusinessPhones: []string{},
		DisplayName: nullable(u.Name), GivenName: nullable(u.GivenName), Mail: nullable(u.Email), Surname: nullable(u.FamilyName),
		UserPrincipalName: u.entraUPN(), ID: u.entraOID(),
	})
}

func (s *Server) graphPhoto(w http.ResponseWriter, r *http.Request) {
	if f := s.takeFault(Fault.photo); f.PhotoStatus != 0 {
		graphError(w, f.PhotoStatus, "generalException", "mock fault: upstream body canary")
		return
	}
	u, ok := s.graphUser(w, r)
	if !ok {
		return
	}
	if !u.Photo {
		graphError(w, http.StatusNotFound, "ImageNotFound", "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(PhotoOf(u))
}

// photos caches PhotoOf by user id.
var photos sync.Map

// PhotoOf is the mock's 96x96 JPEG profile photo of u (a colour derived from its id).
func PhotoOf(u User) []byte {
	if b, ok := photos.Load(u.ID); ok {
		return b.([]byte)
	}
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	c := color.RGBA{R: byte(u.ID * 37), G: byte(u.ID * 91), B: byte(u.ID * 13), A: 255}
	for y := range 96 {
		for x := range 96 {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	v, _ := photos.LoadOrStore(u.ID, b.Bytes())
	return v.([]byte)
}
