//go:build linux

package iam

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// hostileCode is an authorization code that only a form encoded as it
// should be carries whole: a space, both quotes and #;&?%={}.
const hostileCode = `0.A c9v4k 'p2s8j" #;&?%={} r5t1m`

// browserAzureSetup starts Azure AD's v1 endpoints with tenant
// contoso.onmicrosoft.com, the public client 11111111-fake and alice
// signed in at the browser, whose codes are hostile; it returns the DSN's
// settings for them.
func browserAzureSetup(t *testing.T) (*harness.FakeAzure, dsnparse.SAML) {
	f := harness.StartFakeAzure(t)
	f.AddTenant("contoso.onmicrosoft.com")
	f.AddClient("11111111-fake", "")
	f.SetBrowserUser("alice@contoso.com")
	n := 0
	f.SetCodes(func() string { n++; return hostileCode + strconv.Itoa(n) })
	return f, dsnparse.SAML{Plugin: pluginBrowserAzure, Tenant: "contoso.onmicrosoft.com", ClientID: "11111111-fake",
		ResponseTimeout: time.Minute}
}

// TestBrowserAzureSAML: the browser opens the v1 authorize URL with
// Amazon's drivers' parameters, the listener (a free port with
// listen_port 0) gets the code, the token endpoint redeems it for the
// assertion, which comes back in the drivers' SAML response, byte for
// byte. The URL is logged, the code is not; the port is free afterwards.
func TestBrowserAzureSAML(t *testing.T) {
	f, s := browserAzureSetup(t)
	b := &harness.Browser{}
	useBrowser(t, b, f.URL)
	var logged bytes.Buffer
	got, err := browserAzureSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s,
		slog.New(slog.NewTextHandler(&logged, nil)))
	require.NoError(t, err)
	xml, err := base64.StdEncoding.DecodeString(got)
	require.NoError(t, err)
	assert.Equal(t, `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`+
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`+
		harness.FixedAssertion("alice@contoso.com")+`</samlp:Response>`, string(xml))
	assert.Equal(t, 1, f.Calls("authorize"))
	assert.Equal(t, 1, f.Calls("token"))

	m := regexp.MustCompile(`url="([^"]+)"`).FindStringSubmatch(logged.String())
	require.NotNil(t, m, "the URL is logged: %s", logged.String())
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	assert.Equal(t, f.URL+"/contoso.onmicrosoft.com/oauth2/authorize", u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	state, redirect := q.Get("state"), q.Get("redirect_uri")
	q.Del("state")
	q.Del("redirect_uri")
	assert.Equal(t, url.Values{"scope": {"openid"}, "response_type": {"code"}, "response_mode": {"form_post"},
		"client_id": {"11111111-fake"}}, q)
	assert.Len(t, state, 43, "32 random bytes, base64url")
	r, err := url.Parse(redirect)
	require.NoError(t, err)
	assert.Equal(t, "http localhost /redshift/", r.Scheme+" "+r.Hostname()+" "+r.Path)
	port, _ := strconv.Atoi(r.Port())
	assert.NotZero(t, port, "listen_port 0: a free port")
	_, status, errs := b.Wait()
	assert.Empty(t, errs)
	assert.Equal(t, []int{200}, status, "the listener's page")
	portFree(t, port)
	for _, c := range f.Codes() {
		assert.NotContains(t, logged.String(), c, "the code is logged")
	}
}

