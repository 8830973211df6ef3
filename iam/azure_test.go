//go:build linux

package iam

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/azurehost"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// azureClientSecret is the app's secret in the Azure tests: hostile too.
const azureClientSecret = `cs k4c2e "m8d1a' {}=%?&;# n6f0b`

// azureSetup starts a token endpoint with tenant contoso.onmicrosoft.com,
// app 11111111-fake (secret azureClientSecret) and user alice (password
// idpSecret), points the Azure authority at it, and returns the DSN's
// settings for it.
func azureSetup(t *testing.T) (*harness.FakeAzure, dsnparse.SAML) {
	f := harness.StartFakeAzure(t)
	f.AddTenant("contoso.onmicrosoft.com")
	f.AddClient("11111111-fake", azureClientSecret)
	f.AddUser("alice@contoso.com", idpSecret)
	t.Cleanup(azurehost.Set(f.URL))
	return f, dsnparse.SAML{Plugin: pluginAzure, User: "alice@contoso.com", Password: idpSecret,
		Tenant: "contoso.onmicrosoft.com", ClientID: "11111111-fake", ClientSecret: azureClientSecret}
}

// TestAzureSAML: the assertion Azure AD gives comes back wrapped in the
// drivers' minimal SAML response, byte for byte.
func TestAzureSAML(t *testing.T) {
	f, s := azureSetup(t)
	got, err := azureSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
	require.NoError(t, err)
	xml, err := base64.StdEncoding.DecodeString(got)
	require.NoError(t, err)
	assert.Equal(t, `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`+
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`+
		harness.FixedAssertion("alice@contoso.com")+`</samlp:Response>`, string(xml))
	assert.Equal(t, 1, f.Calls("token"))
}

// TestAzureRefusals: each refusal names what Azure AD refused with its
// AADSTS code, without the password or the client secret.
func TestAzureRefusals(t *testing.T) {
	f, good := azureSetup(t)
	f.AddUser("bob@contoso.com", "bob's password")
	f.RequireMFA("bob@contoso.com")
	for _, c := range []struct {
		name string
		edit func(*dsnparse.SAML)
		want []string
	}{
		{"wrong password", func(s *dsnparse.SAML) { s.Password += "x" },
			[]string{"Azure AD refused the password for user alice@contoso.com (tenant contoso.onmicrosoft.com)", "invalid_grant: AADSTS50126"}},
		{"wrong client secret", func(s *dsnparse.SAML) { s.ClientSecret = "not " + azureClientSecret },
			[]string{"Azure AD refused the client 11111111-fake (client_id or client_secret)", "invalid_client: AADSTS7000215"}},
		{"unknown client", func(s *dsnparse.SAML) { s.ClientID = "22222222-none" },
			[]string{"Azure AD refused the client 22222222-none", "unauthorized_client: AADSTS700016"}},
		{"MFA", func(s *dsnparse.SAML) { s.User, s.Password = "bob@contoso.com", "bob's password" },
			[]string{"Azure AD token request for user bob@contoso.com", "multi-factor authentication", "does not support", "AADSTS50076"}},
		{"unknown tenant", func(s *dsnparse.SAML) { s.Tenant = "fabrikam" },
			[]string{"Azure AD token request for user alice@contoso.com (POST https://127.0.0.1:", "/fabrikam/oauth2/token): answered HTTP 400: invalid_request: AADSTS90002"}},
		{"no tenant", func(s *dsnparse.SAML) { s.Tenant = "" }, []string{"idp_tenant is required"}},
		{"no client secret", func(s *dsnparse.SAML) { s.ClientSecret = "" }, []string{"client_secret is required"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := good
			c.edit(&s)
			_, err := azureSAML(context.Background(), idpTestClient(t, f.CertPEM, s, 5*time.Second), s, nil)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			noIdPSecret(t, err, azureClientSecret, "k4c2e", "m8d1a", "n6f0b", "bob's password")
		})
	}
}

// TestAzureHostile: as TestOktaHostile, for the token endpoint.
func TestAzureHostile(t *testing.T) {
	f, s := azureSetup(t)
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
			_, err := azureSAML(context.Background(), idpTestClient(t, f.CertPEM, s, timeout), s, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Azure AD token request for user alice@contoso.com (POST https://127.0.0.1:")
			assert.Contains(t, err.Error(), c.want)
			noIdPSecret(t, err, azureClientSecret)
			assert.Zero(t, f.Calls("redirected"), "the client followed the redirect")
			if c.fault == harness.FaultHuge {
				n := harness.Await(t, f.HugeSent(), 10*time.Second, "the end of the huge answer")
				assert.Less(t, n, int64(harness.HugeBody), "the client read the whole huge answer")
				t.Logf("the fake sent %d of %d bytes before the client hung up", n, harness.HugeBody)
			}
		})
	}
}

// TestAzureAssertion: the access token decodes with or without padding,
// in either base64 alphabet; one that is not XML (a JWT) is refused.
func TestAzureAssertion(t *testing.T) {
	x := []byte("<saml:Assertion>\xfb\xff</saml:Assertion>?")
	for _, tok := range []string{
		base64.RawURLEncoding.EncodeToString(x), base64.URLEncoding.EncodeToString(x), base64.StdEncoding.EncodeToString(x),
	} {
		got, err := azureAssertion(tok)
		require.NoError(t, err, tok)
		assert.Equal(t, x, got)
	}
	_, err := azureAssertion("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	assert.ErrorContains(t, err, "not base64")
	_, err = azureAssertion(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)))
	assert.ErrorContains(t, err, "not a SAML assertion")
}

// TestAzureAuthority: idp_partition's values, as the drivers take them.
func TestAzureAuthority(t *testing.T) {
	for p, want := range map[string]string{
		"": "https://login.microsoftonline.com", " Commercial ": "https://login.microsoftonline.com",
		"us-gov": "https://login.microsoftonline.us", "CN": "https://login.chinacloudapi.cn",
	} {
		got, err := azurehost.Authority(p)
		require.NoError(t, err)
		assert.Equal(t, want, got, p)
	}
	_, err := azurehost.Authority("mars")
	assert.ErrorContains(t, err, `idp_partition: want commercial, us-gov or cn, got "mars"`)
}

// TestIdPEchoMasked: an identity provider that quotes the password or the
// client secret back (as none should) has them masked in the error.
func TestIdPEchoMasked(t *testing.T) {
	s := dsnparse.SAML{User: "alice", Password: idpSecret, Tenant: "t", ClientID: "c", ClientSecret: azureClientSecret}
	for _, ans := range []azureAnswer{
		{Error: "invalid_grant", ErrorDescription: "AADSTS50126: wrong password " + idpSecret + "\r\nTrace ID: 1", ErrorCodes: []int{50126}},
		{Error: "invalid_client", ErrorDescription: "AADSTS7000215: secret " + azureClientSecret},
		{Error: "server_error", ErrorDescription: idpSecret + azureClientSecret},
	} {
		err := ans.refusal(400, "step", s)
		assert.Contains(t, err.Error(), "xxxxx")
		noIdPSecret(t, err, azureClientSecret, "k4c2e", "m8d1a", "n6f0b")
	}
}
