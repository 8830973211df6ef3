package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nativeDSNs builds, in every form and with each driver's spelling, a DSN
// of the native login with a JWT (BasicJwtCredentialsProvider, ODBC's
// JWT) and one with an IdC token (IdpTokenAuthPlugin), around token.
func nativeDSNs(token string) map[string]string {
	braced := func(v string) string { return "{" + strings.ReplaceAll(v, "}", "}}") + "}" }
	return map[string]string{
		"url/jwt":   "postgres://h:5439/dev?credentials_provider=BasicJwtCredentialsProvider&web_identity_token=" + pctEscape(token) + "&provider_name=okta_idp",
		"kv/jwt":    "host=h dbname=dev plugin_name=redshift_connector.plugin.BasicJwtCredentialsProvider web_identity_token=" + quote(token) + " provider_name=okta_idp",
		"odbc/jwt":  "Driver={Amazon Redshift (x64)};Server=h;Database=dev;IAM=1;plugin_name=JWT;web_identity_token=" + braced(token) + ";provider_name=okta_idp",
		"jdbc/jwt":  "jdbc:redshift://h:5439/dev?plugin_name=com.amazon.redshift.plugin.BasicJwtCredentialsProvider&webIdentityToken=" + url.QueryEscape(token) + "&providerName=okta_idp",
		"url/idc":   "postgres://h/dev?credentials_provider=IdpTokenAuthPlugin&token=" + pctEscape(token) + "&token_type=EXT_JWT&identity_namespace=ns1",
		"kv/idc":    "host=h dbname=dev plugin_name=IdpTokenAuthPlugin token=" + quote(token) + " token_type=EXT_JWT identity_namespace=ns1",
		"odbc/idc":  "Server=h;Database=dev;plugin_name=IdpTokenAuthPlugin;token=" + braced(token) + ";token_type=EXT_JWT;identity_namespace=ns1",
		"jdbc/idc":  "jdbc:redshift://h/dev;plugin_name=com.amazon.redshift.plugin.IdpTokenAuthPlugin;token=" + pctEscape(token) + ";token_type=EXT_JWT;identity_namespace=ns1",
		"jdbc/jwt2": "jdbc:redshift:iam://h/dev?plugin_name=com.amazon.redshift.plugin.BasicJwtCredentialsProvider&webIdentityToken=" + url.QueryEscape(token) + "&providerName=okta_idp",
	}
}

// TestNative: every form reads the native login's keys, the token
// exactly; they are taken out of the DSN handed on; the startup
// parameters are Amazon's; the token never shows in the parsed DSN
// printed or encoded, in Redact's output, nor in an error about the DSN.
func TestNative(t *testing.T) {
	token := hostileSecret + "JWT"
	for name, dsn := range nativeDSNs(token) {
		t.Run(name, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			require.NotNil(t, d.Native)
			assert.Nil(t, d.IAM, "a native plugin is no IAM login")
			n := d.Native
			assert.Equal(t, token, n.Token)
			assert.True(t, n.NoUser, "the DSN names no user")
			if strings.HasSuffix(name, "idc") {
				assert.Equal(t, map[string]string{"plugin_name": n.Plugin, "idp_type": "AwsIdc", "token_type": "EXT_JWT", "identity_namespace": "ns1"}, n.StartupParams())
			} else {
				assert.Equal(t, map[string]string{"plugin_name": n.Plugin, "idp_type": "AzureAD", "provider_name": "okta_idp"}, n.StartupParams())
			}
			for _, k := range []string{"plugin_name", "credentials_provider", "token", "provider", "identity"} {
				assert.NotContains(t, strings.ToLower(d.Rest), k, "handed on")
			}
			outputs := map[string]string{"Redact": Redact(dsn), "Rest": d.Rest}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				outputs[verb] = fmt.Sprintf(verb, d)
				outputs[verb+" of Native"] = fmt.Sprintf(verb, *n)
				outputs[verb+" of *Native"] = fmt.Sprintf(verb, n)
			}
			for how, v := range map[string]any{"JSON": d, "JSON of Native": n} {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				outputs[how] = string(b)
			}
			sep := map[string]string{"url": "&", "kv": " ", "odbc": ";", "jdbc": "&"}[strings.Split(name, "/")[0]]
			for _, bad := range []string{"KeepAlivesIdle=x", "web_identity_token=other", "token=other", "plugin_name=Okta"} {
				_, err := Parse(dsn + sep + bad)
				require.Error(t, err, bad)
				outputs["error with "+bad] = err.Error()
			}
			for how, out := range outputs {
				for _, piece := range secretPieces(token) {
					assert.NotContains(t, out, piece, how)
				}
			}
			assert.Contains(t, outputs["%+v of Native"], "Token:xxxxx")
			assert.Contains(t, Secrets(dsn), token)
		})
	}
}

