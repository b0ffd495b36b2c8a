package config

import "testing"

func TestDiscoveryURLs(t *testing.T) {
	tests := []struct {
		name                       string
		yaml                       string
		plugin                     string
		external, internal, authBU string
		explicit                   bool
	}{
		{name: "defaults", yaml: "", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "http://localhost:7007/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "trailing slash on baseUrl", yaml: "backend:\n  baseUrl: http://b.test/base//\n", plugin: "catalog",
			external: "http://b.test/base/api/catalog", internal: "http://localhost:7007/api/catalog", authBU: "http://b.test/base/api/auth"},
		{name: "listen 0.0.0.0 and https", yaml: "backend:\n  https: true\n  listen: {host: 0.0.0.0, port: 8080}\n", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "https://127.0.0.1:8080/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "https false stays http", yaml: "backend:\n  https: false\n", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "http://localhost:7007/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "listen ::", yaml: "backend:\n  listen: {host: '::'}\n", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "http://localhost:7007/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "listen ipv6 host", yaml: "backend:\n  listen: '[::1]:9000'\n", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "http://[::1]:9000/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "string target with template", yaml: "discovery:\n  endpoints:\n    - target: http://gw.test/api/{{ pluginId }}\n      plugins: [catalog]\n", plugin: "catalog",
			external: "http://gw.test/api/catalog", internal: "http://gw.test/api/catalog", authBU: "http://backend.test/api/auth", explicit: true},
		{name: "object target", yaml: "discovery:\n  endpoints:\n    - target: {internal: 'http://auth.svc:7007/api/{{pluginId}}', external: 'https://auth.example.com/api/{{pluginId}}/'}\n      plugins: [auth]\n", plugin: "auth",
			external: "https://auth.example.com/api/auth/", internal: "http://auth.svc:7007/api/auth", authBU: "https://auth.example.com/api/auth", explicit: true},
		{name: "wildcard", yaml: "discovery:\n  endpoints:\n    - target: http://all.test/{{pluginId}}\n      plugins: ['*']\n", plugin: "my plugin/x",
			external: "http://all.test/my%20plugin%2Fx", internal: "http://all.test/my%20plugin%2Fx", authBU: "http://all.test/auth", explicit: true},
		{name: "other plugin listed", yaml: "discovery:\n  endpoints:\n    - target: http://cat.test\n      plugins: [catalog]\n", plugin: "auth",
			external: "http://backend.test/api/auth", internal: "http://localhost:7007/api/auth", authBU: "http://backend.test/api/auth"},
		{name: "first match wins", yaml: "discovery:\n  endpoints:\n    - target: http://one.test/{{pluginId}}\n      plugins: [auth]\n    - target: http://two.test/{{pluginId}}\n      plugins: ['*']\n", plugin: "auth",
			external: "http://one.test/auth", internal: "http://one.test/auth", authBU: "http://one.test/auth", explicit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"app-config.yaml": minimal, "extra.yaml": tt.yaml + "\n"})
			c := mustLoad(t, dir, env{}, nil, "app-config.yaml", "extra.yaml")
			if got := c.ExternalBaseURL(tt.plugin); got != tt.external {
				t.Errorf("ExternalBaseURL = %q, want %q", got, tt.external)
			}
			if got := c.InternalBaseURL(tt.plugin); got != tt.internal {
				t.Errorf("InternalBaseURL = %q, want %q", got, tt.internal)
			}
			if got := c.AuthBaseURL(); got != tt.authBU {
				t.Errorf("AuthBaseURL = %q, want %q", got, tt.authBU)
			}
			if got := c.HasDiscoveryEndpoint(tt.plugin); got != tt.explicit {
				t.Errorf("HasDiscoveryEndpoint = %v, want %v", got, tt.explicit)
			}
		})
	}
}

func TestDiscoveryProblems(t *testing.T) {
	dir := writeTree(t, map[string]string{"app-config.yaml": minimal + `
discovery:
  endpoints:
    - target: {internal: http://x.test}
      plugins: [auth]
    - target: http://y.test
    - target: not a url
      plugins: [a]
`})
	_, err := loadDir(dir, env{}, nil)
	for _, w := range []string{
		"discovery.endpoints[0].target.external: missing required config value (app-config.yaml)",
		"discovery.endpoints[1].plugins: must list at least one plugin (app-config.yaml)",
		`discovery.endpoints[2].target: must be an absolute http(s) URL, got "not a url" (app-config.yaml)`,
	} {
		if !hasProblem(err, w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

func TestOrigin(t *testing.T) {
	tests := map[string]string{
		"http://app.test":              "http://app.test",
		"HTTPS://App.Test:443/x/y?q=1": "https://app.test",
		"http://app.test:80/":          "http://app.test",
		"http://app.test:3000/path":    "http://app.test:3000",
		"http://[::1]:3000":            "http://[::1]:3000",
		"ftp://x":                      "",
		"/relative":                    "",
	}
	for in, want := range tests {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}
