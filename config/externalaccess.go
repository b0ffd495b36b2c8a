package config

// StaticAccessTokens are the tokens of the backend.auth.externalAccess entries of type
// static.
func (c *Config) StaticAccessTokens() []string {
	var out []string
	for _, ea := range c.Backend.Auth.ExternalAccess {
		if ea.Type == "static" && ea.Token != "" {
			out = append(out, ea.Token)
		}
	}
	return out
}
