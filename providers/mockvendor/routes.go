package mockvendor

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	switch s.opts.Personality {
	case GitHub:
		s.githubRoutes(mux)
	case OAuth2:
		s.oauth2Routes(mux)
	case Google:
		s.googleRoutes(mux)
	case Microsoft:
		s.microsoftRoutes(mux)
	case Okta:
		s.oktaRoutes(mux)
	case Auth0:
		s.auth0Routes(mux)
	case OneLogin:
		s.oneLoginRoutes(mux)
	case GitLab:
		s.gitlabRoutes(mux)
	case Bitbucket:
		s.bitbucketRoutes(mux)
	case BitbucketServer:
		s.bitbucketServerRoutes(mux)
	case Atlassian:
		s.atlassianRoutes(mux)
	case GCPIAP:
		s.gcpIAPRoutes(mux)
	case AWSALB:
		s.awsALBRoutes(mux)
	case OAuth2ProxyIdP:
		s.oauth2ProxyIdPRoutes(mux)
	case CFAccess:
		s.cfAccessRoutes(mux)
	case EasyAuth:
		s.easyAuthRoutes(mux)
	case OpenShift:
		s.openshiftRoutes(mux)
	case Pinniped:
		s.pinnipedRoutes(mux)
	}
	mux.HandleFunc("GET /_mock/health", func(w http.ResponseWriter, r *http.Request) {
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "personality": s.opts.Personality.String()})
	})
	mux.HandleFunc("GET /_mock/next", s.mockNext)
	mux.HandleFunc("/_mock/revoke", func(w http.ResponseWriter, r *http.Request) {
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "revoked": s.RevokeUser(r.URL.Query().Get("login"))})
	})
	mux.HandleFunc("/_mock/down", func(w http.ResponseWriter, r *http.Request) {
		s.SetUnavailable(r.URL.Query().Get("on") != "0")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("/_mock/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFault()
		s.SetUnavailable(false)
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /_mock/requests", func(w http.ResponseWriter, r *http.Request) { mockkit.WriteJSON(w, http.StatusOK, s.Requests()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_mock/") {
			s.Record(r)
			s.mu.Lock()
			down := s.down
			s.mu.Unlock()
			if down {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("<html><body>Service unavailable (mock outage)</body></html>"))
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// mockNext arms a fault over HTTP with mockpalette's query names where they exist:
// error, error_description, token_status, token_delay_ms, permanent=1, bad_sig=1, plus
// profile_status, profile_delay_ms, login (sign in as this user), id_token_iss,
// id_token_aud, revoke_status (Google) and photo_status (Graph).
func (s *Server) mockNext(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ms := func(k string) time.Duration {
		n, _ := strconv.Atoi(q.Get(k))
		return time.Duration(n) * time.Millisecond
	}
	f := Fault{
		Permanent:                 q.Get("permanent") == "1",
		AuthorizeError:            q.Get("error"),
		AuthorizeErrorDescription: q.Get("error_description"),
		TokenDelay:                ms("token_delay_ms"),
		ProfileDelay:              ms("profile_delay_ms"),
		Login:                     q.Get("login"),
		BadSignature:              q.Get("bad_sig") == "1",
		IDTokenIssuer:             q.Get("id_token_iss"),
		IDTokenAudience:           q.Get("id_token_aud"),
	}
	f.TokenStatus, _ = strconv.Atoi(q.Get("token_status"))
	f.ProfileStatus, _ = strconv.Atoi(q.Get("profile_status"))
	f.RevokeStatus, _ = strconv.Atoi(q.Get("revoke_status"))
	f.PhotoStatus, _ = strconv.Atoi(q.Get("photo_status"))
	if f.Login != "" {
		if _, ok := s.user(f.Login); !ok {
			mockkit.WriteJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "unknown login"})
			return
		}
	}
	s.SetFault(f)
	w.Header().Set("Cache-Control", "no-store")
	mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "next": f})
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Mock {{.Vendor}} sign-in</title></head><body>
<h1>Mock {{.Vendor}}: authorize backstage-auth-go</h1>
<form method="post">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{range .Users}}<p><button type="submit" name="login_user" value="{{.Login}}">{{.Login}}{{if .Email}} ({{.Email}}){{end}}</button></p>
{{end}}<p><button type="submit" name="deny" value="1">Cancel</button></p></form></body></html>
`))

// pickUser returns the user signing in at an authorize request: the first user, or
// with LoginForm the one picked in the form. handled means the form (or an error) was
// written instead; denied means the user pressed Cancel.
func (s *Server) pickUser(w http.ResponseWriter, r *http.Request, vendor string) (u User, denied, handled bool) {
	if !s.opts.LoginForm {
		return s.opts.Users[0], false, false
	}
	if r.Method == http.MethodPost && r.PostForm.Get("deny") != "" {
		return User{}, true, false
	}
	sel := r.PostForm.Get("login_user")
	if r.Method != http.MethodPost || sel == "" {
		params := map[string]string{}
		for k := range r.Form {
			if k != "login_user" && k != "deny" {
				params[k] = r.Form.Get(k)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = loginForm.Execute(w, map[string]any{"Vendor": vendor, "Params": params, "Users": s.opts.Users})
		return User{}, false, true
	}
	u, ok := s.user(sel)
	if !ok {
		http.Error(w, "unknown user", http.StatusBadRequest)
		return User{}, false, true
	}
	return u, false, false
}
