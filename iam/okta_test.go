//go:build linux

package iam

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// idpSecret holds a space, both quotes and #;&?%={}, as the DSN
// tests' passwords do.
const idpSecret = `pw q5e1z 'w9a2c" #;&?%={} x7b3d`

// idpTestClient returns the client a SAML login gives its provider for s,
// trusting the fake's certificate, with idpTimeout set to timeout.
func idpTestClient(t *testing.T, certPEM []byte, s dsnparse.SAML, timeout time.Duration) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	oldCAs, oldTimeout := idpRootCAs, idpTimeout
	idpRootCAs, idpTimeout = pool, timeout
	t.Cleanup(func() { idpRootCAs, idpTimeout = oldCAs, oldTimeout })
	return newIdPClient(nil, s.SSLInsecure)
}

// oktaSetup starts an Okta org with user alice (password idpSecret)
// and the app amazon_aws/0oa1fake, and returns the DSN's settings for it.
func oktaSetup(t *testing.T) (*harness.FakeOkta, dsnparse.SAML) {
	f := harness.StartFakeOkta(t)
	f.AddUser("alice@example.com", idpSecret)
	f.AddApp("amazon_aws", "0oa1fake")
	return f, dsnparse.SAML{Plugin: pluginOkta, IdPHost: f.Host, IdPPort: f.Port, User: "alice@example.com", Password: idpSecret, AppID: "0oa1fake"}
}

// noIdPSecret fails the test if err's text shows any secret or a piece of
// idpSecret.
func noIdPSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, idpSecret, "q5e1z", "w9a2c", "x7b3d", "#;&?%={}") {
		assert.NotContains(t, err.Error(), s, "the error shows a secret")
	}
}

// TestOktaSAML: the two steps give the app's SAML response as Okta
// served it, its &#x2b;, &#x3d; and &#x2f; decoded; the app name
// defaults to amazon_aws, and another is asked for by its name.
func TestOktaSAML(t *testing.T) {
	f, s := oktaSetup(t)
	want := base64.StdEncoding.EncodeToString([]byte("<r>\xfb\xff\xbf\xfb\xef</r>!")) // PHI++/+/++88L3I+IQ==
	for _, c := range []string{"+", "/", "="} {
		require.Contains(t, want, c)
	}
	f.SetSAMLResponse(func(user string) string {
		assert.Equal(t, "alice@example.com", user)
		return want
	})
	got, err := oktaSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, 1, f.Calls("authn"))
	assert.Equal(t, 1, f.Calls("app"))

	f.AddApp("my app", "0oa2fake")
	s.AppName, s.AppID = "my app", "0oa2fake"
	got, err = oktaSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// TestOktaRefusals: each refusal names the step and what to check,
// without the password.
func TestOktaRefusals(t *testing.T) {
	f, good := oktaSetup(t)
	f.AddUser("bob", "bob's password")
	f.RequireMFA("bob")
	for _, c := range []struct {
		name string
		edit func(*dsnparse.SAML)
		want []string
	}{
		{"wrong password", func(s *dsnparse.SAML) { s.Password = idpSecret + "x" },
			[]string{"Okta refused the password for user alice@example.com", "/api/v1/authn", "E0000004 Authentication failed"}},
		{"unknown user", func(s *dsnparse.SAML) { s.User = "mallory" },
			[]string{"Okta refused the password for user mallory", "E0000004"}},
		{"MFA", func(s *dsnparse.SAML) { s.User, s.Password = "bob", "bob's password" },
			[]string{"Okta sign-in for user bob", "multi-factor authentication (status MFA_REQUIRED)", "does not support"}},
		{"no app", func(s *dsnparse.SAML) { s.AppID = "0oa9none" },
			[]string{"Okta app (GET https://127.0.0.1:", "/home/amazon_aws/0oa9none)", "no such app", "check app_id and app_name"}},
		{"no app_id", func(s *dsnparse.SAML) { s.AppID = "" }, []string{"app_id is required"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := good
			c.edit(&s)
			_, err := oktaSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			noIdPSecret(t, err, "bob's password")
		})
	}
}

