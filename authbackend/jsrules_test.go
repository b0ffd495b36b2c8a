package authbackend

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// framePageVectors are pages @backstage/plugin-auth-node's sendWebMessageResponse
// produced (internal/jsrules/testdata/gen-vectors.js).
type framePageVectors struct {
	Pages []struct {
		Name             string          `json:"name"`
		Origin           string          `json:"origin"`
		Message          json.RawMessage `json:"message"`
		DisplayNameBytes string          `json:"displayNameBytes"`
		CSP              string          `json:"csp"`
		ContentType      string          `json:"contentType"`
		Body             string          `json:"body"`
	} `json:"pages"`
}

// TestFramePageMatchesNode: the popup page for a message (U+2028/U+2029, quotes and
// tags, non-ASCII, controls, invalid UTF-8) has exactly the bytes and the CSP script
// hash Node's sendWebMessageResponse gives it. With encoding/json's escapes the
// payload, and so the hash, would differ.
func TestFramePageMatchesNode(t *testing.T) {
	raw, err := os.ReadFile("../internal/jsrules/testdata/frame-page.json")
	if err != nil {
		t.Fatal(err)
	}
	var v framePageVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Pages) == 0 {
		t.Fatal("no pages")
	}
	gin.SetMode(gin.TestMode)
	s := &Server{}
	for _, p := range v.Pages {
		t.Run(p.Name, func(t *testing.T) {
			var msg authorizationResponse
			if err := json.Unmarshal(p.Message, &msg); err != nil {
				t.Fatal(err)
			}
			if p.DisplayNameBytes != "" {
				b, _ := base64.StdEncoding.DecodeString(p.DisplayNameBytes)
				msg.Response.Profile.DisplayName = string(b) // not valid UTF-8
			}
			want, _ := base64.StdEncoding.DecodeString(p.Body)
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, "/api/auth/x/handler/frame", nil)
			s.writeFramePage(c, p.Origin, msg)
			if rec.Body.String() != string(want) {
				t.Errorf("page differs from Node's:\n got %q\nwant %q", rec.Body.String(), want)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != p.CSP {
				t.Errorf("CSP = %q, Node %q", got, p.CSP)
			}
			if got := rec.Header().Get("Content-Type"); got != p.ContentType {
				t.Errorf("Content-Type = %q, Node %q", got, p.ContentType)
			}
		})
	}
}

// TestErrorJSONKeepsLineSeparators: error JSON carries U+2028 raw, as JSON.stringify
// writes it (encoding/json would write \u2028).
func TestErrorJSONKeepsLineSeparators(t *testing.T) {
	h := newHarness(t)
	rec := h.do(req{target: "/api/auth/no\u2028such/start?env=development"})
	body := rec.Body.String()
	if strings.Contains(body, `\u2028`) || !strings.Contains(body, "no\u2028such") {
		t.Errorf("body = %q", body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("not JSON: %q", body)
	}
}

// TestNewNamesOriginPatternKey: a pattern that would allow every origin stops the
// server from starting, and the error names the config key and index.
func TestNewNamesOriginPatternKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*config.Config)
		want string
	}{
		{"extra origins", func(c *config.Config) {
			c.Auth.ExtraAllowedOrigins = []string{"https://ok.example.com", "https://*"}
		}, `authbackend: auth.experimentalExtraAllowedOrigins[1]: pattern "https://*" would allow every origin`},
		{"cors", func(c *config.Config) {
			c.Backend.CORS = &config.CORSConfig{Origins: []string{"*", "http*://*:*"}}
		}, `authbackend: backend.cors.origin[1]: pattern "http*://*:*" would allow every origin`},
		{"unsupported pattern", func(c *config.Config) {
			c.Auth.ExtraAllowedOrigins = []string{"https://[[:alpha:]].example.com"}
		}, `authbackend: auth.experimentalExtraAllowedOrigins[0]: pattern "https://[[:alpha:]].example.com": POSIX character classes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := newHarness(t).opts
			cfg := *opts.Config
			cfg.Backend.CORS = nil
			tc.mod(&cfg)
			opts.Config = &cfg
			_, err := New(opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
}
