package credentials

import "testing"

func TestStaticTokensPrincipal(t *testing.T) {
	s := NewStaticTokens([]StaticToken{{Token: "tok-a", Subject: "ci"}, {Token: "", Subject: "empty"}, {Token: "tok-b", Subject: "offboarder"}})
	for token, want := range map[string]string{"tok-a": "external:ci", "tok-b": "external:offboarder"} {
		if got, ok := s.Principal(token); !ok || got != want || !s.Contains(token) {
			t.Errorf("Principal(%q) = %q, %v; want %q", token, got, ok, want)
		}
	}
	for _, token := range []string{"", "tok-", "tok-c", "TOK-A"} {
		if got, ok := s.Principal(token); ok || s.Contains(token) {
			t.Errorf("Principal(%q) = %q, accepted", token, got)
		}
	}
	if _, ok := (StaticTokens{}).Principal("tok-a"); ok {
		t.Error("an empty set accepted a token")
	}
}
