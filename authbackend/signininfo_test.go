package authbackend

import (
	"context"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

// recordingResolver keeps the SignInInfo of every call and signs in alice.
type recordingResolver struct {
	mu    sync.Mutex
	infos []resolvers.SignInInfo
}

func (r *recordingResolver) Resolve(_ context.Context, info resolvers.SignInInfo) (resolvers.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.infos = append(r.infos, info)
	return resolvers.Identity{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice"}}, nil
}

type profileProxy struct{}

func (profileProxy) AuthenticateRequest(context.Context, *http.Request) (providers.ProxyResult, error) {
	return providers.ProxyResult{
		Profile: providers.Profile{Email: "alice@example.com", DisplayName: "Alice", Picture: "https://img.example/a.png"},
		Claims:  map[string]any{"x-forwarded-groups": []any{"ops"}},
	}, nil
}

// Resolvers see the provider id, the whole profile and the claims, at sign-in, at
// refresh and for proxy providers (expressions read all of them).
func TestResolversSeeProviderAndProfile(t *testing.T) {
	oauth, proxy := &recordingResolver{}, &recordingResolver{}
	h := newHarness(t, func(o *Options, _ *fakeProvider) {
		devEnv(o).Resolver = oauth
		o.Providers = append(o.Providers, providers.Configured{ID: "myproxy", Kind: providers.KindProxy,
			Envs: map[string]*providers.Env{"": {Provider: profileProxy{}, Resolver: proxy}}})
		o.RegisteredIDs = append(o.RegisteredIDs, "myproxy")
	})
	set, _ := h.signIn(t, "env=development")
	rec := h.do(req{target: "/api/auth/spectrocloud/refresh?optional&scope=openid&env=development",
		headers: xrw, cookies: map[string]string{"spectrocloud-refresh-token": set["spectrocloud-refresh-token"]}})
	if rec.Code != 200 {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body.String())
	}
	want := resolvers.SignInInfo{ProviderID: testProvider, Email: "alice@example.com", DisplayName: "Alice Smith", Claims: map[string]any{"email": "alice@example.com"}}
	if len(oauth.infos) != 2 || !reflect.DeepEqual(oauth.infos[0], want) || !reflect.DeepEqual(oauth.infos[1], want) {
		t.Errorf("oauth sign-in and refresh saw %+v, want %+v twice", oauth.infos, want)
	}
	if rec := h.do(req{target: "/api/auth/myproxy/refresh"}); rec.Code != 200 {
		t.Fatalf("proxy refresh: %d %s", rec.Code, rec.Body.String())
	}
	want = resolvers.SignInInfo{ProviderID: "myproxy", Email: "alice@example.com", DisplayName: "Alice", Picture: "https://img.example/a.png",
		Claims: map[string]any{"x-forwarded-groups": []any{"ops"}}}
	if len(proxy.infos) != 1 || !reflect.DeepEqual(proxy.infos[0], want) {
		t.Errorf("proxy saw %+v, want %+v", proxy.infos, want)
	}
}
