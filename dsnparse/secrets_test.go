package dsnparse

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretInPrintedParts: the parts of a parsed DSN that hold a
// secret (SAML, WebIdentity, ExchangeAWS), printed on their own with
// every verb or encoded to JSON, show it masked, as the IAM and Native
// that hold them do; the host of a URL with user info shows.
func TestNoSecretInPrintedParts(t *testing.T) {
	s := hostileSecret
	parts := map[string]any{}
	for _, sc := range samlCases(s) {
		for form, dsn := range inForms(true, sc.user, sc.password, sc.pairs...) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			parts["SAML "+sc.name+"/"+form] = d.IAM.SAML
		}
	}
	d, err := Parse("Server=" + samlHost + ";IAM=1;DbUser=u;plugin_name=JwtIamAuthPlugin;role_arn=r;web_identity_token=" + odbcBrace(s))
	require.NoError(t, err)
	parts["WebIdentity"] = d.IAM.WebIdentity
	d, err = Parse("Server=" + samlHost + ";plugin_name=IdpTokenAuthPlugin;AccessKeyID=AKIA;SecretAccessKey=" + odbcBrace(s) +
		";SessionToken=" + odbcBrace(s) + ";https_proxy_host=p;https_proxy_port=1;https_proxy_password=" + odbcBrace(s) +
		";EndpointUrl=" + odbcBrace("https://u:"+pctEscape(s)+"@api.example"))
	require.NoError(t, err)
	require.True(t, d.Native.Exchange)
	parts["ExchangeAWS"] = d.Native.AWS
	for name, p := range parts {
		js, err := json.Marshal(p)
		require.NoError(t, err)
		for _, out := range []string{fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprintf("%s", p), string(js)} {
			for _, piece := range secretPieces(s) {
				assert.NotContains(t, out, piece, name)
			}
		}
	}
	assert.Contains(t, fmt.Sprint(d.Native.AWS), "api.example")
}
