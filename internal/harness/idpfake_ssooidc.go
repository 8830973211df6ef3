//go:build linux

package harness

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// AWS IAM Identity Center's OIDC service (SSO-OIDC), as the fake answers
// it: the restJson1 protocol of the AWS SDK's ssooidc client (its request
// and response snapshots, request_snapshot/ and response_snapshot/ in
// aws-sdk-go-v2 service/ssooidc; https://docs.aws.amazon.com/singlesignon/latest/OIDCAPIReference/),
// unsigned as the SDK sends these calls:
//
//   - POST /client/register {clientName, clientType, scopes, issuerUrl,
//     redirectUris, grantTypes}: {clientId, clientSecret,
//     clientIdIssuedAt, clientSecretExpiresAt, authorizationEndpoint,
//     tokenEndpoint};
//   - GET /authorize with response_type code, client_id, redirect_uri,
//     scopes, state, code_challenge and code_challenge_method S256: the
//     user is signed in at once and the answer is a 302 to redirect_uri
//     with code and state;
//   - POST /token {clientId, clientSecret, grantType authorization_code,
//     code, codeVerifier, redirectUri}: {accessToken, tokenType Bearer,
//     expiresIn}; errors 400 with {"__type": "InvalidGrantException",
//     "error": "invalid_grant", "error_description": ...} and the
//     x-amzn-ErrorType header.
//
// The access token is a JWT of the [FakeOIDC] given (Identity Center's
// are opaque; the Redshift front end of the tests checks a JWT), for
// audience aud, upn the user.

// FakeSSOOIDC is an IAM Identity Center instance of the tests.
type FakeSSOOIDC struct {
	// URL is the fake's endpoint, for AWS_ENDPOINT_URL_SSO_OIDC.
	URL string
	// IssuerURL is the instance's issuer, which RegisterClient must name;
	// User the user who signs in; Audience the token's aud.
	IssuerURL, User, Audience string

	oidc      *FakeOIDC
	srv       *http.Server
	idpFaults // for CreateToken

	mu         sync.Mutex
	clients    map[string]ssoClient
	codes      map[string]ssoCode
	calls      map[string]int
	pending    int // CreateToken answers AuthorizationPendingException this many times first
	lifetime   time.Duration
	clientLife time.Duration
	issued     []string
}

type ssoClient struct {
	secret    string
	redirects []string
}

type ssoCode struct {
	clientID, redirect, challenge string
}