// TestNativeRefused: plugins not supported, keys without a plugin or with
// the other plugin's, a missing token; the errors name the key and never
// the token.
func TestNativeRefused(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		kind      error
		msg       string
	}{
		{"shibboleth", "host=h plugin_name=Shibboleth web_identity_token=SeCrEt", ErrNotSupported, "redshift-ka: plugin_name: identity-provider plugin Shibboleth is not supported; supported: "},
		{"a token with a SAML plugin", "host=h iam=1 plugin_name=Okta web_identity_token=SeCrEt", ErrNotSupported, "redshift-ka: web_identity_token: not a key of plugin OktaCredentialsProvider"},
		{"JwtIamAuthPlugin is IAM's, not native", "Server=h;plugin_name=JwtIamAuthPlugin;web_identity_token=SeCrEt;role_arn=r", ErrMissing, "redshift-ka: plugin_name: JwtIamAuthPlugin logs in through IAM: add IAM=1"},
		{"a native key with JwtIamAuthPlugin", "Server=h;IAM=1;ClusterID=c;Region=us-east-1;plugin_name=JwtIamAuthPlugin;web_identity_token=SeCrEt;role_arn=r;provider_name=p", ErrNotSupported, "redshift-ka: provider_name: not a key of plugin JwtIamAuthPlugin"},
		{"browser IdC without issuer_url", "postgres://h/dev?credentials_provider=BrowserIdcAuthPlugin&idc_region=us-east-1", ErrMissing, "redshift-ka: credentials_provider: BrowserIdcAuthPlugin needs issuer_url"},
		{"token without plugin", "host=h web_identity_token=SeCrEt", ErrMissing, "redshift-ka: web_identity_token: goes with plugin_name (credentials_provider): "},
		{"JWT without token", "Server=h;plugin_name=JWT", ErrMissing, "redshift-ka: plugin_name: JWT needs web_identity_token (webIdentityToken)"},
		{"IdC without token_type", "host=h plugin_name=IdpTokenAuthPlugin token=SeCrEt", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin needs token_type"},
		{"IdC without token", "host=h plugin_name=IdpTokenAuthPlugin token_type=EXT_JWT", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin needs token"},
		{"JWT with token", "host=h plugin_name=BasicJwtCredentialsProvider web_identity_token=SeCrEt token=SeCrEt", ErrConflict, "redshift-ka: token: is not a key of BasicJwtCredentialsProvider"},
		{"IdC with web_identity_token", "host=h plugin_name=IdpTokenAuthPlugin token_type=EXT_JWT token=SeCrEt webIdentityToken=SeCrEt", ErrConflict, "redshift-ka: webIdentityToken: is not a key of IdpTokenAuthPlugin"},
		{"two tokens", "Server=h;plugin_name=JWT;web_identity_token=SeCrEt;webIdentityToken=SeCrEt2", ErrConflict, "redshift-ka: webIdentityToken: conflicts with web_identity_token: both set Token"},
		{"IdC with AWS keys, no cluster", "host=h plugin_name=IdpTokenAuthPlugin AccessKeyID=AKIA SecretAccessKey=SeCrEt SessionToken=SeCrEt", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin with AWS credentials needs the cluster (ClusterID"},
		{"misspelt", "host=h plugin_name=JWT web_identity_tokn=SeCrEt", ErrUnknownKey, "redshift-ka: web_identity_tokn: unknown key; did you mean web_identity_token?"},
		// An empty plugin_name= takes the next key=value as its value in
		// libpq's syntax, and a braced ODBC value may hold anything: the
		// error withholds a name that is not one.
		{"empty plugin_name, token next", "host=h plugin_name= web_identity_token=SeCrEt", ErrNotSupported, "redshift-ka: plugin_name: identity-provider plugin (a value of 25 bytes, withheld: it may hold more of the DSN) is not supported"},
		{"empty plugin_name, password next", "host=h plugin_name= password=SeCrEtPw", ErrNotSupported, "redshift-ka: plugin_name: identity-provider plugin (a value of 17 bytes, withheld"},
		{"braced plugin_name", "Server=h;plugin_name={x;web_identity_token=SeCrEt}", ErrNotSupported, "redshift-ka: plugin_name: identity-provider plugin (a value of 27 bytes, withheld"},
		{"a name that is no name, ending .JWT", "host=h plugin_name='x web_identity_token=SeCrEt.JWT'", ErrNotSupported, "redshift-ka: plugin_name: identity-provider plugin (a value of 31 bytes, withheld"},
		{"role_arn is not the native plugin's", "host=h plugin_name=JWT web_identity_token=SeCrEt role_arn=arn:aws:iam::1:role/r", ErrConflict, "redshift-ka: role_arn: is not a key of JWT; it goes with JwtIamAuthPlugin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.dsn)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.True(t, strings.HasPrefix(err.Error(), tc.msg), err.Error())
			assert.NotContains(t, err.Error(), "SeCrEt")
		})
	}
}

// TestDataSourceNative: the native login's keys in an odbc.ini data
// source, the connection string's overriding them.
func TestDataSourceNative(t *testing.T) {
	iniFiles(t, "[rs]\nServer = h\nDatabase = dev\nIAM = 1\nplugin_name = JWT\nweb_identity_token = ey.ini.tok\nprovider_name = azure_idp\n", "", "")
	d, err := Parse("DSN=rs")
	require.NoError(t, err)
	require.NotNil(t, d.Native)
	assert.Equal(t, Native{Plugin: "JWT", IdPType: "AzureAD", ProviderName: "azure_idp", Token: "ey.ini.tok", NoUser: true}, *d.Native)
	assert.Nil(t, d.IAM)
	assert.NotContains(t, fmt.Sprint(d), "ey.ini.tok")

	d, err = Parse("DSN=rs;web_identity_token=ey.dsn.tok")
	require.NoError(t, err)
	assert.Equal(t, "ey.dsn.tok", d.Native.Token)

	iniFiles(t, "[rs]\nServer = h\nplugin_name = IdpTokenAuthPlugin\ntoken = "+hostileSecret+"\ntoken_type = ACCESS_TOKEN\n", "", "")
	d, err = Parse("DSN=rs")
	require.NoError(t, err)
	assert.Equal(t, hostileSecret, d.Native.Token, "taken as written")
	js, err := json.Marshal(d)
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprintf("%+v", d), string(js), d.Rest} {
		for _, piece := range secretPieces(hostileSecret) {
			assert.NotContains(t, out, piece)
		}
	}
	_, err = Parse("DSN=rs;token_type=EXT_JWT") // overrides
	require.NoError(t, err)
}

// TestNativeUser: NoUser is false when the DSN names a user, in each
// form's way.
func TestNativeUser(t *testing.T) {
	for _, dsn := range []string{
		"postgres://alice@h/dev?plugin_name=JWT&web_identity_token=t",
		"host=h user=alice plugin_name=JWT web_identity_token=t",
		"Server=h;UID=alice;plugin_name=JWT;web_identity_token=t",
		"jdbc:redshift://h/dev?user=alice&plugin_name=JWT&web_identity_token=t",
	} {
		d, err := Parse(dsn)
		require.NoError(t, err, dsn)
		assert.False(t, d.Native.NoUser, dsn)
	}
}

// TestNativeDropsIAMKeys: ODBC's JWT asks for IAM=1, which the native
// login turns off; the IAM keys beside it are dropped saying so, not
// with a hint to add iam=true, which the DSN has.
func TestNativeDropsIAMKeys(t *testing.T) {
	d, err := Parse("Server=h;IAM=1;ClusterID=c;plugin_name=JWT;web_identity_token=SeCrEt")
	require.NoError(t, err)
	require.NotNil(t, d.Native)
	var clusterID *IgnoredKey
	for i, k := range d.Config.Ignored {
		if k.Key == "ClusterID" {
			clusterID = &d.Config.Ignored[i]
		}
	}
	require.NotNil(t, clusterID, "%+v", d.Config.Ignored)
	assert.Contains(t, clusterID.Does, "not used by the native login of plugin JWT")
	assert.NotContains(t, clusterID.Does, "add iam=true")
}

// TestNativeConnectTime: the native plugins whose token comes at connect
// time, in every form: the browser ones with their keys and Amazon's
// defaults, IdpTokenAuthPlugin exchanging AWS credentials. Token stays
// empty; the AWS secrets never show.
func TestNativeConnectTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		iam   bool
		pairs []kvPair
		want  Native
	}{
		{"BrowserAzureADOAuth2 (ODBC, IAM=1)", true, []kvPair{{"plugin_name", "BrowserAzureADOAuth2"}, {"idp_tenant", "t1"}, {"client_id", "c1"},
			{"scope", "api://c1/jdbc_login"}, {"provider_name", "azure_idp"}},
			Native{Plugin: "BrowserAzureADOAuth2", IdPType: "AzureAD", ProviderName: "azure_idp", Tenant: "t1", ClientID: "c1",
				Scope: "api://c1/jdbc_login", ResponseTimeout: 120 * time.Second, NoUser: true}},
		{"BrowserAzureOAuth2CredentialsProvider", false, []kvPair{{"plugin_name", "com.amazon.redshift.plugin.BrowserAzureOAuth2CredentialsProvider"},
			{"idp_tenant", "t1"}, {"client_id", "c1"}, {"listen_port", "8001"}, {"idp_response_timeout", "60"}, {"idp_partition", "cn"}},
			Native{Plugin: "com.amazon.redshift.plugin.BrowserAzureOAuth2CredentialsProvider", IdPType: "AzureAD", Tenant: "t1", ClientID: "c1",
				ListenPort: 8001, ResponseTimeout: 60 * time.Second, Partition: "cn", NoUser: true}},
		{"BrowserIdcAuthPlugin", false, []kvPair{{"credentials_provider", "BrowserIdcAuthPlugin"}, {"issuer_url", "https://identitycenter.amazonaws.com/ssoins-1"},
			{"idc_region", "us-east-1"}, {"idc_client_display_name", "ETL"}},
			Native{Plugin: "BrowserIdcAuthPlugin", IdPType: "AwsIdc", TokenType: "ACCESS_TOKEN", IssuerURL: "https://identitycenter.amazonaws.com/ssoins-1",
				IdCRegion: "us-east-1", IdCClientDisplayName: "ETL", ListenPort: 7890, ResponseTimeout: 120 * time.Second, NoUser: true}},
		{"IdpTokenAuthPlugin exchange", false, []kvPair{{"plugin_name", "IdpTokenAuthPlugin"}, {"AccessKeyID", "AKIAEXAMPLE"},
			{"SecretAccessKey", hostileSecret + "S"}, {"SessionToken", hostileSecret + "T"}, {"identity_namespace", "ns1"}},
			Native{Plugin: "IdpTokenAuthPlugin", IdPType: "AwsIdc", TokenType: "SUBJECT_TOKEN", IdentityNamespace: "ns1", Exchange: true, NoUser: true,
				AWS: ExchangeAWS{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: hostileSecret + "S", SessionToken: hostileSecret + "T",
					ClusterID: "etl-prod", Region: "us-east-1"}}},
	} {
		for form, dsn := range inForms(tc.iam, "", "", tc.pairs...) {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				d, err := Parse(dsn)
				require.NoError(t, err)
				assert.Nil(t, d.IAM)
				require.NotNil(t, d.Native)
				assert.Equal(t, tc.want, *d.Native)
				for _, p := range tc.pairs {
					assert.NotContains(t, strings.ToLower(d.Rest), strings.ToLower(p.k)+"=", "handed on")
				}
				outs := []string{fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", *d.Native), Redact(dsn)}
				js, err := json.Marshal(d)
				require.NoError(t, err)
				outs = append(outs, string(js))
				for _, out := range outs {
					for _, piece := range secretPieces(hostileSecret) {
						assert.NotContains(t, out, piece)
					}
				}
				ours := map[string]bool{}
				for _, k := range d.Keys {
					ours[k.Key] = k.Went == Ours
				}
				for _, p := range tc.pairs {
					assert.True(t, ours[p.k], "%s is read", p.k)
				}
			})
		}
	}
}

