package oauth2engine_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/oauth2engine"
)

// BenchmarkStart is /start's provider step: the authorize URL in passport's order and
// Node's encoding.
func BenchmarkStart(b *testing.B) {
	e, err := oauth2engine.New(oauth2engine.Config{ClientID: "Iv1.0123456789abcdef", ClientSecret: "s",
		AuthorizationURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token", PKCE: true},
		oauth2engine.Hooks{}, providers.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	req := providers.StartRequest{Scope: "read:user repo", State: "7b226e6f6e6365223a22616263227d", CallbackURL: callback,
		Secrets: providers.FlowSecrets{PKCEVerifier: verifier}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Start(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh is /refresh's provider step for a refresh-token session: the grant
// (form-encoded answer) and the profile, against a loopback IdP.
func BenchmarkRefresh(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", answer(200, "application/x-www-form-urlencoded", "access_token=at-2&expires_in=28800&scope=read%3Auser&token_type=bearer"))
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"login":"octocat","id":42,"node_id":"MDQ6VXNlcjQy","name":"Mona","email":"mona@example.com","avatar_url":"https://a/x.png"}`)
	})
	f := &fakeIdP{}
	f.Server = newServer(b, mux)
	e := newEngine(b, f, oauth2engine.Config{}, oauth2engine.Hooks{FetchProfile: profileHook(f.URL + "/profile")})
	sess, _ := oauth2engine.Session{RefreshToken: "rt-1", Subject: "42"}.Encode()
	req := providers.RefreshRequest{Session: sess, Scope: "read:user"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Refresh(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
