//go:build linux

package harness

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFakeOktaWire: the fake answers Okta's Authentication API and the
// app's page in Okta's formats: a session token once, E0000004 for a
// wrong password, MFA_REQUIRED with a stateToken, the app's absolute
// redirect to its SSO URL, the SAML form with Okta's character references, 404 for another app, the sign-in page for
// a token used twice.
func TestFakeOktaWire(t *testing.T) {
	f := StartFakeOkta(t)
	f.AddUser("ann", "pw")
	f.AddUser("bob", "pw")
	f.RequireMFA("bob")
	f.AddApp("amazon_aws", "0oa1")
	f.SetSAMLResponse(func(string) string { return "PHI+/w==" })
	c := f.Client()
	c.Jar, _ = cookiejar.New(nil) // the session cookie the app's redirect sets
	authn := func(user, pw string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
		resp, err := c.Post(f.URL+"/api/v1/authn", "application/json", strings.NewReader(string(body)))
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	status, m := authn("ann", "wrong")
	assert.Equal(t, 401, status)
	assert.Equal(t, "E0000004 Authentication failed", m["errorCode"].(string)+" "+m["errorSummary"].(string))
	status, m = authn("bob", "pw")
	assert.Equal(t, 200, status)
	assert.Equal(t, "MFA_REQUIRED", m["status"])
	assert.NotEmpty(t, m["stateToken"])
	assert.Nil(t, m["sessionToken"])
	status, m = authn("ann", "pw")
	require.Equal(t, 200, status)
	assert.Equal(t, "SUCCESS", m["status"])
	tok := m["sessionToken"].(string)

	get := func(path string) (int, string) {
		resp, err := c.Get(f.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, page := get("/home/amazon_aws/0oa2?onetimetoken=" + url.QueryEscape(tok))
	assert.Equal(t, 404, status, "another app")
	var sso *url.URL
	c.CheckRedirect = func(r *http.Request, _ []*http.Request) error { sso = r.URL; return nil }
	status, page = get("/home/amazon_aws/0oa1?onetimetoken=" + url.QueryEscape(tok))
	c.CheckRedirect = nil
	assert.Equal(t, 200, status)
	require.NotNil(t, sso, "the app's page redirects to its SSO URL")
	assert.Equal(t, f.URL+"/app/amazon_aws/0oa1/sso/saml", sso.String(), "absolute, on the org's host")
	assert.Contains(t, page, `<input name="SAMLResponse" type="hidden" value="PHI&#x2b;&#x2f;w&#x3d;&#x3d;"/>`)
	status, page = get("/home/amazon_aws/0oa1?onetimetoken=" + url.QueryEscape(tok))
	assert.Equal(t, 200, status, "the sign-in page, after a redirect")
	assert.NotContains(t, page, "SAMLResponse", "a session token serves once")
	assert.Equal(t, [2]int{3, 3}, [2]int{f.Calls("authn"), f.Calls("app")})
}

// TestFakeAzureWire: the token endpoint answers Azure AD's JSON: the
// assertion base64url without padding, and errors with their AADSTS codes
// and HTTP statuses.
func TestFakeAzureWire(t *testing.T) {
	f := StartFakeAzure(t)
	f.AddTenant("t1")
	f.AddClient("c1", "s1")
	f.AddUser("ann", "pw")
	f.Assertion = func(user string) string { return "<Assertion>" + user + "??</Assertion>" }
	token := func(tenant string, form url.Values) (int, map[string]any) {
		resp, err := f.Client().PostForm(f.URL+"/"+tenant+"/oauth2/token", form)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	good := url.Values{"grant_type": {"password"}, "requested_token_type": {"urn:ietf:params:oauth:token-type:saml2"},
		"username": {"ann"}, "password": {"pw"}, "client_id": {"c1"}, "client_secret": {"s1"}, "resource": {"c1"}}
	status, m := token("t1", good)
	require.Equal(t, 200, status)
	tok := m["access_token"].(string)
	assert.NotContains(t, tok, "=")
	a, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	assert.Equal(t, "<Assertion>ann??</Assertion>", string(a))
	assert.Equal(t, "urn:ietf:params:oauth:token-type:saml2", m["issued_token_type"])

	with := func(k, v string) url.Values {
		c := url.Values{}
		for key, vs := range good {
			c[key] = vs
		}
		c.Set(k, v)
		return c
	}
	for _, c := range []struct {
		tenant string
		form   url.Values
		status int
		err    string
		code   float64
	}{
		{"t1", with("password", "wrong"), 400, "invalid_grant", 50126},
		{"t1", with("client_secret", "wrong"), 401, "invalid_client", 7000215},
		{"t1", with("client_id", "c2"), 400, "unauthorized_client", 700016},
		{"t2", good, 400, "invalid_request", 90002},
		{"t1", with("grant_type", "client_credentials"), 400, "unsupported_grant_type", 70003},
	} {
		status, m := token(c.tenant, c.form)
		assert.Equal(t, c.status, status, c.err)
		assert.Equal(t, c.err, m["error"])
		assert.Equal(t, []any{c.code}, m["error_codes"])
		assert.Regexp(t, `^AADSTS\d+: .*\r\nTrace ID: [0-9a-f]+\r\nCorrelation ID: [0-9a-f]+\r\nTimestamp: `, m["error_description"])
	}
}

// TestAssertionOf: the Assertion element of a signer's response, whole.
func TestAssertionOf(t *testing.T) {
	s := NewSAMLSigner(t, "http://idp.example/x", "arn:aws:iam::1:saml-provider/x")
	a := AssertionOf(s.Response(SAMLClaims{Roles: []string{"arn:aws:iam::1:role/r"}, RoleSessionName: "ann"}))
	assert.True(t, strings.HasPrefix(a, "<Assertion "), a)
	assert.True(t, strings.HasSuffix(a, "</Assertion>"), a)
	assert.Contains(t, a, "SignatureValue")
	assert.Empty(t, AssertionOf("%%%"))
}

var _ http.Handler = (*FakeOkta)(nil)
