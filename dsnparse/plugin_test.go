package dsnparse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testJWT is an unsigned JWT with these claims: enough for the DbUser
// claim, which dsnparse reads without checking the signature.
func testJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2lnbmF0dXJl"
}

const testRole = "arn:aws:iam::123456789012:role/etl-web"

// webIdentityDSNs builds a JwtIamAuthPlugin DSN in every form around
// token, each written as its form wants it, plus extra keys (ODBC style
// "k=v" pairs, re-spelt per form).
func webIdentityDSNs(token string) map[string]string {
	braced := func(v string) string { return "{" + strings.ReplaceAll(v, "}", "}}") + "}" }
	const host = "c1.abc.us-east-1.redshift.amazonaws.com"
	return map[string]string{
		"odbc": "Driver={Amazon Redshift (x64)};Server=" + host + ";Database=dev;IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" +
			braced(token) + ";role_arn=" + testRole + ";role_session_name=etl-run;duration=1800",
		"kv": "host=" + host + " dbname=dev iam=true plugin_name=JwtIamAuthPlugin web_identity_token=" + quote(token) +
			" role_arn=" + testRole + " role_session_name=etl-run duration=1800",
		"url": "postgres://" + host + "/dev?iam=true&plugin_name=JwtIamAuthPlugin&web_identity_token=" + pctEscape(token) +
			"&role_arn=" + url.QueryEscape(testRole) + "&role_session_name=etl-run&duration=1800",
		"jdbc": "jdbc:redshift:iam://" + host + ":5439/dev?plugin_name=JwtIamAuthPlugin&webIdentityToken=" + pctEscape(token) +
			"&roleArn=" + url.QueryEscape(testRole) + "&roleSessionName=etl-run&duration=1800",
	}
}

// TestWebIdentityForms: every form reads the plugin's keys alike; the
// database user comes from the token's claim, created if need be.
func TestWebIdentityForms(t *testing.T) {
	token := testJWT(map[string]any{"sub": "x", "preferred_username": "ann", "email": "ann@example.com"})
	for form, dsn := range webIdentityDSNs(token) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			require.NotNil(t, d.IAM)
			assert.Equal(t, WebIdentity{Token: token, RoleARN: testRole, RoleSessionName: "etl-run", DurationSeconds: 1800}, d.IAM.WebIdentity)
			assert.Equal(t, "ann", d.IAM.DbUser, "preferred_username before email (ODBC RetrieveDbUserField)")
			assert.True(t, d.IAM.AutoCreate)
			assert.Equal(t, "c1", d.IAM.ClusterID)
			assert.NotContains(t, d.Rest, "JwtIamAuthPlugin")
			assert.NotContains(t, d.Rest, "role")
		})
	}
}

