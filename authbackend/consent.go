package authbackend

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// The demo's consent page: with the demo page and the authorization server both on,
// GET /oauth2/authorize/:sessionId (where /v1/authorize sends the browser when
// app.baseUrl is this server, as in the demo) shows the client, scopes and redirect
// host of the pending session, signs the user in through the demo provider's popup
// and approves or denies with that user's token. A real Backstage app serves this
// path itself (@backstage/plugin-auth). The page only uses the public routes.

const consentScript = demoPopupJS + `
(function () {
  var cfg = %s;
  var auth = location.origin + '/api/auth';
  var id = decodeURIComponent(location.pathname.split('/').pop());
  var token = null;
  function $(id) { return document.getElementById(id); }
  function fail(err) {
    $('status').textContent = 'Error: ' + (err && err.error_description || err && err.message || err);
  }
  function answer(res) {
    return res.json().then(function (body) {
      if (!res.ok) { throw body; }
      return body;
    });
  }
  fetch(auth + '/v1/sessions/' + encodeURIComponent(id)).then(answer).then(function (s) {
    $('client').textContent = s.clientName;
    $('clientId').textContent = s.clientId;
    $('scope').textContent = s.scope || 'openid';
    $('redirect').textContent = new URL(s.redirectUri).host;
    $('signin').disabled = false;
  }).catch(fail);
  $('signin').addEventListener('click', function () {
    popupSignIn(auth + '/' + encodeURIComponent(cfg.provider), 'openid profile email', cfg.env, function (session) {
      var bi = session.backstageIdentity;
      if (!bi) { fail(new Error('No Backstage identity was issued')); return; }
      token = bi.token;
      $('status').textContent = 'Signed in as ' + bi.identity.userEntityRef;
      $('approve').disabled = false;
      $('deny').disabled = false;
    }, fail);
  });
  function decide(what) {
    fetch(auth + '/v1/sessions/' + encodeURIComponent(id) + '/' + what, {
      method: 'POST', headers: { Authorization: 'Bearer ' + token }
    }).then(answer).then(function (body) { location.assign(body.redirectUrl); }).catch(fail);
  }
  $('approve').addEventListener('click', function () { decide('approve'); });
  $('deny').addEventListener('click', function () { decide('reject'); });
})();
`

// consentHTML is the page between <body> and its script (see pageShell).
const consentHTML = `<h1>Authorize access to Backstage</h1>
<p><strong id="client">…</strong> (<code id="clientId"></code>) asks for a Backstage token with the scopes
<code id="scope"></code>, to be sent to <code id="redirect"></code>.</p>
<p id="status">Sign in to decide.</p>
<p>
<button id="signin" type="button" disabled>Sign in</button>
<button id="approve" type="button" disabled>Approve</button>
<button id="deny" type="button" disabled>Deny</button>
</p>
`

// consentPage is built once, beside the demo page.
type consentPage struct {
	body []byte
	csp  string
}

func newConsentPage(provider, env string) (*consentPage, error) {
	body, csp, err := renderPage("consent", "Authorize access to Backstage", consentHTML, consentScript, provider, env)
	if err != nil {
		return nil, err
	}
	return &consentPage{body: body, csp: csp}, nil
}

func (s *Server) serveConsent(c *gin.Context) {
	c.Writer.Header().Set("Content-Security-Policy", s.consent.csp)
	// The page holds nothing secret, but a consent page must not be framed or cached.
	c.Writer.Header().Set("Cache-Control", "no-store")
	writeBody(c, http.StatusOK, "text/html; charset=utf-8", s.consent.body)
}
