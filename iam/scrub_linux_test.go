package iam

import (
	"errors"
	"net/url"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// TestWrapMasksEscapedSecrets: an STS endpoint (StsEndpointUrl: a proxy,
// a VPC endpoint) or an IdP that quotes the form it was posted, its
// values URL-encoded, in its error or its message, shows the assertion,
// the IdP password, the client secret or the web identity token masked,
// as written and URL-encoded.
func TestWrapMasksEscapedSecrets(t *testing.T) {
	offlineAWS(t)
	const assertion = "PHNhbWw+PC9zYW1sPg==+/x"
	const password = `p a's"s #;&?%={}w`
	const token = `tok #;&?%={} "en"`
	const clientSecret = `cl1ent '"#;&?%={} s3cret`
	saml := loginOf(t, &dsnparse.IAM{ClusterID: "c", Region: "us-east-1",
		SAML: dsnparse.SAML{Plugin: pluginBasicSAML, Assertion: assertion, Password: password, ClientSecret: clientSecret}})
	web := loginOf(t, &dsnparse.IAM{ClusterID: "c", DbUser: "u", Region: "us-east-1",
		WebIdentity: dsnparse.WebIdentity{Token: token, RoleARN: "arn:aws:iam::1:role/r", RoleSessionName: "s"}})
	for _, tc := range []struct {
		l       *login
		secrets []string
	}{
		{saml, []string{assertion, password, clientSecret}},
		{web, []string{token}},
	} {
		for _, s := range tc.secrets {
			for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
				echo := "posted " + form + " here"
				for _, cause := range []error{
					errors.New(echo),
					&smithy.GenericAPIError{Code: "InvalidParameterValue", Message: echo},
				} {
					err := tc.l.wrap(cause)
					require.Error(t, err)
					assert.NotContains(t, err.Error(), form)
					assert.Contains(t, err.Error(), "posted xxxxx here")
				}
			}
		}
	}
}

// TestIdPTextMasksEscapedSecrets: words of Okta or Azure AD that quote
// the password or client secret posted, as written or URL-encoded (Azure
// AD's token request is a form), show them masked.
func TestIdPTextMasksEscapedSecrets(t *testing.T) {
	const password = `p a's"s #;&?%={}w`
	for _, form := range []string{password, url.QueryEscape(password), url.PathEscape(password)} {
		assert.Equal(t, "AADSTS50126: bad password xxxxx.", idpText("AADSTS50126: bad password "+form+".", "", password))
	}
}
