package oauth2engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
)

func TestIDString(t *testing.T) {
	for v, want := range map[any]string{int64(42): "42", float64(7): "7", 1.5: "1.5", "u-1": "u-1", true: "", nil: ""} {
		if got := IDString(v); got != want {
			t.Errorf("%#v: %q, want %q", v, got, want)
		}
	}
}

func TestJSONProfile(t *testing.T) {
	var auth, query string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, query = r.Header.Get("Authorization"), r.URL.RawQuery
		_, _ = w.Write([]byte(`{"id": 12, "login": "a"}`))
	}))
	defer ts.Close()
	e, err := New(Config{ClientID: "c", AuthorizationURL: ts.URL, TokenURL: ts.URL}, Hooks{}, providers.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	fetch := JSONProfile(ts.URL+"/user", func(raw map[string]any) *FullProfile { return &FullProfile{ID: IDString(raw["id"])} })
	fp, err := fetch(context.Background(), e.Client(), &Token{AccessToken: "tok"})
	if err != nil || fp.ID != "12" || auth != "Bearer tok" || query != "" {
		t.Errorf("%+v %v %q %q", fp, err, auth, query)
	}
}
