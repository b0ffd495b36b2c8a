package config

// StaticAccessTokens are the token and subject of the backend.auth.externalAccess entries
// of type static (the element type is internal/credentials.StaticToken's).
func (c *Config) StaticAccessTokens() []struct{ Token, Subject string } {
	var out []struct{ Token, Subject string }
	for _, ea := range c.Backend.Auth.ExternalAccess {
		if ea.Type == "static" && ea.Token != "" {
			out = append(out, struct{ Token, Subject string }{ea.Token, ea.Subject})
		}
	}
	return out
}
