//go:build linux

package harness

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The Microsoft identity platform's authorization code flow, as the fake
// answers it (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow):
//
//   - GET /{tenant}/oauth2/v2.0/authorize with client_id, response_type
//     code, redirect_uri, scope, state and response_mode: the user is
//     signed in at once (a browser with a session) and the answer is
//     the form_post page (OAuth 2.0 Form Post Response Mode, OpenID
//     Foundation, section 2), whose form the browser posts to
//     redirect_uri with code and state; or, for another response_mode,
//     a 302 to redirect_uri with them in the query. A redirect_uri on
//     localhost matches the registered one whatever its port, as the
//     platform matches loopback redirect URIs.
//   - POST /{tenant}/oauth2/v2.0/token, a form with grant_type
//     authorization_code, code, client_id, redirect_uri and scope: the
//     JSON of RFC 6749 section 5.1 (token_type Bearer, scope, expires_in,
//     access_token, id_token), or 400 with section 5.2's error and an
//     AADSTS description.
//   - GET /{tenant}/discovery/v2.0/keys: the JWKS of the issuer's key.
//
// The access token is a JWT of the [FakeOIDC] given: iss its Issuer, aud
// the scope's resource ("api://x" for scope "api://x/User.Read"), upn the
// user signed in; each code is good once, for its client and redirect_uri.

// FakeAzureOAuth2 is an Azure AD (Entra ID) tenant of the tests.
type FakeAzureOAuth2 struct {
	// URL is the fake's base URL, in place of
	// https://login.microsoftonline.com.
	URL string
	// Tenant, ClientID and Redirect are the tenant, the application and
	// its registered redirect URI; User is the user who signs in.
	Tenant, ClientID, Redirect, User string

	oidc      *FakeOIDC
	srv       *http.Server
	idpFaults // for the token request

	mu        sync.Mutex
	codes     map[string]azureCode
	authorize int
	tokens    int
	lifetime  time.Duration
	issued    []string
}

type azureCode struct {
	clientID, redirect, scope string
}

// StartFakeAzureOAuth2 starts a tenant whose tokens oidc signs, on loopback,
// stopped with the test.
func StartFakeAzureOAuth2(t T, oidc *FakeOIDC, tenant, clientID, user string) *FakeAzureOAuth2 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	f := &FakeAzureOAuth2{URL: "http://" + ln.Addr().String(), Tenant: tenant, ClientID: clientID,
		Redirect: "http://localhost/redshift/", User: user, oidc: oidc, codes: map[string]azureCode{}, lifetime: time.Hour}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// SetLifetime sets expires_in of the tokens issued (default an hour).
func (f *FakeAzureOAuth2) SetLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// Calls returns how many sign-ins (authorize) and token requests the
// fake answered.
func (f *FakeAzureOAuth2) Calls() (authorize, token int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.authorize, f.tokens
}

// Issued returns the access tokens and codes the fake issued.
func (f *FakeAzureOAuth2) Issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

// ServeHTTP answers one request.
func (f *FakeAzureOAuth2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveRedirected(w, r) {
		return
	}
	base := "/" + f.Tenant
	switch r.URL.Path {
	case base + "/oauth2/v2.0/authorize":
		f.serveAuthorize(w, r)
	case base + "/oauth2/v2.0/token":
		f.serveToken(w, r)
	case base + "/discovery/v2.0/keys":
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.oidc.JWKS())
	default:
		azureOAuth2Error(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant not found.")
	}
}

func (f *FakeAzureOAuth2) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != f.ClientID:
		http.Error(w, "AADSTS700016: Application not found in the directory.", http.StatusBadRequest)
		return
	case !f.redirectMatches(redirect):
		http.Error(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'response_type' or 'scope'.", http.StatusBadRequest)
		return
	}
	code := "0.A" + randomToken()
	f.mu.Lock()
	f.authorize++
	f.codes[code] = azureCode{q.Get("client_id"), redirect, q.Get("scope")}
	f.issued = append(f.issued, code)
	f.mu.Unlock()
	answer := url.Values{"code": {code}, "state": {q.Get("state")}, "session_state": {randomToken()}}
	if q.Get("response_mode") != "form_post" {
		http.Redirect(w, r, redirect+"?"+answer.Encode(), http.StatusFound)
		return
	}
	writeFormPost(w, redirect, answer)
}

// writeFormPost answers the form_post page that posts code, state and
// session_state of answer to redirect, as Azure AD writes it.
func writeFormPost(w http.ResponseWriter, redirect string, answer url.Values) {
	var b strings.Builder
	b.WriteString(`<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="` + html.EscapeString(redirect) + `">`)
	for _, k := range []string{"code", "state", "session_state"} {
		b.WriteString(`<input type="hidden" name="` + k + `" value="` + html.EscapeString(answer.Get(k)) + `" />`)
	}
	b.WriteString(`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form>` +
		`<script language="javascript">document.forms[0].submit();</script></body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(b.String()))
}

// redirectMatches compares a redirect URI with the registered one, any
// port on localhost.
func (f *FakeAzureOAuth2) redirectMatches(redirect string) bool {
	u, err := url.Parse(redirect)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" {
		u.Host = u.Hostname()
	}
	return u.String() == f.Redirect
}

func (f *FakeAzureOAuth2) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokens++
	lifetime := f.lifetime
	f.mu.Unlock()
	if f.serveFault(w, r, f.Fault(), "application/json") {
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		azureOAuth2Error(w, http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	p := r.PostForm
	f.mu.Lock()
	c, ok := f.codes[p.Get("code")]
	delete(f.codes, p.Get("code"))
	f.mu.Unlock()
	switch {
	case p.Get("grant_type") != "authorization_code":
		azureOAuth2Error(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
		return
	case !ok:
		azureOAuth2Error(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.")
		return
	case p.Get("client_id") != c.clientID || p.Get("redirect_uri") != c.redirect:
		azureOAuth2Error(w, http.StatusBadRequest, "invalid_grant", "AADSTS50011: The redirect URI does not match the one the code was issued for.")
		return
	}
	aud := ""
	for _, s := range strings.Fields(c.scope) {
		if i := strings.LastIndexByte(s, '/'); strings.Contains(s, "://") && i > len("api://") {
			aud = s[:i]
		}
	}
	now := time.Now()
	access := f.oidc.Token(aud, "sub-"+f.User, now.Add(lifetime), map[string]any{"upn": f.User, "iat": now.Unix(), "tid": f.Tenant})
	f.mu.Lock()
	f.issued = append(f.issued, access)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "scope": c.scope, "expires_in": int(lifetime.Seconds()),
		"ext_expires_in": int(lifetime.Seconds()), "access_token": access,
		"id_token": f.oidc.Token(f.ClientID, "sub-"+f.User, now.Add(lifetime), map[string]any{"upn": f.User})})
}

// azureOAuth2Error answers RFC 6749 section 5.2's error as the platform does.
func azureOAuth2Error(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "error_codes": []int{}, "timestamp": time.Now().UTC().Format(time.DateTime) + "Z"})
}

// JWKS is o's public key as a JWK Set (RFC 7517 section 5; RSA members n
// and e of RFC 7518 section 6.3.1), under the kid its tokens name.
func (o *FakeOIDC) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "fake",
		"n": base64.RawURLEncoding.EncodeToString(o.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(o.key.E)).Bytes()),
	}}})
	return b
}

// randomToken is 24 random bytes, base64url.
func randomToken() string {
	s, _ := randomHex(24)
	return s
}
