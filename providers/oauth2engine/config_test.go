package oauth2engine

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

func TestCheckBaseURL(t *testing.T) {
	sec := config.SectionFromMap(map[string]any{})
	for _, tc := range []struct {
		raw, want, problem string
	}{
		{raw: "https://git.example.com", want: "https://git.example.com"},
		{raw: " https://git.example.com/ ", want: "https://git.example.com"},
		{raw: "https://git.example.com/sub/", want: "https://git.example.com/sub"},
		{raw: "", want: ""},
		{raw: "git.example.com", problem: "absolute http(s) URL"},
		{raw: "https://u:p@git.example.com", problem: "user info"},
		{raw: "https://git.example.com?x=1", problem: "no query here"},
		{raw: "https://git.example.com/?", problem: "no query here"},
		{raw: "https://git.example.com#", problem: "no query here"},
		{raw: "https://git.example.com/#top", problem: "no query here"},
	} {
		got, ps := CheckBaseURL(sec, "audience", tc.raw, "no query here")
		if tc.problem == "" {
			if ps != nil || got != tc.want {
				t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", tc.raw, got, ps, tc.want)
			}
			continue
		}
		if len(ps) != 1 || !strings.Contains(ps[0].Message, tc.problem) || got != "" {
			t.Errorf("CheckBaseURL(%q) = %q, %v; want one problem with %q", tc.raw, got, ps, tc.problem)
		}
	}
}