func TestWebIdentityDefaultsAndUser(t *testing.T) {
	token := testJWT(map[string]any{"DbUser": "claimed", "upn": "u"})
	d, err := Parse("Server=c1.abc.us-east-1.redshift.amazonaws.com;IAM=1;plugin_name=jwtiamauthplugin;web_identity_token=" + token + ";role_arn=" + testRole)
	require.NoError(t, err)
	assert.Equal(t, WebIdentity{Token: token, RoleARN: testRole, RoleSessionName: "jwt_redshift_session"}, d.IAM.WebIdentity)
	assert.Equal(t, "claimed", d.IAM.DbUser)

	d, err = Parse("Server=c1.abc.us-east-1.redshift.amazonaws.com;UID=etl;IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + token + ";role_arn=" + testRole)
	require.NoError(t, err)
	assert.Equal(t, "etl", d.IAM.DbUser, "the DSN's user wins over the claim")
	assert.False(t, d.IAM.AutoCreate)

	d, err = Parse("Server=wg.123456789012.us-east-1.redshift-serverless.amazonaws.com;IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=opaque;role_arn=" + testRole)
	require.NoError(t, err)
	assert.Equal(t, "wg", d.IAM.Workgroup)
	assert.Empty(t, d.IAM.DbUser, "Serverless logs in as the role's own user: no claim needed")
}

func TestWebIdentityErrors(t *testing.T) {
	const host = "Server=c1.abc.us-east-1.redshift.amazonaws.com;UID=etl;"
	tok := testJWT(map[string]any{"upn": "u"})
	for _, c := range []struct {
		name, dsn string
		kind      error
		msg       string
	}{
		{"no token", host + "IAM=1;plugin_name=JwtIamAuthPlugin;role_arn=r", ErrMissing, "plugin_name: JwtIamAuthPlugin needs web_identity_token"},
		{"no role", host + "IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok, ErrMissing, "plugin_name: JwtIamAuthPlugin needs role_arn"},
		{"no IAM", host + "plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok + ";role_arn=r", ErrMissing, "plugin_name: JwtIamAuthPlugin logs in through IAM: add IAM=1"},
		{"no plugin", host + "IAM=1;web_identity_token=" + tok + ";role_arn=r", ErrMissing, "web_identity_token: goes with plugin_name"},
		{"other plugin", host + "IAM=1;plugin_name=Okta;web_identity_token=" + tok, ErrNotSupported, "web_identity_token: not a key of plugin OktaCredentialsProvider"},
		{"static keys", host + "IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok + ";role_arn=r;AccessKeyID=A;SecretAccessKey=S", ErrConflict, "AccessKeyID: conflicts with plugin_name"},
		{"profile", host + "IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok + ";role_arn=r;Profile=p", ErrConflict, "Profile: conflicts with plugin_name"},
		{"duration", host + "IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok + ";role_arn=r;duration=60", ErrRange, "duration: want whole seconds 900..43200"},
		{"twice", host + "IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + tok + ";webIdentityToken=x;role_arn=r", ErrConflict, "webIdentityToken: conflicts with web_identity_token"},
		{"not a JWT", "Server=c1.abc.us-east-1.redshift.amazonaws.com;IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=opaque;role_arn=r", ErrMissing, "web_identity_token: no DbUser in the DSN, and the token is not a JWT"},
		{"no claim", "Server=c1.abc.us-east-1.redshift.amazonaws.com;IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=" + testJWT(map[string]any{"sub": "s"}) + ";role_arn=r", ErrMissing, "no DbUser, upn, preferred_username or email claim"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.dsn)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.kind), err.Error())
			assert.Contains(t, err.Error(), c.msg)
			assert.NotContains(t, err.Error(), tok)
		})
	}
}

// TestWebIdentitySecretsNeverShow: a hostile token is read exactly in
// every form, and never shows in the DSN printed, in JSON, in Redact's
// output, or in a ParseError about the same DSN.
func TestWebIdentitySecretsNeverShow(t *testing.T) {
	token := hostileSecret + "J4T"
	for form, dsn := range webIdentityDSNs(token) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn + pick(form, ";DbUser=etl", " DbUser=etl", "&DbUser=etl"))
			require.NoError(t, err)
			assert.Equal(t, token, d.IAM.WebIdentity.Token)
			js, err := json.Marshal(d)
			require.NoError(t, err)
			outs := []string{string(js), Redact(dsn)}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				outs = append(outs, fmt.Sprintf(verb, d), fmt.Sprintf(verb, d.IAM), fmt.Sprintf(verb, *d.IAM))
			}
			_, perr := Parse(dsn + pick(form, ";KeepAlivesIdle=x", " keepalives_idle=x", "&keepalives_idle=x"))
			require.Error(t, perr)
			_, perr2 := Parse(dsn) // no user: the token is not a JWT
			require.Error(t, perr2)
			outs = append(outs, perr.Error(), perr2.Error())
			for _, out := range outs {
				for _, p := range secretPieces(hostileSecret) {
					assert.NotContains(t, out, p)
				}
			}
		})
	}
}

// pick returns odbc, kv or the URL forms' spelling of an extra key.
func pick(form, odbc, kv, u string) string {
	switch form {
	case "odbc":
		return odbc
	case "kv":
		return kv
	}
	return u
}

func TestWebIdentityDataSource(t *testing.T) {
	token := testJWT(map[string]any{"email": "e@example.com"})
	iniFiles(t, "[rs]\nServer = c1.abc.us-east-1.redshift.amazonaws.com\nDatabase = dev\nIAM = 1\nplugin_name = JwtIamAuthPlugin\n"+
		"web_identity_token = "+token+"\nrole_arn = "+testRole+"\n", "", "")
	d, err := Parse("DSN=rs;role_session_name=from-string")
	require.NoError(t, err)
	assert.Equal(t, WebIdentity{Token: token, RoleARN: testRole, RoleSessionName: "from-string"}, d.IAM.WebIdentity)
	assert.Equal(t, "e@example.com", d.IAM.DbUser)
	d, err = Parse("DSN=rs;webIdentityToken=other." + token[strings.Index(token, ".")+1:])
	require.NoError(t, err, "the connection string's key overrides the data source's under another spelling")
	assert.True(t, strings.HasPrefix(d.IAM.WebIdentity.Token, "other."))
}
