package authbackend

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/spectrocloud-labs/backstage-auth-go/config"
)

// demoPage is the optional sign-in demo served at "/" (authbackend.demoPage), built
// once at startup.
type demoPage struct {
	provider string
	env      string
	body     []byte
	csp      string
}

const demoStyle = `
  body { font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 46rem; padding: 0 1rem; color: #1b1f24; }
  button { font-size: 1rem; padding: .5rem 1rem; margin-right: .5rem; cursor: pointer; }
  button[disabled] { cursor: default; opacity: .5; }
  pre { background: #f4f5f7; padding: 1rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
  #status { font-weight: 600; }
`

// demoPopupJS speaks the popup protocol of Backstage's frontend (core-app-api): open
// /start in a popup, accept messages only from that popup and the auth origin,
// remember config_info, resolve on authorization_response. The demo and consent pages
// share it.
const demoPopupJS = `
function popupSignIn(base, scope, env, onSession, onError) {
  var url = base + '/start?scope=' + encodeURIComponent(scope) +
    '&origin=' + encodeURIComponent(location.origin) + '&flow=popup&env=' + encodeURIComponent(env);
  var popup = window.open(url, 'SpectroCloud Login', 'width=450,height=730');
  if (!popup) { onError(new Error('The sign-in popup was blocked')); return; }
  var targetOrigin = null, done = false;
  function cleanup() { clearInterval(timer); window.removeEventListener('message', onMessage); }
  function onMessage(event) {
    if (event.source !== popup || event.origin !== location.origin) { return; }
    var data = event.data || {};
    if (data.type === 'config_info') { targetOrigin = data.targetOrigin; return; }
    if (data.type !== 'authorization_response') { return; }
    done = true;
    cleanup();
    if (data.error) { onError(data.error); } else { onSession(data.response); }
  }
  var timer = setInterval(function () {
    if (!popup.closed) { return; }
    cleanup();
    if (done) { return; }
    onError(new Error(targetOrigin && targetOrigin !== location.origin ?
      'Login failed, Incorrect app origin, expected ' + targetOrigin : 'Login failed, popup was closed'));
  }, 100);
  window.addEventListener('message', onMessage);
}
`

// demoScript is the demo page's script. %s is the JSON config.
const demoScript = demoPopupJS + `
(function () {
  var cfg = %s;
  var base = location.origin + '/api/auth/' + encodeURIComponent(cfg.provider);
  var scope = 'openid profile email';
  function $(id) { return document.getElementById(id); }
  function setSignedIn(on) { $('refresh').disabled = !on; $('signout').disabled = !on; }
  function show(session) {
    var bi = session.backstageIdentity;
    if (bi) {
      $('status').textContent = 'Signed in as ' + bi.identity.userEntityRef +
        ' (Backstage token expires in ' + bi.expiresInSeconds + ' s)';
    } else {
      $('status').textContent = 'Signed in, but no Backstage identity was issued (no sign-in resolver).';
    }
    $('out').textContent = JSON.stringify({
      profile: session.profile,
      userEntityRef: bi && bi.identity.userEntityRef,
      ownershipEntityRefs: bi && bi.identity.ownershipEntityRefs,
      scope: session.providerInfo && session.providerInfo.scope
    }, null, 2);
    setSignedIn(true);
  }
  function fail(err) {
    $('status').textContent = 'Error: ' + (err && err.name ? err.name + ': ' : '') + (err && err.message || err);
  }
  $('signin').addEventListener('click', function () { popupSignIn(base, scope, cfg.env, show, fail); });
  $('refresh').addEventListener('click', function () {
    fetch(base + '/refresh?optional&scope=' + encodeURIComponent(scope) + '&env=' + encodeURIComponent(cfg.env), {
      headers: { 'X-Requested-With': 'XMLHttpRequest' }, credentials: 'include'
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok || body.error) { throw body.error || new Error('HTTP ' + res.status); }
        show(body);
      });
    }).catch(fail);
  });
  $('signout').addEventListener('click', function () {
    fetch(base + '/logout?env=' + encodeURIComponent(cfg.env), {
      method: 'POST', headers: { 'X-Requested-With': 'XMLHttpRequest' }, credentials: 'include'
    }).then(function (res) {
      if (!res.ok) { throw new Error('Sign out failed: HTTP ' + res.status); }
      $('status').textContent = 'Signed out.';
      $('out').textContent = '';
      setSignedIn(false);
    }).catch(fail);
  });
})();
`

// demoHTML is the page between <body> and its script (see pageShell).
const demoHTML = `<h1>Backstage auth backend</h1>
<p id="status">Not signed in.</p>
<p>
<button id="signin" type="button">Sign in with SpectroCloud</button>
<button id="refresh" type="button" disabled>Refresh</button>
<button id="signout" type="button" disabled>Sign out</button>
</p>
<pre id="out"></pre>
`

func newDemoPage(dc config.DemoConfig) (*demoPage, error) {
	provider, env := dc.Provider, dc.Env
	if provider == "" {
		provider = "spectrocloud"
	}
	if env == "" {
		env = "development"
	}
	body, csp, err := renderPage("demo", "Backstage auth backend demo", demoHTML, demoScript, provider, env)
	if err != nil {
		return nil, err
	}
	return &demoPage{provider: provider, env: env, body: body, csp: csp}, nil
}

// pageShell is the document around a page's body (title, style, body, script).
const pageShell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>%s</style>
</head>
<body>
%s<script>%s</script>
</body>
</html>
`

// renderPage fills a page's script with its provider and env and the page shell with
// the title, the shared style, the body and that script; csp allows exactly the style
// and the script, by hash.
func renderPage(name, title, bodyHTML, scriptFmt, provider, env string) (body []byte, csp string, err error) {
	// encoding/json escapes <, > and &, so the values cannot end the script element.
	cfgJSON, err := json.Marshal(map[string]string{"provider": provider, "env": env})
	if err != nil {
		return nil, "", fmt.Errorf("authbackend: %s page: %w", name, err)
	}
	script := fmt.Sprintf(scriptFmt, cfgJSON)
	return []byte(fmt.Sprintf(pageShell, title, demoStyle, bodyHTML, script)),
		"default-src 'self';base-uri 'none';object-src 'none';frame-ancestors 'none';form-action 'none';" +
			"script-src " + scriptHash(script) + ";style-src " + scriptHash(demoStyle),
		nil
}

func (s *Server) serveDemo(c *gin.Context) {
	c.Writer.Header().Set("Content-Security-Policy", s.demo.csp)
	writeBody(c, http.StatusOK, "text/html; charset=utf-8", s.demo.body)
}
