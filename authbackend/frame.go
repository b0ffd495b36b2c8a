package authbackend

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// authorizationResponse is the message the popup page posts to the app.
type authorizationResponse struct {
	Type     string          `json:"type"`
	Response *signInResponse `json:"response,omitempty"`
	Error    *errorJSON      `json:"error,omitempty"`
}

// The popup page's script, split around the two encoded values. The text (leading
// newline and indentation included) is Backstage's, so the CSP hash of a page for the
// same message is the same as the Node backend's.
const (
	frameScriptHead = "\n    var authResponse = decodeURIComponent('"
	frameScriptMid  = "');\n    var origin = decodeURIComponent('"
	frameScriptTail = "');\n" +
		"    var originInfo = {'type': 'config_info', 'targetOrigin': origin};\n" +
		"    (window.opener || window.parent).postMessage(originInfo, '*');\n" +
		"    (window.opener || window.parent).postMessage(JSON.parse(authResponse), origin);\n" +
		"    setTimeout(() => {\n" +
		"      window.close();\n" +
		"    }, 100); // same as the interval of the core-app-api lib/loginPopup.ts (to address race conditions)\n" +
		"  "
)

// frameScript returns the popup script for a JSON message and target origin.
func frameScript(messageJSON []byte, origin string) string {
	var b strings.Builder
	b.Grow(len(frameScriptHead) + len(frameScriptMid) + len(frameScriptTail) + 3*len(messageJSON)/2 + 3*len(origin))
	b.WriteString(frameScriptHead)
	encodeURIComponentTo(&b, string(messageJSON))
	b.WriteString(frameScriptMid)
	encodeURIComponentTo(&b, origin)
	b.WriteString(frameScriptTail)
	return b.String()
}

// scriptHash is the CSP source for an inline script: 'sha256-<base64>'.
func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// writeFramePage answers the callback with the page that posts msg to origin. Its CSP
// (replacing helmet's) allows exactly this script and nothing else.
func (s *Server) writeFramePage(c *gin.Context, origin string, msg authorizationResponse) {
	payload, err := jsrules.Marshal(msg)
	if err != nil {
		s.writeError(c, err)
		return
	}
	script := frameScript(payload, origin)
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "script-src "+scriptHash(script))
	h.Set("X-Frame-Options", "sameorigin")
	body := make([]byte, 0, len(script)+64)
	body = append(body, "<html><body><script>"...)
	body = append(body, script...)
	body = append(body, "</script></body></html>"...)
	writeBody(c, http.StatusOK, "text/html", body)
}

// encodeURIComponentTo writes JavaScript's encodeURIComponent(s) with "'" also
// escaped (%27), so the result is safe inside a single-quoted script string and
// cannot close the <script> element (< and > are escaped too).
func encodeURIComponentTo(b *strings.Builder, s string) {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '!', ch == '~', ch == '*', ch == '(', ch == ')':
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[ch>>4])
			b.WriteByte(upperHex[ch&0x0f])
		}
	}
}