// TestBrowserAzureSAMLRefused: a forged state, a code Azure AD does not
// know, a listen_port in use, no answer within idp_response_timeout, HTML,
// 100 MB (read no further than the limit), a redirect or no answer from
// the token endpoint, a missing key: an error
// that says which, bounded in time, the port free afterwards, no code in
// the error.
func TestBrowserAzureSAMLRefused(t *testing.T) {
	f, good := browserAzureSetup(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name    string
		edit    func(*dsnparse.SAML)
		browser *harness.Browser
		fault   harness.IdPFault
		want    []string
	}{
		{name: "wrong state", browser: &harness.Browser{Tamper: func(v url.Values) { v.Set("state", "Xstate9") }},
			want: []string{"BrowserAzureCredentialsProvider (Azure AD tenant contoso.onmicrosoft.com, client_id 11111111-fake): listener on 127.0.0.1:", "state is not the one sent"}},
		{name: "unknown code", browser: &harness.Browser{Tamper: func(v url.Values) { v.Set("code", hostileCode+"-other") }},
			want: []string{"BrowserAzureCredentialsProvider: Azure AD token endpoint (POST https://127.0.0.1:", "/contoso.onmicrosoft.com/oauth2/token): Azure AD refused the authorization code (HTTP 400): invalid_grant: AADSTS70008"}},
		{name: "port in use", edit: func(s *dsnparse.SAML) { s.ListenPort = busyPort }, browser: &harness.Browser{Skip: true},
			want: []string{"BrowserAzureCredentialsProvider (Azure AD tenant", "listen_port " + strconv.Itoa(busyPort) + " is in use"}},
		{name: "no answer", edit: func(s *dsnparse.SAML) { s.ResponseTimeout = time.Second }, browser: &harness.Browser{Skip: true},
			want: []string{"BrowserAzureCredentialsProvider (Azure AD tenant", "no answer from the browser within idp_response_timeout (1s)"}},
		{name: "html", fault: harness.FaultHTML, want: []string{"BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "answered HTTP 200 with text/html, not JSON"}},
		{name: "huge", fault: harness.FaultHuge, want: []string{"BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "the answer is larger than 1048576 bytes"}},
		{name: "redirect", fault: harness.FaultRedirect, want: []string{"BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "to another host, localhost:"}},
		{name: "silent", fault: harness.FaultSilent, want: []string{"BrowserAzureCredentialsProvider: Azure AD token endpoint (POST", "Client.Timeout exceeded"}},
		{name: "no tenant", edit: func(s *dsnparse.SAML) { s.Tenant = "" }, browser: &harness.Browser{Skip: true}, want: []string{"idp_tenant is required"}},
		{name: "no client", edit: func(s *dsnparse.SAML) { s.ClientID = "" }, browser: &harness.Browser{Skip: true}, want: []string{"client_id is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			s.ListenPort = freePort(t)
			if tc.edit != nil {
				tc.edit(&s)
			}
			b := tc.browser
			if b == nil {
				b = &harness.Browser{}
			}
			useBrowser(t, b, f.URL)
			f.SetFault(tc.fault)
			defer f.SetFault(harness.FaultNone)
			start := time.Now()
			clientTimeout := 5 * time.Second // idpTimeout
			if tc.fault == harness.FaultSilent {
				clientTimeout = 200 * time.Millisecond
			}
			_, err := browserAzureSAML(context.Background(), idpTestClient(t, f.CertPEM, s, clientTimeout), s, nil)
			took := time.Since(start)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Logf("after %v: %v", took.Round(time.Millisecond), err)
			assert.Less(t, took, s.ResponseTimeout+5*time.Second, "bounded by idp_response_timeout and the IdP client's timeout")
			b.Wait()
			if s.ListenPort != busyPort {
				portFree(t, s.ListenPort)
			}
			noIdPSecret(t, err, append(f.Codes(), hostileCode, "c9v4k", "p2s8j", "r5t1m", "Xstate9")...)
			assert.Zero(t, f.Calls("redirected"), "the client followed the redirect")
			if tc.fault == harness.FaultHuge {
				n := harness.Await(t, f.HugeSent(), 10*time.Second, "the end of the huge answer")
				assert.Less(t, n, int64(harness.HugeBody), "the client read the whole huge answer")
				t.Logf("the fake sent %d of %d bytes before the client hung up", n, harness.HugeBody)
			}
		})
	}
}