// TestNativeConnectTimeRefused: what Amazon's drivers require of the
// connect-time plugins.
func TestNativeConnectTimeRefused(t *testing.T) {
	const h = "Server=" + samlHost + ";"
	for _, tc := range []struct {
		name, dsn string
		kind      error
		msg       string
	}{
		{"OAuth2 without tenant", h + "IAM=1;plugin_name=BrowserAzureADOAuth2;client_id=c", ErrMissing, "redshift-ka: plugin_name: BrowserAzureADOAuth2 needs idp_tenant"},
		{"OAuth2 with a SAML key", h + "plugin_name=BrowserAzureOAuth2CredentialsProvider;idp_tenant=t;client_id=c;client_secret=SeCrEt", ErrConflict, "redshift-ka: client_secret: is not a key of BrowserAzureOAuth2CredentialsProvider; it goes with AzureCredentialsProvider"},
		{"OAuth2 with a token", h + "plugin_name=BrowserAzureOAuth2CredentialsProvider;idp_tenant=t;client_id=c;web_identity_token=SeCrEt", ErrConflict, "redshift-ka: web_identity_token: is not a key of BrowserAzureOAuth2CredentialsProvider"},
		{"IdC without region", h + "plugin_name=BrowserIdcAuthPlugin;issuer_url=https://i", ErrMissing, "redshift-ka: plugin_name: BrowserIdcAuthPlugin needs idc_region"},
		{"IdC with IAM", h + "IAM=1;plugin_name=BrowserIdcAuthPlugin;issuer_url=https://i;idc_region=r", ErrConflict, "redshift-ka: IAM: conflicts with plugin_name: BrowserIdcAuthPlugin is no IAM login; JDBC refuses it"},
		{"IdpToken with IAM", h + "IAM=1;plugin_name=IdpTokenAuthPlugin;token=SeCrEt;token_type=EXT_JWT", ErrConflict, "redshift-ka: IAM: conflicts with plugin_name: IdpTokenAuthPlugin is no IAM login"},
		{"exchange without session token", h + "plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=SeCrEt", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin exchanges AWS credentials for a token with AccessKeyID, SecretAccessKey and SessionToken: SessionToken (session_token) is missing"},
		{"neither token nor keys", h + "plugin_name=IdpTokenAuthPlugin", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin needs token and token_type, or AccessKeyID, SecretAccessKey and SessionToken"},
		{"token and keys", h + "plugin_name=IdpTokenAuthPlugin;token=SeCrEt;token_type=EXT_JWT;AccessKeyID=A;SecretAccessKey=SeCrEt;SessionToken=SeCrEt", ErrConflict, "redshift-ka: AccessKeyID: conflicts with token: IdpTokenAuthPlugin takes either token and token_type, or AccessKeyID"},
		{"exchange with a profile", h + "plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=SeCrEt;SessionToken=SeCrEt;Profile=p", ErrConflict, "redshift-ka: Profile: conflicts with plugin_name"},
		{"exchange, custom domain", "Server=rs.corp.example;plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=SeCrEt;SessionToken=SeCrEt", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin with AWS credentials needs the cluster"},
		{"exchange, no region", "Server=10.0.0.1;ClusterID=c;plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=SeCrEt;SessionToken=SeCrEt", ErrMissing, "redshift-ka: plugin_name: IdpTokenAuthPlugin with AWS credentials needs Region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.dsn)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.True(t, strings.HasPrefix(err.Error(), tc.msg), err.Error())
			assert.NotContains(t, err.Error(), "SeCrEt")
		})
	}
	d, err := Parse("Server=wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com;plugin_name=IdpTokenAuthPlugin;AccessKeyID=A;SecretAccessKey=S;SessionToken=T")
	require.NoError(t, err)
	assert.Equal(t, ExchangeAWS{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Workgroup: "wg", Region: "eu-west-1"}, d.Native.AWS)
}

// TestBrowserIdcNamespace: identity_namespace goes with
// BrowserIdcAuthPlugin too, as redshift_connector sends it.
func TestBrowserIdcNamespace(t *testing.T) {
	d, err := Parse("postgres://h/dev?credentials_provider=BrowserIdcAuthPlugin&issuer_url=https://i&idc_region=us-east-1&identity_namespace=ns")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"plugin_name": "BrowserIdcAuthPlugin", "idp_type": "AwsIdc", "token_type": "ACCESS_TOKEN",
		"identity_namespace": "ns"}, d.Native.StartupParams())
	_, err = Parse("postgres://h/dev?credentials_provider=BrowserIdcAuthPlugin&issuer_url=https://i&idc_region=us-east-1&token_type=EXT_JWT")
	assert.ErrorIs(t, err, ErrConflict)
}
