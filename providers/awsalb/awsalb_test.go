package awsalb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/fakeclock"
	"github.com/spectrocloud-labs/backstage-auth-go/providers"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/awsalb"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/mockvendor"
	"github.com/spectrocloud-labs/backstage-auth-go/providers/providertest"
	"github.com/spectrocloud-labs/backstage-auth-go/resolvers"
)

const (
	issuer = "https://idp.example.com"
	signer = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/backstage/50dc6c495c0c9188"
)

type fixture struct {
	mock  *mockvendor.Server
	p     providers.ProxyProvider
	clock *fakeclock.Clock
}

func baseConfig() map[string]any {
	return map[string]any{"issuer": issuer, "region": "us-east-1", "signer": signer}
}

func setup(t *testing.T, cfg map[string]any) fixture {
	t.Helper()
	mock := mockvendor.New(mockvendor.Options{Personality: mockvendor.AWSALB})
	client := providertest.VendorHosts(t, mock.Handler())
	c, ps := awsalb.Module.Parse(config.SectionFromMap(cfg))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	clock := fakeclock.New()
	p, err := c.Build(providers.Deps{HTTPClient: client, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{mock: mock, p: p.(providers.ProxyProvider), clock: clock}
}

// data signs ALB-shaped x-amzn-oidc-data: header alg, kid, signer, iss, client, exp;
// padded base64 as load balancers send it.
func (f fixture) data(t *testing.T, key mockvendor.SignKey, mod func(claims, header map[string]any)) string {
	t.Helper()
	exp := f.clock.Now().Unix() + 120
	claims := map[string]any{"sub": "1001", "name": "Alice Smith", "email": "alice@example.com", "picture": "https://pics.example/alice.png",
		"exp": exp, "iss": issuer}
	hdr := map[string]any{"signer": signer, "iss": issuer, "client": "client-id", "exp": exp, "typ": "JWT"}
	if mod != nil {
		mod(claims, hdr)
	}
	tok, err := f.mock.Sign(mockvendor.SignRequest{Claims: claims, Header: hdr, Key: key, Pad: true})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f fixture) auth(headers ...string) (providers.ProxyResult, error) {
	r, _ := http.NewRequest(http.MethodGet, "http://backstage.test/api/auth/awsalb/refresh", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return f.p.AuthenticateRequest(context.Background(), r)
}

func TestValid(t *testing.T) {
	f := setup(t, baseConfig())
	res, err := f.auth(awsalb.JWTHeader, f.data(t, "", nil), awsalb.AccessTokenHeader, "opaque-access-token")
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != (providers.Profile{Email: "alice@example.com", Picture: "https://pics.example/alice.png", DisplayName: "Alice Smith"}) {
		t.Errorf("profile %+v", res.Profile)
	}
	b, _ := json.Marshal(res.ProviderInfo)
	if want := fmt.Sprintf(`{"accessToken":"opaque-access-token","expiresInSeconds":%d}`, f.clock.Now().Unix()+120); string(b) != want {
		t.Errorf("providerInfo %s, want %s", b, want)
	}
	// The key is cached per kid.
	if _, err := f.auth(awsalb.JWTHeader, f.data(t, "", nil), awsalb.AccessTokenHeader, "x"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.mock.RequestsTo("/" + mockvendor.ALBKID)); n != 1 {
		t.Errorf("%d key fetches, want 1", n)
	}
}

func TestProfile(t *testing.T) {
	f := setup(t, baseConfig())
	jwtAT := mockkit.SignRS256(mockkit.Key(0), "k", map[string]any{"picture": "https://pics.example/from-at.png", "name": "From AT"})
	for _, tc := range []struct {
		name, at string
		mod      func(c, h map[string]any)
		want     providers.Profile
	}{
		{"no name: the local part", "x", func(c, _ map[string]any) { delete(c, "name") },
			providers.Profile{Email: "alice@example.com", Picture: "https://pics.example/alice.png", DisplayName: "alice"}},
		{"no picture, JWT access token", jwtAT, func(c, _ map[string]any) { delete(c, "picture") },
			providers.Profile{Email: "alice@example.com", Picture: "https://pics.example/from-at.png", DisplayName: "Alice Smith"}},
		{"empty name, JWT access token", jwtAT, func(c, _ map[string]any) { c["name"] = "" },
			providers.Profile{Email: "alice@example.com", Picture: "https://pics.example/alice.png", DisplayName: "From AT"}},
		{"no picture, opaque access token", "opaque", func(c, _ map[string]any) { delete(c, "picture") },
			providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}},
		{"no picture, empty access token", "", func(c, _ map[string]any) { delete(c, "picture") },
			providers.Profile{Email: "alice@example.com", DisplayName: "Alice Smith"}},
	} {
		res, err := f.auth(awsalb.JWTHeader, f.data(t, "", tc.mod), awsalb.AccessTokenHeader, tc.at)
		if err != nil || res.Profile != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, res.Profile, err, tc.want)
		}
	}
}

