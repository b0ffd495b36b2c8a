package mockvendor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// App Service Easy Auth: the headers its front end injects for a signed-in Entra ID
// user, minted at EasyAuthHeadersPath (POST, an EasyAuthRequest); the tokens verify
// with the Entra ID keys the same personality serves (login.microsoftonline.com).
const (
	EasyAuthHeadersPath = "/_mock/easyauth/headers"
	// Easy Auth's headers.
	EasyAuthIDTokenHeader       = "X-Ms-Token-Aad-Id-Token"
	EasyAuthAccessTokenHeader   = "X-Ms-Token-Aad-Access-Token"
	EasyAuthPrincipalHeader     = "X-Ms-Client-Principal"
	EasyAuthPrincipalIDHeader   = "X-Ms-Client-Principal-Id"
	EasyAuthPrincipalNameHeader = "X-Ms-Client-Principal-Name"
	EasyAuthPrincipalIDPHeader  = "X-Ms-Client-Principal-Idp"
)

// EasyAuthRequest describes the sign-in whose headers Easy Auth would inject. Zero
// values take the defaults noted.
type EasyAuthRequest struct {
	// Login is the user (default the first).
	Login string `json:"login,omitempty"`
	// Audience replaces aud (default the mock's client id).
	Audience string `json:"aud,omitempty"`
	// Issuer replaces iss (default https://login.microsoftonline.com/<tid>/v2.0).
	Issuer string `json:"iss,omitempty"`
	// Tenant replaces the tid claim (not iss).
	Tenant string `json:"tid,omitempty"`
	// Version replaces ver (default 2.0).
	Version string `json:"ver,omitempty"`
	// ExpiresIn is exp - now in seconds (default 3600; negative: expired).
	ExpiresIn int64 `json:"expires_in,omitempty"`
	// Kid replaces the key id; BadSignature signs with a key the keys do not publish.
	Kid          string `json:"kid,omitempty"`
	BadSignature bool   `json:"bad_sig,omitempty"`
	// PrincipalOID replaces the object id in the x-ms-client-principal headers (so they
	// disagree with the ID token).
	PrincipalOID string `json:"principal_oid,omitempty"`
}

func (s *Server) easyAuthRoutes(mux *http.ServeMux) {
	s.microsoftRoutes(mux)
	mux.HandleFunc("POST "+EasyAuthHeadersPath, mintHandler("headers", s.EasyAuthHeaders))
}

// EasyAuthHeaders returns the headers (canonical name to value) App Service would
// inject for req.
func (s *Server) EasyAuthHeaders(req EasyAuthRequest) (map[string]string, error) {
	u := s.opts.Users[0]
	if req.Login != "" {
		var ok bool
		if u, ok = s.user(req.Login); !ok {
			return nil, fmt.Errorf("unknown login %q", req.Login)
		}
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = 3600
	}
	now := s.now()
	tid := u.entraTenant()
	claims := map[string]any{
		"ver": "2.0", "iss": "https://login.microsoftonline.com/" + tid + "/v2.0", "sub": u.entraSub(s.opts.ClientID), "aud": s.opts.ClientID,
		"exp": now.Unix() + req.ExpiresIn, "iat": now.Unix(), "nbf": now.Unix(), "oid": u.entraOID(), "tid": tid,
		"preferred_username": u.entraUPN(), "aio": randomString(40, base62), "rh": "0.A" + randomString(20, base62), "uti": randomString(22, base62),
	}
	if u.Name != "" {
		claims["name"] = u.Name
	}
	if u.Email != "" {
		claims["email"] = u.Email
	}
	for k, v := range map[string]string{"aud": req.Audience, "iss": req.Issuer, "tid": req.Tenant, "ver": req.Version} {
		if v != "" {
			claims[k] = v
		}
	}
	kid := entraKid
	if req.Kid != "" {
		kid = req.Kid
	}
	idToken := s.signIDToken(kid, claims, Fault{BadSignature: req.BadSignature})
	at := mockkit.SignRS256(mockkit.Key(1), entraKid, map[string]any{
		"aud": GraphAppID, "iss": "https://sts.windows.net/" + tid + "/", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"appid": s.opts.ClientID, "oid": u.entraOID(), "scp": "openid profile email User.Read", "tid": tid, "upn": u.entraUPN(), "ver": "1.0",
	})
	oid := u.entraOID()
	if req.PrincipalOID != "" {
		oid = req.PrincipalOID
	}
	type claim struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	principal, _ := json.Marshal(struct {
		AuthTyp string  `json:"auth_typ"`
		Claims  []claim `json:"claims"`
		NameTyp string  `json:"name_typ"`
		RoleTyp string  `json:"role_typ"`
	}{"aad", []claim{
		{"aud", s.opts.ClientID}, {"iss", claims["iss"].(string)},
		{"http://schemas.microsoft.com/identity/claims/objectidentifier", oid},
		{"http://schemas.microsoft.com/identity/claims/tenantid", tid},
		{"name", u.Name}, {"preferred_username", u.entraUPN()}, {"ver", "2.0"},
	}, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"})
	return map[string]string{
		EasyAuthIDTokenHeader:       idToken,
		EasyAuthAccessTokenHeader:   at,
		EasyAuthPrincipalHeader:     base64.StdEncoding.EncodeToString(principal),
		EasyAuthPrincipalIDHeader:   oid,
		EasyAuthPrincipalNameHeader: u.entraUPN(),
		EasyAuthPrincipalIDPHeader:  "aad",
	}, nil
}
