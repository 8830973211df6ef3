//go:build linux

package harness

import (
	"net/http"
	"net/url"
	"strings"
)

// The browser sign-in of [FakeAzure], Azure AD's v1 authorization code
// flow (https://learn.microsoft.com/previous-versions/azure/active-directory/azuread-dev/v1-protocols-oauth-code)
// as BrowserAzureCredentialsProvider runs it (JDBC
// BrowserAzureCredentialsProvider.openBrowser and
// createAuthorizationRequest, redshift_connector
// browser_azure_credentials_provider.py, ODBC
// IAMBrowserAzureCredentialsProvider.cpp):
//
//   - GET /{tenant}/oauth2/authorize with client_id, response_type code,
//     redirect_uri, scope openid, state and response_mode form_post: the
//     user [FakeAzure.SetBrowserUser] named is signed in at once (a
//     browser with a session) and the answer is the form_post page that
//     posts code, state and session_state to redirect_uri (as
//     [FakeAzureOAuth2]'s); another response_mode gets a 302 with them
//     in the query. A redirect_uri http://localhost:<any port>/redshift/
//     matches, as the platform matches loopback redirect URIs.
//   - POST /{tenant}/oauth2/token with grant_type authorization_code,
//     code, client_id, redirect_uri, resource (the client id) and
//     requested_token_type urn:ietf:params:oauth:token-type:saml2: the
//     same answer as the password grant's, the user's assertion in
//     access_token; a code is good once, for its client and redirect_uri
//     (else invalid_grant AADSTS70008 or AADSTS50011, 400).
//
// Calls counts "authorize" and "token". A fault (SetFault) is the token
// endpoint's: the authorize endpoint answers the browser, not the client.

// azureSignIn is the fake's browser sign-in state.
type azureSignIn struct {
	user   string                // signed in at the browser
	codes  map[string]azureGrant // codes not yet redeemed
	issued []string              // every code issued
	// code makes a code; nil: Azure's shape.
	code func() string
}

// azureGrant is what a code was issued for.
type azureGrant struct {
	tenant, clientID, redirect, user string
}

// SetBrowserUser signs user in at the browser: the authorize endpoint
// issues codes for user's assertion. Until then it refuses to sign in.
func (f *FakeAzure) SetBrowserUser(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signIn.user = user
}

// SetCodes makes the authorization codes with code (hostile ones, for a
// test that no output shows one); nil: "0.A" and random hex, as Azure's.
func (f *FakeAzure) SetCodes(code func() string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signIn.code = code
}

// Codes returns every authorization code issued.
func (f *FakeAzure) Codes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.signIn.issued...)
}

// serveAuthorize answers the authorize endpoint of tenant.
func (f *FakeAzure) serveAuthorize(w http.ResponseWriter, r *http.Request, tenant string) {
	f.count("authorize")
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	f.mu.Lock()
	knownTenant, user, makeCode := f.tenants[tenant], f.signIn.user, f.signIn.code
	_, knownClient := f.clients[q.Get("client_id")]
	f.mu.Unlock()
	switch {
	case !knownTenant:
		http.Error(w, "AADSTS90002: Tenant '"+tenant+"' not found.", http.StatusBadRequest)
		return
	case !knownClient:
		http.Error(w, "AADSTS700016: Application with identifier '"+q.Get("client_id")+"' was not found in the directory.", http.StatusBadRequest)
		return
	case !loopbackRedshift(redirect):
		http.Error(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'response_type' or 'scope'.", http.StatusBadRequest)
		return
	case user == "":
		http.Error(w, "harness: nobody signed in at the browser (FakeAzure.SetBrowserUser)", http.StatusUnauthorized)
		return
	}
	code := "0.A" + randomToken()
	if makeCode != nil {
		code = makeCode()
	}
	f.mu.Lock()
	f.signIn.codes[code] = azureGrant{tenant, q.Get("client_id"), redirect, user}
	f.signIn.issued = append(f.signIn.issued, code)
	f.mu.Unlock()
	answer := url.Values{"code": {code}, "state": {q.Get("state")}, "session_state": {randomToken()}}
	if q.Get("response_mode") != "form_post" {
		http.Redirect(w, r, redirect+"?"+answer.Encode(), http.StatusFound)
		return
	}
	writeFormPost(w, redirect, answer)
}

// loopbackRedshift tells whether redirect is http://localhost/redshift/
// on some port, the drivers' redirect URI.
func loopbackRedshift(redirect string) bool {
	u, err := url.Parse(redirect)
	return err == nil && u.Scheme == "http" && u.Hostname() == "localhost" && u.Port() != "" && u.Path == "/redshift/" && u.RawQuery == ""
}

// serveCode redeems a code at tenant's token endpoint.
func (f *FakeAzure) serveCode(w http.ResponseWriter, tenant string, p url.Values) {
	f.mu.Lock()
	g, ok := f.signIn.codes[p.Get("code")]
	delete(f.signIn.codes, p.Get("code"))
	f.mu.Unlock()
	switch {
	case !ok || g.tenant != tenant:
		azureError(w, http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case p.Get("client_id") != g.clientID || p.Get("redirect_uri") != g.redirect:
		azureError(w, http.StatusBadRequest, "invalid_grant", 50011, "The redirect URI or client does not match the one the authorization code was requested with.")
	case p.Get("resource") != p.Get("client_id"):
		azureError(w, http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named "+p.Get("resource")+" was not found in the tenant named "+tenant+".")
	case p.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:saml2":
		azureError(w, http.StatusBadRequest, "invalid_request", 50027, "Invalid requested_token_type.")
	default:
		f.serveSAMLToken(w, g.user, p.Get("resource"))
	}
}
