//go:build linux

package harness

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFakeAzureBrowserWire: the v1 authorize endpoint answers the
// form_post page with a code and the state, only for a known client, a
// loopback /redshift/ redirect URI and a signed-in user; the code is
// redeemed once, for its redirect URI and with requested_token_type
// saml2, for the user's assertion base64url.
func TestFakeAzureBrowserWire(t *testing.T) {
	f := StartFakeAzure(t)
	f.AddTenant("t1")
	f.AddClient("app", "")
	c := f.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	redirect := "http://localhost:4711/redshift/"
	authorize := func(client, redirect string) (int, string) {
		q := url.Values{"scope": {"openid"}, "response_type": {"code"}, "response_mode": {"form_post"},
			"client_id": {client}, "redirect_uri": {redirect}, "state": {"st 1"}}
		resp, err := c.Get(f.URL + "/t1/oauth2/authorize?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := authorize("app", redirect)
	assert.Equal(t, http.StatusUnauthorized, status, "nobody signed in")
	f.SetBrowserUser("ann")
	status, body = authorize("other", redirect)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "AADSTS700016")
	status, body = authorize("app", "http://evil.example:4711/redshift/")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "AADSTS50011")
	status, body = authorize("app", redirect)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<form method="POST" name="hiddenform" action="`+redirect+`">`)
	assert.Contains(t, body, `<input type="hidden" name="state" value="st 1" />`)
	code := regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(body)[1]
	assert.Equal(t, []string{code}, f.Codes())

	redeem := func(form url.Values) (int, map[string]string) {
		resp, err := c.PostForm(f.URL+"/t1/oauth2/token", form)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		out := map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return resp.StatusCode, out
	}
	form := url.Values{"code": {code}, "requested_token_type": {"urn:ietf:params:oauth:token-type:saml2"},
		"grant_type": {"authorization_code"}, "scope": {"openid"}, "resource": {"app"}, "client_id": {"app"}, "redirect_uri": {redirect}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("redirect_uri", "http://localhost:1/redshift/")
	status, m := redeem(bad)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.True(t, strings.HasPrefix(m["error_description"], "AADSTS50011"), m["error_description"])

	_, code2 := authorize("app", redirect)
	form.Set("code", regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(code2)[1])
	status, m = redeem(form)
	require.Equal(t, http.StatusOK, status, m)
	assert.Equal(t, "urn:ietf:params:oauth:token-type:saml2", m["issued_token_type"])
	xml, err := base64.RawURLEncoding.DecodeString(m["access_token"])
	require.NoError(t, err)
	assert.Equal(t, FixedAssertion("ann"), string(xml))
	status, m = redeem(form)
	assert.Equal(t, http.StatusBadRequest, status, "a code is good once")
	assert.True(t, strings.HasPrefix(m["error_description"], "AADSTS70008"), m["error_description"])
	assert.Equal(t, 5, f.Calls("authorize"))
	assert.Equal(t, 3, f.Calls("token"))
}