func TestRefused(t *testing.T) {
	f := setup(t, baseConfig())
	good := f.data(t, "", nil)
	for _, tc := range []struct {
		name    string
		headers []string
		status  string
		says    string
	}{
		{"no data", []string{awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication, "Missing ALB OIDC header: x-amzn-oidc-data"},
		{"no access token", []string{awsalb.JWTHeader, good}, backstageerr.NameAuthentication, "Missing ALB OIDC header: x-amzn-oidc-accesstoken"},
		{"forged", []string{awsalb.JWTHeader, f.data(t, mockvendor.SignForged, nil), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			"Exception occurred during JWT processing; caused by Error: the token's signature is invalid"},
		{"unknown kid", []string{awsalb.JWTHeader, f.data(t, mockvendor.SignUnknownKey, nil), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			"a key the issuer does not publish"},
		{"kid with a path", []string{awsalb.JWTHeader, f.data(t, "", func(_, h map[string]any) { h["kid"] = "../evil" }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			"a key the issuer does not publish"},
		{"expired", []string{awsalb.JWTHeader, f.data(t, "", func(c, _ map[string]any) { c["exp"] = f.clock.Now().Unix() - 1 }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			"caused by Error: the token has expired"},
		{"no exp", []string{awsalb.JWTHeader, f.data(t, "", func(c, _ map[string]any) { delete(c, "exp") }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			"the token has no expiry (exp)"},
		{"wrong iss", []string{awsalb.JWTHeader, f.data(t, "", func(c, _ map[string]any) { c["iss"] = "https://other.example" }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			awsalb.MsgIssuerMismatch},
		{"wrong signer", []string{awsalb.JWTHeader, f.data(t, "", func(_, h map[string]any) {
			h["signer"] = "arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/evil/1"
		}), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication, awsalb.MsgSignerMismatch},
		{"no signer", []string{awsalb.JWTHeader, f.data(t, "", func(_, h map[string]any) { delete(h, "signer") }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			awsalb.MsgSignerMismatch},
		{"no email", []string{awsalb.JWTHeader, f.data(t, "", func(c, _ map[string]any) { delete(c, "email") }), awsalb.AccessTokenHeader, "x"}, backstageerr.NameAuthentication,
			awsalb.MsgMissingEmail},
		{"RS256", []string{awsalb.JWTHeader, mockkit.SignRS256(mockkit.Key(0), mockvendor.ALBKID, map[string]any{"email": "a@b", "iss": issuer}), awsalb.AccessTokenHeader, "x"},
			backstageerr.NameAuthentication, `signed with \"RS256\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.auth(tc.headers...)
			if backstageerr.NameOf(err) != tc.status || !strings.Contains(err.Error(), strings.ReplaceAll(tc.says, `\"`, `"`)) {
				t.Fatalf("got %v %q, want %s containing %q", backstageerr.NameOf(err), err, tc.status, tc.says)
			}
			if res.Profile.Email != "" {
				t.Errorf("refused, yet a profile: %+v", res)
			}
		})
	}
}

func TestWithoutSigner(t *testing.T) {
	cfg := baseConfig()
	delete(cfg, "signer")
	_, ps := awsalb.Module.Parse(config.SectionFromMap(cfg))
	if ps.Err() != nil || len(ps) != 1 || !ps[0].Warning || ps[0].Path != "signer" || !strings.Contains(ps[0].Message, "any load balancer in us-east-1") {
		t.Fatalf("want one warning at signer, got %v", ps)
	}
	f := setup(t, cfg)
	if _, err := f.auth(awsalb.JWTHeader, f.data(t, "", func(_, h map[string]any) { h["signer"] = "arn:other" }), awsalb.AccessTokenHeader, "x"); err != nil {
		t.Fatalf("without a configured signer any signer passes (as Backstage): %v", err)
	}
}

func TestKeyEndpointDown(t *testing.T) {
	f := setup(t, baseConfig())
	f.mock.SetUnavailable(true)
	_, err := f.auth(awsalb.JWTHeader, f.data(t, "", nil), awsalb.AccessTokenHeader, "x")
	if backstageerr.NameOf(err) != backstageerr.NameServiceUnavailable || backstageerr.MessageOf(err) != awsalb.MsgKeys {
		t.Fatalf("got %v %q", backstageerr.NameOf(err), err)
	}
	f.mock.SetUnavailable(false)
	f.clock.Advance(5 * time.Second)
	if _, err := f.auth(awsalb.JWTHeader, f.data(t, "", nil), awsalb.AccessTokenHeader, "x"); err != nil {
		t.Fatal(err)
	}
	// The cached key keeps verifying when the endpoint goes down again, past its age.
	f.mock.SetUnavailable(true)
	f.clock.Advance(2 * time.Hour)
	if _, err := f.auth(awsalb.JWTHeader, f.data(t, "", nil), awsalb.AccessTokenHeader, "x"); err != nil {
		t.Fatalf("last good key: %v", err)
	}
}

func TestKeyEndpoints(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":     "https://public-keys.auth.elb.us-east-1.amazonaws.com",
		"us-gov-west-1": "https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1",
	} {
		if got := awsalb.KeyEndpoint(region); got != want {
			t.Errorf("%s: %s", region, got)
		}
	}
}

func TestConfigProblems(t *testing.T) {
	with := func(k string, v any) map[string]any { return providertest.With(baseConfig(), k, v) }
	providertest.ConfigProblems(t, awsalb.Module, []providertest.ConfigProblem{
		{M: with("issuer", nil), Path: "issuer", Says: "missing required config value"},
		{M: with("region", nil), Path: "region", Says: "missing required config value"},
		{M: with("region", "evil.com/x"), Path: "region", Says: "must be an AWS region"},
		{M: with("signer", "my-alb"), Path: "signer", Says: "must be an Application Load Balancer ARN"},
		{M: with("signer", strings.Replace(signer, "us-east-1", "eu-west-1", 1)), Path: "signer", Says: "is a load balancer in eu-west-1, but region is us-east-1"},
		{M: with("clockSkew", "1h"), Path: "clockSkew", Says: "between"},
	})
}

func TestResolvers(t *testing.T) {
	f := setup(t, baseConfig())
	alice := providertest.User("alice", nil, "group:default/team-a")
	alice.Spec = map[string]any{"profile": map[string]any{"email": "alice@example.com"}}
	cat := providertest.Catalog{alice}
	resolve := func(t *testing.T, email string, entry map[string]any) (resolvers.Identity, error) {
		res, err := f.auth(awsalb.JWTHeader, f.data(t, "", func(c, _ map[string]any) { c["email"] = email }), awsalb.AccessTokenHeader, "x")
		if err != nil {
			t.Fatal(err)
		}
		return providertest.Chain(t, awsalb.Module, cat, entry).Resolve(context.Background(), resolvers.SignInInfo{Email: res.Profile.Email, Claims: res.Claims})
	}
	if id, err := resolve(t, "alice@example.com", map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("profile email: %+v %v", id, err)
	}
	// The ALB version: no plus-address retry, and no options but the dangerous fallback.
	if _, err := resolve(t, "alice+x@example.com", map[string]any{"resolver": "emailMatchingUserEntityProfileEmail"}); err == nil {
		t.Error("plus-addressed email matched")
	}
	if id, err := resolve(t, "bob@example.com", map[string]any{"resolver": "emailMatchingUserEntityProfileEmail", "dangerouslyAllowSignInWithoutUserInCatalog": true}); err != nil || id.UserEntityRef != "user:default/bob@example.com" {
		t.Errorf("fallback: %+v %v", id, err)
	}
	sc, ps := resolvers.DecodeSignIn(config.SectionFromMap(map[string]any{"resolvers": []any{map[string]any{"resolver": "emailMatchingUserEntityProfileEmail", "matchEmailWithoutPlusTag": true}}}), resolvers.NewSet(awsalb.Module.Resolvers...))
	if ps.Err() == nil {
		t.Errorf("matchEmailWithoutPlusTag accepted: %v", sc)
	}
	if id, err := resolve(t, "alice@example.com", map[string]any{"resolver": "emailLocalPartMatchingUserEntityName"}); err != nil || id.UserEntityRef != "user:default/alice" {
		t.Errorf("local part: %+v %v", id, err)
	}
}
