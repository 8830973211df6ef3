//go:build linux

package iam

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// idpPlugin is an Okta or Azure AD login of the tests, its fake's
// certificate and its round trips.
type idpPlugin struct {
	name  string
	s     dsnparse.SAML
	cert  []byte
	trips func() int
}

// signedIdPs starts a fake Okta and a fake Azure AD whose assertions s
// signs with claims, for user alice with password idpSecret, and points
// the Azure authority at its fake.
func signedIdPs(t *testing.T, s *harness.SAMLSigner, claims harness.SAMLClaims) []idpPlugin {
	okta, os := oktaSetup(t)
	okta.SetSAMLResponse(func(string) string { return s.Response(claims) })
	azure, as := azureSetup(t)
	azure.Assertion = func(string) string { return harness.AssertionOf(s.Response(claims)) }
	return []idpPlugin{
		{"okta", os, okta.CertPEM, func() int { return okta.Calls("") }},
		{"azure", as, azure.CertPEM, func() int { return azure.Calls("") }},
	}
}

// trustCert makes the IdP client trust certPEM.
func trustCert(t *testing.T, certPEM []byte) {
	idpTestClient(t, certPEM, dsnparse.SAML{}, idpTimeout)
}

// TestOktaAzureLogIn: each plugin's assertion, signed by the IdP, gets
// STS's credentials for its role, and GetClusterCredentials, signed with
// them, the assertion's database user and groups.
func TestOktaAzureLogIn(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	claims := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann", DbUser: "ann_db", DbGroups: []string{"Sales"}, AutoCreate: "true"}
	for _, p := range signedIdPs(t, s, claims) {
		t.Run(p.name, func(t *testing.T) {
			trustCert(t, p.cert)
			from := len(fake.Requests())
			l := loginOf(t, samlDSN(p.s))
			assert.Equal(t, p.s.Plugin, l.Plan().Plugin)
			cr, err := l.Credentials(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "IAM:ann_db", cr.User)
			reqs := fake.Requests()[from:]
			require.Len(t, reqs, 2)
			assert.Equal(t, "AssumeRoleWithSAML", reqs[0].Get("Action"))
			assert.Equal(t, samlRoleETL+" "+samlPrincipal, reqs[0].Get("RoleArn")+" "+reqs[0].Get("PrincipalArn"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
			assert.True(t, strings.HasPrefix(reqs[1].Get(harness.FakeKeyParam), "ASIAFAKE"), "signed with STS's keys")
			assert.Equal(t, "ann_db Sales true", reqs[1].Get("DbUser")+" "+reqs[1].Get("DbGroups.DbGroup.1")+" "+reqs[1].Get("AutoCreate"))
		})
	}
}

// TestOktaAzureConcurrent: 20 logins of one request at once make one IdP
// round trip and one STS call between them.
func TestOktaAzureConcurrent(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	s.Now = fake.Now
	fake.AllowSAML(s)
	claims := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"}
	for _, p := range signedIdPs(t, s, claims) {
		t.Run(p.name, func(t *testing.T) {
			trustCert(t, p.cert)
			sts := fake.Calls("AssumeRoleWithSAML")
			d := samlDSN(p.s)
			release := fake.Hold()
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					_, err := loginOf(t, d).Credentials(context.Background())
					errs <- err
				})
			}
			for deadline := time.Now().Add(30 * time.Second); fake.Calls("AssumeRoleWithSAML") == sts; time.Sleep(5 * time.Millisecond) {
				require.True(t, time.Now().Before(deadline), "the logins' STS call reaches the fake")
			}
			release()
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.Equal(t, 1, fake.Calls("AssumeRoleWithSAML")-sts, "STS calls")
			if p.name == "okta" {
				assert.Equal(t, 2, p.trips(), "Okta requests: one sign-in, one app page")
			} else {
				assert.Equal(t, 1, p.trips(), "Azure AD token requests")
			}
		})
	}
}

// TestOktaAzureRefusedNoSecret: a wrong password fails the login naming
// the plugin and the IdP's step, without the password, the client
// secret, or the assertion; nothing reaches AWS.
func TestOktaAzureRefusedNoSecret(t *testing.T) {
	fake := samlEnv(t)
	s := newTestSigner(t)
	fake.AllowSAML(s)
	for _, p := range signedIdPs(t, s, harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann"}) {
		t.Run(p.name, func(t *testing.T) {
			trustCert(t, p.cert)
			p.s.Password = idpSecret + " wrong"
			d := samlDSN(p.s)
			d.DisableCache = true
			_, err := loginOf(t, d).Credentials(context.Background())
			require.Error(t, err)
			want := map[string]string{
				"okta":  "redshift-ka: Okta authn for cluster etl-prod: Okta refused the password for user alice@example.com",
				"azure": "redshift-ka: Azure AD token endpoint for cluster etl-prod: Azure AD refused the password for user alice@contoso.com",
			}[p.name]
			assert.Contains(t, err.Error(), want)
			noIdPSecret(t, err, azureClientSecret, "k4c2e", "m8d1a", "n6f0b", "wrong")
		})
	}
	assert.Equal(t, 0, fake.Calls(""), "nothing reached AWS")
}
