//go:build linux

package harness

import (
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// FakeOkta is an Okta org of the tests, over HTTPS on 127.0.0.1, that
// answers the two requests of an OktaCredentialsProvider login in Okta's
// wire format:
//
//   - POST /api/v1/authn with {"username","password"} (the Authentication
//     API, https://developer.okta.com/docs/reference/api/authn/): 200 with
//     an authentication transaction, status SUCCESS and a one-time
//     sessionToken, or MFA_REQUIRED with a stateToken for a user that
//     [FakeOkta.RequireMFA] marked; 401 with error E0000004
//     "Authentication failed" for a wrong user or password; 400 E0000003
//     for a body that is not JSON.
//   - GET /home/<app_name>/<app_id>?onetimetoken=<sessionToken> (the
//     app's embed link, as Amazon's drivers call it): a session cookie and
//     302 to the app's SSO URL, absolute, on the org's host written as
//     Okta writes it (lower case, no port if 443), which answers 200 with
//     the HTML form that posts the SAML response to AWS, its base64
//     written with &#x2b; and &#x3d; as Okta writes it; 404 HTML for an
//     app not added; a redirect to the sign-in page for a token unknown,
//     used or expired (session tokens are good once, for five minutes).
type FakeOkta struct {
	idpServer
	samlResponse func(user string) string // see SetSAMLResponse; under mu

	users  map[string]string // password
	mfa    map[string]bool
	apps   map[string]bool    // app_name + "/" + app_id
	tokens map[string]oktaTok // session tokens not yet used
	sids   map[string]string  // session cookie: user
}

// oktaTok is a session token's user and expiration.
type oktaTok struct {
	user string
	exp  time.Time
}

// SetSAMLResponse makes the app's SAML response (base64) for a user from
// now on; nil: [FixedResponse].
func (f *FakeOkta) SetSAMLResponse(respond func(user string) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samlResponse = respond
}

// StartFakeOkta starts an Okta org with no users nor apps; it stops when
// the test ends.
func StartFakeOkta(t T) *FakeOkta {
	t.Helper()
	f := &FakeOkta{users: map[string]string{}, mfa: map[string]bool{}, apps: map[string]bool{}, tokens: map[string]oktaTok{}, sids: map[string]string{}}
	startIdPServer(t, &f.idpServer, f)
	return f
}

// AddUser lets user sign in with password.
func (f *FakeOkta) AddUser(user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[user] = password
}

// RequireMFA makes user's sign-in ask for a second factor.
func (f *FakeOkta) RequireMFA(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mfa[user] = true
}

// AddApp adds the AWS app named name (amazon_aws in Okta's catalogue)
// with id (0oa...).
func (f *FakeOkta) AddApp(name, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[name+"/"+id] = true
}

// ServeHTTP answers Okta's requests.
func (f *FakeOkta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveRedirected(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/authn":
		if fault := f.count("authn"); fault != FaultNone {
			f.serveFault(w, r, fault, "application/json")
			return
		}
		f.serveAuthn(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/home/"):
		if fault := f.count("app"); fault != FaultNone {
			f.serveFault(w, r, fault, "text/html;charset=utf-8")
			return
		}
		f.serveApp(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/app/") && strings.HasSuffix(r.URL.Path, "/sso/saml"):
		f.serveSSO(w, r)
	case r.URL.Path == "/login/login.htm":
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>fake - Sign In</title></head><body><div id="okta-sign-in"></div></body></html>`)
	default:
		oktaError(w, http.StatusNotFound, "E0000022", "The endpoint does not support the provided HTTP method")
	}
}

// oktaError answers with Okta's error object
// (https://developer.okta.com/docs/reference/error-codes/).
func oktaError(w http.ResponseWriter, status int, code, summary string) {
	id, _ := randomHex(12)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae" + id, "errorCauses": []any{},
	})
}

// serveAuthn answers primary authentication.
func (f *FakeOkta) serveAuthn(w http.ResponseWriter, r *http.Request) {
	var req struct{ Username, Password string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		oktaError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	f.mu.Lock()
	pw, ok := f.users[req.Username]
	mfa := f.mfa[req.Username]
	f.mu.Unlock()
	if !ok || pw != req.Password {
		oktaError(w, http.StatusUnauthorized, "E0000004", "Authentication failed")
		return
	}
	exp := time.Now().Add(5 * time.Minute)
	user := map[string]any{
		"id": "00ub0oNGTSWTBKOLGLNR", "passwordChanged": "2026-01-01T00:00:00.000Z",
		"profile": map[string]string{"login": req.Username, "firstName": "Fake", "lastName": "User", "locale": "en", "timeZone": "UTC"},
	}
	tok, _ := randomHex(20)
	ans := map[string]any{"expiresAt": exp.UTC().Format("2006-01-02T15:04:05.000Z"), "_embedded": map[string]any{"user": user}}
	if mfa {
		ans["status"], ans["stateToken"] = "MFA_REQUIRED", "00"+tok
		ans["_embedded"].(map[string]any)["factors"] = []any{map[string]any{
			"id": "ufs2bysphxKODSZKWVCT", "factorType": "token:software:totp", "provider": "OKTA", "vendorName": "OKTA",
		}}
	} else {
		ans["status"], ans["sessionToken"] = "SUCCESS", "20"+tok
		f.mu.Lock()
		f.tokens["20"+tok] = oktaTok{req.Username, exp}
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// serveApp answers the app's embed link with the SAML form.
func (f *FakeOkta) serveApp(w http.ResponseWriter, r *http.Request) {
	app := strings.TrimPrefix(r.URL.Path, "/home/")
	tok := r.URL.Query().Get("onetimetoken")
	f.mu.Lock()
	known := f.apps[app]
	t, ok := f.tokens[tok]
	if known {
		delete(f.tokens, tok)
	}
	f.mu.Unlock()
	if !known {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Page Not Found</title></head><body><h1>404</h1><p>The page you are looking for can't be found.</p></body></html>`)
		return
	}
	if !ok || time.Now().After(t.exp) {
		http.Redirect(w, r, "/login/login.htm?fromURI="+r.URL.Path, http.StatusFound)
		return
	}
	sid, _ := randomHex(16)
	f.mu.Lock()
	f.sids[sid] = t.user
	f.mu.Unlock()
	host := strings.ToLower(r.Host)
	if h, port, err := net.SplitHostPort(host); err == nil && port == "443" {
		host = h
	}
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", Secure: true, HttpOnly: true})
	sso := url.URL{Scheme: "https", Host: host, Path: "/app/" + app + "/sso/saml"}
	http.Redirect(w, r, sso.String(), http.StatusFound)
}

// serveSSO answers the app's SSO URL, for the session's user, with the
// SAML form.
func (f *FakeOkta) serveSSO(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("sid")
	f.mu.Lock()
	user, ok := "", false
	if err == nil {
		user, ok = f.sids[c.Value]
		delete(f.sids, c.Value)
	}
	respond := f.samlResponse
	f.mu.Unlock()
	if !ok {
		http.Redirect(w, r, "/login/login.htm?fromURI="+r.URL.Path, http.StatusFound)
		return
	}
	saml := FixedResponse(user)
	if respond != nil {
		saml = respond(user)
	}
	saml = strings.NewReplacer("+", "&#x2b;", "=", "&#x3d;", "/", "&#x2f;").Replace(html.EscapeString(saml))
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	fmt.Fprintf(w, `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head><title>Signing in...</title></head>
<body><form id="appForm" action="https&#x3a;&#x2f;&#x2f;signin.aws.amazon.com&#x2f;saml" method="POST">
<input name="SAMLResponse" type="hidden" value="%s"/>
<input name="RelayState" type="hidden" value=""/>
</form><script type="text/javascript">(function(){document.getElementById('appForm').submit();})();</script></body></html>`, saml)
}
