package oauth2engine

import (
	"context"
	"strconv"
)

// JSONProfile is the FetchProfile hook of the many strategies whose userProfile is one
// GET of a JSON object with the access token (as a Bearer header, never in the query),
// mapped to the full profile by mapProfile.
func JSONProfile(url string, mapProfile func(raw map[string]any) *FullProfile) func(context.Context, *Client, *Token) (*FullProfile, error) {
	return func(ctx context.Context, c *Client, tok *Token) (*FullProfile, error) {
		raw, _, err := c.GetJSON(ctx, url, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		return mapProfile(raw), nil
	}
}

// IDString is JavaScript's String(id) for a numeric or string id of a decoded JSON
// answer (an integer, a whole float or a string); "" when absent or of another type,
// where JavaScript would give "undefined".
func IDString(v any) string {
	switch id := v.(type) {
	case int64:
		return strconv.FormatInt(id, 10)
	case float64:
		return strconv.FormatFloat(id, 'f', -1, 64)
	case string:
		return id
	}
	return ""
}
