//go:build linux

package iam

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestSTSEndpointURL: with AWS_ENDPOINT_URL_STS at a closed port, the
// DSN's StsEndpointUrl takes each STS call to the fake: the SAML plugins'
// AssumeRoleWithSAML, JwtIamAuthPlugin's AssumeRoleWithWebIdentity, and
// the SDK chain's (AWS_WEB_IDENTITY_TOKEN_FILE), whose STS client the SDK
// hands to WithWebIdentityRoleCredentialOptions (relied on here). Without
// it, each call goes to the closed port and fails, naming STS.
func TestSTSEndpointURL(t *testing.T) {
	fake := samlEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	t.Setenv("AWS_ENDPOINT_URL_STS", closed)
	t.Setenv("AWS_ENDPOINT_URL", closed)

	s := newTestSigner(t)
	fake.AllowSAML(s)
	claims := harness.SAMLClaims{Roles: []string{samlRoleETL}, RoleSessionName: "ann", DbUser: "ann_db"}
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/fake")
	const role = "arn:aws:iam::123456789012:role/etl-web"
	fake.AllowWebIdentity(role, oidc, "sts.amazonaws.com")
	token := oidc.Token("sts.amazonaws.com", "sub-web", fake.Now().Add(time.Hour), nil)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))

	for _, tc := range []struct {
		name, action string
		d            dsnparse.IAM
		env          map[string]string
	}{
		{"saml", "AssumeRoleWithSAML", dsnparse.IAM{SAML: dsnparse.SAML{Plugin: pluginBasicSAML, Assertion: s.Response(claims)}}, nil},
		{"web identity", "AssumeRoleWithWebIdentity", dsnparse.IAM{DbUser: "web",
			WebIdentity: dsnparse.WebIdentity{Token: token, RoleARN: role, RoleSessionName: "web-run"}}, nil},
		{"SDK chain", "AssumeRoleWithWebIdentity", dsnparse.IAM{DbUser: "chain"},
			map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": role, "AWS_ACCESS_KEY_ID": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			d := tc.d
			d.ClusterID, d.Region, d.DisableCache = "etl-prod", "us-east-1", true
			d.EndpointURL = fake.URL // the Redshift API's, which AWS_ENDPOINT_URL does not give here
			_, err := loginOf(t, &d).Credentials(context.Background())
			require.Error(t, err, "STS at the closed port")
			assert.ErrorContains(t, err, "connection refused")
			if tc.env == nil {
				assert.ErrorContains(t, err, "STS "+tc.action)
			}

			d.STSEndpointURL = fake.URL
			from := len(fake.Requests())
			l := loginOf(t, &d)
			assert.Equal(t, fake.URL, l.Plan().STSEndpoint)
			_, err = l.Credentials(context.Background())
			require.NoError(t, err)
			reqs := fake.Requests()[from:]
			require.Len(t, reqs, 2)
			assert.Equal(t, tc.action, reqs[0].Get("Action"))
			assert.Equal(t, "GetClusterCredentials", reqs[1].Get("Action"))
		})
	}
}

// TestSTSEndpointPlan: the plan (check, the logs) shows StsEndpointUrl
// with its user info masked.
func TestSTSEndpointPlan(t *testing.T) {
	l := loginOf(t, &dsnparse.IAM{ClusterID: "c", DbUser: "u", Region: "us-east-1", STSEndpointURL: "https://ann:Se%20Cr@sts.example:8443"})
	assert.Equal(t, "https://xxxxx@sts.example:8443", l.Plan().STSEndpoint)
}
