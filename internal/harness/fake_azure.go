//go:build linux

package harness

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FakeAzure is an Azure AD (Entra ID) tenant's v1 token endpoint of the
// tests, over HTTPS on 127.0.0.1: POST /<tenant>/oauth2/token with the
// resource owner password grant asking for a SAML token, as
// AzureCredentialsProvider sends it
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc for
// the grant, the v1 endpoint's JSON). It answers 200 with token_type,
// expires_in, resource, issued_token_type and access_token, the
// assertion base64url without padding; errors as Azure AD writes them
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
// error, error_description "AADSTSnnnnn: ...\r\nTrace ID: ...",
// error_codes, timestamp, trace_id, correlation_id, error_uri:
//
//   - invalid_grant AADSTS50126 (400), a wrong password or unknown user;
//   - invalid_grant AADSTS50076 (400), a user that [FakeAzure.RequireMFA]
//     marked;
//   - invalid_client AADSTS7000215 (401), a wrong client secret;
//   - unauthorized_client AADSTS700016 (400), an unknown client id;
//   - invalid_request AADSTS90002 (400), an unknown tenant;
//   - unsupported_grant_type AADSTS70003 (400), a grant other than password.
//
// With a browser, as BrowserAzureCredentialsProvider signs in, it serves
// the v1 authorize endpoint too and redeems its codes for a SAML token
// (fake_azure_browser.go). The iam package reaches it through
// internal/azurehost.Set(f.URL).
type FakeAzure struct {
	idpServer
	// Assertion makes the SAML assertion (XML) for a user; nil:
	// [FixedAssertion]. Set it before the first login.
	Assertion func(user string) string

	tenants map[string]bool
	clients map[string]string // secret
	users   map[string]string // password
	mfa     map[string]bool
	signIn  azureSignIn // the browser's (fake_azure_browser.go)
}

// StartFakeAzure starts a token endpoint with no tenant, client nor user;
// it stops when the test ends.
func StartFakeAzure(t T) *FakeAzure {
	t.Helper()
	f := &FakeAzure{tenants: map[string]bool{}, clients: map[string]string{}, users: map[string]string{}, mfa: map[string]bool{},
		signIn: azureSignIn{codes: map[string]azureGrant{}}}
	startIdPServer(t, &f.idpServer, f)
	return f
}

// AddTenant adds a tenant (its id or domain name).
func (f *FakeAzure) AddTenant(tenant string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tenants[tenant] = true
}

// AddClient registers an app (client id) with its client secret.
func (f *FakeAzure) AddClient(id, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[id] = secret
}

// AddUser lets user sign in with password.
func (f *FakeAzure) AddUser(user, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[user] = password
}

// RequireMFA makes user's sign-in need a second factor (AADSTS50076).
func (f *FakeAzure) RequireMFA(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mfa[user] = true
}

// ServeHTTP answers the token endpoint.
func (f *FakeAzure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveRedirected(w, r) {
		return
	}
	if tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/authorize"); ok && !strings.Contains(tenant, "/") {
		f.serveAuthorize(w, r, tenant)
		return
	}
	tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/token")
	if !ok || r.Method != http.MethodPost || strings.Contains(tenant, "/") {
		http.NotFound(w, r)
		return
	}
	if fault := f.count("token"); fault != FaultNone {
		f.serveFault(w, r, fault, "application/json; charset=utf-8")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		azureError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	p := r.PostForm
	f.mu.Lock()
	knownTenant := f.tenants[tenant]
	secret, knownClient := f.clients[p.Get("client_id")]
	pw, knownUser := f.users[p.Get("username")]
	mfa := f.mfa[p.Get("username")]
	f.mu.Unlock()
	switch {
	case !knownTenant:
		azureError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	case p.Get("grant_type") == "authorization_code":
		f.serveCode(w, tenant, p)
	case p.Get("grant_type") != "password":
		azureError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case !knownClient:
		azureError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", p.Get("client_id"), tenant))
	case p.Get("client_secret") != secret:
		azureError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", p.Get("client_id")))
	case p.Get("resource") != p.Get("client_id"):
		azureError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", p.Get("resource"), tenant))
	case !knownUser || p.Get("password") != pw:
		azureError(w, http.StatusBadRequest, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
	case mfa:
		azureError(w, http.StatusBadRequest, "invalid_grant", 50076, fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", p.Get("resource")))
	case p.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:saml2":
		azureError(w, http.StatusBadRequest, "invalid_request", 50027, "Invalid requested_token_type.")
	default:
		f.serveSAMLToken(w, p.Get("username"), p.Get("resource"))
	}
}

// serveSAMLToken answers the SAML token of user for resource: the
// assertion base64url without padding in access_token.
func (f *FakeAzure) serveSAMLToken(w http.ResponseWriter, user, resource string) {
	a := FixedAssertion(user)
	if f.Assertion != nil {
		a = f.Assertion(user)
	}
	now := time.Now()
	refresh, _ := randomHex(24)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]string{
		"token_type": "Bearer", "scope": "user_impersonation", "expires_in": "3599", "ext_expires_in": "3599",
		"expires_on": strconv.FormatInt(now.Add(time.Hour).Unix(), 10), "not_before": strconv.FormatInt(now.Unix(), 10),
		"resource": resource, "issued_token_type": "urn:ietf:params:oauth:token-type:saml2",
		"access_token": base64.RawURLEncoding.EncodeToString([]byte(a)), "refresh_token": "0.A" + refresh,
	})
}

// azureError answers with Azure AD's error JSON.
func azureError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	trace, _ := randomHex(16)
	corr, _ := randomHex(16)
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, desc, trace, corr, now),
		"error_codes":       []int{aadsts},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
}

// AssertionOf returns the Assertion element of a base64 SAML response
// (a [SAMLSigner]'s), byte for byte, as Azure AD's access token carries
// it: its signature still holds.
func AssertionOf(response string) string {
	b, err := base64.StdEncoding.DecodeString(response)
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.Index(s, "<Assertion")
	j := strings.LastIndex(s, "</Assertion>")
	if i < 0 || j < i {
		return ""
	}
	return s[i : j+len("</Assertion>")]
}