// StartFakeSSOOIDC starts an Identity Center instance whose tokens oidc
// signs, on loopback, stopped with the test.
func StartFakeSSOOIDC(t T, oidc *FakeOIDC, issuerURL, user, audience string) *FakeSSOOIDC {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	f := &FakeSSOOIDC{URL: "http://" + ln.Addr().String(), IssuerURL: issuerURL, User: user, Audience: audience, oidc: oidc,
		clients: map[string]ssoClient{}, codes: map[string]ssoCode{}, calls: map[string]int{},
		lifetime: time.Hour, clientLife: 90 * 24 * time.Hour}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// SetPending makes the next n CreateToken calls answer
// AuthorizationPendingException.
func (f *FakeSSOOIDC) SetPending(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = n
}

// Calls returns how many times the fake answered "RegisterClient",
// "authorize" or "CreateToken".
func (f *FakeSSOOIDC) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Issued returns the client secrets, codes and access tokens the fake
// issued.
func (f *FakeSSOOIDC) Issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

// ServeHTTP answers one request.
func (f *FakeSSOOIDC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serveRedirected(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/client/register":
		f.serveRegister(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/authorize":
		f.serveAuthorize(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/token":
		f.serveToken(w, r)
	default:
		ssoError(w, http.StatusNotFound, "UnknownOperationException", "", "")
	}
}

func (f *FakeSSOOIDC) serveRegister(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientName, ClientType, IssuerURL string
		Scopes, RedirectURIs, GrantTypes  []string
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in) != nil || in.ClientName == "" || in.ClientType != "public" {
		ssoError(w, http.StatusBadRequest, "InvalidClientMetadataException", "invalid_client_metadata", "Invalid client metadata")
		return
	}
	if in.IssuerURL != f.IssuerURL {
		ssoError(w, http.StatusBadRequest, "InvalidRequestException", "invalid_request", "Invalid issuer URL")
		return
	}
	if !slices.Equal(in.Scopes, []string{"redshift:connect"}) || !slices.Equal(in.GrantTypes, []string{"authorization_code"}) {
		ssoError(w, http.StatusBadRequest, "InvalidScopeException", "invalid_scope", "Invalid scopes or grant types")
		return
	}
	id, secret := "cid-"+randomToken(), "cs-"+randomToken()
	now := time.Now()
	f.mu.Lock()
	f.calls["RegisterClient"]++
	f.clients[id] = ssoClient{secret, in.RedirectURIs}
	f.issued = append(f.issued, secret)
	exp := now.Add(f.clientLife)
	f.mu.Unlock()
	ssoJSON(w, map[string]any{"clientId": id, "clientSecret": secret, "clientIdIssuedAt": now.Unix(), "clientSecretExpiresAt": exp.Unix(),
		"authorizationEndpoint": f.URL + "/authorize", "tokenEndpoint": f.URL + "/token"})
}

func (f *FakeSSOOIDC) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	c, ok := f.clients[q.Get("client_id")]
	f.mu.Unlock()
	redirect := q.Get("redirect_uri")
	switch {
	case !ok:
		http.Error(w, "invalid client", http.StatusBadRequest)
		return
	case !slices.Contains(c.redirects, redirect):
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("scopes") != "redshift:connect" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Redirect(w, r, redirect+"?"+url.Values{"error": {"invalid_request"}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
		return
	}
	code := "code-" + randomToken()
	f.mu.Lock()
	f.calls["authorize"]++
	f.codes[code] = ssoCode{q.Get("client_id"), redirect, q.Get("code_challenge")}
	f.issued = append(f.issued, code)
	f.mu.Unlock()
	http.Redirect(w, r, redirect+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func (f *FakeSSOOIDC) serveToken(w http.ResponseWriter, r *http.Request) {
	if f.serveFault(w, r, f.Fault(), "application/json") {
		return
	}
	var in struct {
		ClientID, ClientSecret, GrantType, Code, CodeVerifier, RedirectURI string
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in) != nil {
		ssoError(w, http.StatusBadRequest, "InvalidRequestException", "invalid_request", "Invalid request")
		return
	}
	f.mu.Lock()
	f.calls["CreateToken"]++
	cl, known := f.clients[in.ClientID]
	if f.pending > 0 && known {
		f.pending--
		f.mu.Unlock()
		ssoError(w, http.StatusBadRequest, "AuthorizationPendingException", "authorization_pending", "Authorization is still pending")
		return
	}
	c, ok := f.codes[in.Code]
	delete(f.codes, in.Code)
	lifetime := f.lifetime
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(in.CodeVerifier))
	switch {
	case !known || cl.secret != in.ClientSecret:
		ssoError(w, http.StatusUnauthorized, "InvalidClientException", "invalid_client", "Invalid client")
		return
	case in.GrantType != "authorization_code":
		ssoError(w, http.StatusBadRequest, "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type")
		return
	case !ok || c.clientID != in.ClientID || c.redirect != in.RedirectURI || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		ssoError(w, http.StatusBadRequest, "InvalidGrantException", "invalid_grant", "Invalid grant provided")
		return
	}
	token := f.oidc.Token(f.Audience, "sub-"+f.User, time.Now().Add(lifetime), map[string]any{"upn": f.User})
	f.mu.Lock()
	f.issued = append(f.issued, token)
	f.mu.Unlock()
	ssoJSON(w, map[string]any{"accessToken": token, "tokenType": "Bearer", "expiresIn": int(lifetime.Seconds())})
}

func ssoJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ssoError answers an SSO-OIDC error as the SDK reads it.
func ssoError(w http.ResponseWriter, status int, typ, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"__type": typ, "error": code, "error_description": desc})
}
