package mockvendor

import (
	"encoding/json"
	"net/http"

	"github.com/spectrocloud-labs/backstage-auth-go/providers/internal/mockkit"
)

// mintHandler serves a /_mock/ endpoint that makes what a proxy would send (a token,
// headers) from a JSON request: {"ok": true, key: mint(req)}, or 400 naming the problem.
func mintHandler[Req, Out any](key string, mint func(Req) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			mockkit.WriteJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "the body is not a JSON request"})
			return
		}
		out, err := mint(req)
		if err != nil {
			mockkit.WriteJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		mockkit.WriteJSON(w, http.StatusOK, map[string]any{"ok": true, key: out})
	}
}