// TestOktaHostile: HTML where JSON is expected, a 100 MB body, a redirect
// to another host and no answer each fail with a clear error, the body
// read no further than maxAnswer, the redirect not followed, the
// silence ended by idpTimeout.
func TestOktaHostile(t *testing.T) {
	f, s := oktaSetup(t)
	for _, c := range []struct {
		fault harness.IdPFault
		want  string
	}{
		{harness.FaultHTML, "answered HTTP 200 with text/html, not JSON"},
		{harness.FaultHuge, "the answer is larger than 1048576 bytes"},
		{harness.FaultRedirect, "to another host, localhost:"},
		{harness.FaultSilent, "Client.Timeout exceeded"},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			f.SetFault(c.fault)
			defer f.SetFault(harness.FaultNone)
			timeout := 5 * time.Second
			if c.fault == harness.FaultSilent {
				timeout = 200 * time.Millisecond
			}
			_, err := oktaSAML(context.Background(), idpTestClient(t, f.CertPEM, s, timeout), s, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Okta sign-in for user alice@example.com (POST https://127.0.0.1:")
			assert.Contains(t, err.Error(), c.want)
			noIdPSecret(t, err)
			assert.Zero(t, f.Calls("redirected"), "the client followed the redirect")
			if c.fault == harness.FaultHuge {
				n := harness.Await(t, f.HugeSent(), 10*time.Second, "the end of the huge answer")
				assert.Less(t, n, int64(harness.HugeBody), "the client read the whole huge answer")
				t.Logf("the fake sent %d of %d bytes before the client hung up", n, harness.HugeBody)
			}
		})
	}
}

// TestOktaHostileApp: the app's page, hostile in the same ways, fails
// naming the app step, and the one-time token never shows.
func TestOktaHostileApp(t *testing.T) {
	f, s := oktaSetup(t)
	for _, c := range []struct {
		fault harness.IdPFault
		want  string
	}{
		{harness.FaultHTML, "the page has no SAMLResponse"},
		{harness.FaultHuge, "the answer is larger than 1048576 bytes"},
		{harness.FaultRedirect, "to another host, localhost:"},
		{harness.FaultSilent, "Client.Timeout exceeded"},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			timeout := 5 * time.Second
			if c.fault == harness.FaultSilent {
				timeout = 200 * time.Millisecond
			}
			hc := idpTestClient(t, f.CertPEM, s, timeout)
			token, err := oktaAuthn(context.Background(), hc, idpBase(s), s)
			require.NoError(t, err)
			f.SetFault(c.fault)
			defer f.SetFault(harness.FaultNone)
			_, err = oktaApp(context.Background(), hc, idpBase(s), s, token)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Okta app (GET https://127.0.0.1:")
			assert.Contains(t, err.Error(), c.want)
			noIdPSecret(t, err, token)
			assert.Zero(t, f.Calls("redirected"), "the client followed the redirect")
		})
	}
}

// TestOktaTokenOnce: a session token used once is refused the second
// time; Okta sends the client to its sign-in page, which has no SAML
// response.
func TestOktaTokenOnce(t *testing.T) {
	f, s := oktaSetup(t)
	hc := idpTestClient(t, f.CertPEM, s, 5*time.Second)
	token, err := oktaAuthn(context.Background(), hc, idpBase(s), s)
	require.NoError(t, err)
	_, err = oktaApp(context.Background(), hc, idpBase(s), s, token)
	require.NoError(t, err)
	_, err = oktaApp(context.Background(), hc, idpBase(s), s, token)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the page has no SAMLResponse (Okta's sign-in page")
	noIdPSecret(t, err, token)
}

// TestOktaSameHostRedirect: the app's embed link answers with an absolute
// redirect to its SSO URL on the org's host as Okta writes it (lower case
// here, the DSN's idp_host in upper case), which is followed; a redirect
// to another host is still refused (TestOktaHostileApp).
func TestOktaSameHostRedirect(t *testing.T) {
	f, s := oktaSetup(t)
	s.IdPHost = "LOCALHOST"
	got, err := oktaSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
	require.NoError(t, err)
	assert.Equal(t, harness.FixedResponse("alice@example.com"), got)
	assert.Equal(t, 1, f.Calls("app"))
}

// TestSameOrigin: the redirect policy's origin: scheme, host name in any
// case, port with the scheme's default filled in, as idpBase writes
// ":443" and Okta's Location leaves it out.
func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"https://corp.okta.com:443/home/x", "https://corp.okta.com/app/x/sso/saml", true},
		{"https://corp.okta.com/home/x", "https://CORP.okta.com:443/app", true},
		{"https://corp.okta.com:8443/", "https://corp.okta.com:8443/app", true},
		{"https://corp.okta.com:443/", "https://corp.okta.com:8443/app", false},
		{"https://corp.okta.com:443/", "https://evil.example:443/app", false},
		{"https://corp.okta.com:443/", "http://corp.okta.com:443/app", false},
		{"http://corp.okta.com/", "http://corp.okta.com:80/", true},
	} {
		a, err := url.Parse(c.a)
		require.NoError(t, err)
		b, err := url.Parse(c.b)
		require.NoError(t, err)
		assert.Equal(t, c.same, sameOrigin(a, b), "%s ~ %s", c.a, c.b)
	}
}
