package oauth2engine

import (
	"testing"
)

// The expected strings were produced by Node 20's querystring and url modules
// (querystring.stringify, url.parse(…, true) + url.format), as passport uses them.
func TestQueryEncodingMatchesNode(t *testing.T) {
	ps := Params{{"scope", "read:user user:email"}, {"state", "6e6f"},
		{"redirect_uri", "http://127.0.0.1:7007/api/auth/github/handler/frame"}, {"x", "!~*()' é+/&=?#%"}}
	want := "scope=read%3Auser%20user%3Aemail&state=6e6f&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fgithub%2Fhandler%2Fframe&x=!~*()'%20%C3%A9%2B%2F%26%3D%3F%23%25"
	if got := ps.Encode(); got != want {
		t.Errorf("Encode:\n got %s\nwant %s", got, want)
	}
}

func TestParseQueryMatchesNode(t *testing.T) {
	// querystring.parse("access_token=gho_abc&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer&x=%ZZ&y=a+b&d=1&d=2&empty&=v")
	got := ParseQuery("access_token=gho_abc&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer&x=%ZZ&y=a+b&d=1&d=2&empty&=v")
	want := Params{{"access_token", "gho_abc"}, {"scope", "read:user,user:email"}, {"token_type", "bearer"}, {"x", "%ZZ"},
		{"y", "a b"}, {"d", "1"}, {"d", "2"}, {"empty", ""}, {"", "v"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("param %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if v := ParseQuery("a=%E2%82%AC%zz%41")[0].Value; v != "€%zzA" {
		t.Errorf("mixed escapes: %q", v)
	}
}

func TestParamsSetReplacesInPlace(t *testing.T) {
	ps := ParseQuery("audience=api%20x&foo=a+b&foo=c&e=")
	ps.Set("response_type", "code")
	ps.Set("foo", "z")
	ps.Set("scope", "a b")
	ps.Set("client_id", "cid")
	// url.format of url.parse("…?audience=api%20x&foo=a+b&foo=c&e=", true) merged with
	// {response_type, foo, scope} and client_id.
	if got, want := ps.Encode(), "audience=api%20x&foo=z&e=&response_type=code&scope=a%20b&client_id=cid"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if v, ok := ps.Get("foo"); !ok || v != "z" {
		t.Errorf("Get(foo) = %q %v", v, ok)
	}
	if _, ok := ps.Get("nope"); ok {
		t.Error("Get found a missing key")
	}
}

func TestAuthorizeURLMatchesNode(t *testing.T) {
	for _, tc := range []struct {
		base string
		ps   Params
		want string
	}{
		{"https://github.com/login/oauth/authorize",
			Params{{"response_type", "code"}, {"redirect_uri", "http://127.0.0.1:7007/api/auth/github/handler/frame"}, {"scope", "read:user repo"}, {"state", "7b22a"}, {"client_id", "Iv1.abc"}},
			"https://github.com/login/oauth/authorize?response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A7007%2Fapi%2Fauth%2Fgithub%2Fhandler%2Fframe&scope=read%3Auser%20repo&state=7b22a&client_id=Iv1.abc"},
		{"https://idp.example/oauth/authorize?audience=https%3A%2F%2Fapi&prompt=login#x",
			Params{{"response_type", "code"}, {"redirect_uri", "https://b.example/cb?a=1"}, {"state", "ab"}, {"prompt", "consent"}, {"client_id", "c i*d"}},
			"https://idp.example/oauth/authorize?audience=https%3A%2F%2Fapi&prompt=consent&response_type=code&redirect_uri=https%3A%2F%2Fb.example%2Fcb%3Fa%3D1&state=ab&client_id=c%20i*d#x"},
		{"https://idp.example/authorize?", Params{{"client_id", "c"}}, "https://idp.example/authorize?client_id=c"},
	} {
		if got := authorizeURL(tc.base, tc.ps); got != tc.want {
			t.Errorf("authorizeURL(%s):\n got %s\nwant %s", tc.base, got, tc.want)
		}
	}
}
