package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const samlHost = "etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com"

// kvPair is one key and value of a DSN, written in each form by inForms.
type kvPair struct{ k, v string }

// inForms writes the pairs as a DSN in each form, each value as its form
// wants it: ODBC braced, key=value quoted, URL and JDBC %-escaped. iam
// adds the form's IAM switch. The user and password go as each form
// writes them (a URL's in its user info).
func inForms(iam bool, user, password string, pairs ...kvPair) map[string]string {
	braced := func(v string) string { return "{" + strings.ReplaceAll(v, "}", "}}") + "}" }
	odbc := "Driver={Amazon Redshift (x64)};Server=" + samlHost + ";Database=dev"
	kv := "host=" + samlHost + " dbname=dev"
	u := "postgres://"
	if user != "" {
		u += url.PathEscape(user)
		if password != "" {
			u += ":" + url.PathEscape(password)
		}
		u += "@"
	}
	u += samlHost + "/dev?sslmode=require"
	jdbc := "jdbc:redshift://" + samlHost + ":5439/dev?ssl=true"
	if iam {
		odbc += ";IAM=1"
		kv += " iam=true"
		u += "&iam=true"
		jdbc = "jdbc:redshift:iam://" + samlHost + ":5439/dev?ssl=true"
	}
	if user != "" {
		odbc += ";UID=" + braced(user)
		kv += " user=" + quote(user)
		jdbc += "&UID=" + pctEscape(user)
	}
	if password != "" {
		odbc += ";PWD=" + braced(password)
		kv += " password=" + quote(password)
		jdbc += "&PWD=" + pctEscape(password)
	}
	for _, p := range pairs {
		odbc += ";" + p.k + "=" + braced(p.v)
		kv += " " + p.k + "=" + quote(p.v)
		u += "&" + p.k + "=" + pctEscape(p.v)
		jdbc += "&" + p.k + "=" + pctEscape(p.v)
	}
	return map[string]string{"odbc": odbc, "kv": kv, "url": u, "jdbc": jdbc}
}

// samlCase is a SAML plugin's DSN (as pairs) and the SAML it parses to.
type samlCase struct {
	name           string
	user, password string
	pairs          []kvPair
	want           SAML
}

func samlCases(secret string) []samlCase {
	role := kvPair{"preferred_role", "arn:aws:iam::123456789012:role/etl"}
	return []samlCase{
		{"ADFS", "ann@corp.example", secret, []kvPair{{"plugin_name", "ADFS"}, {"idp_host", "adfs.corp.example"}, role},
			SAML{Plugin: "AdfsCredentialsProvider", IdPHost: "adfs.corp.example", IdPPort: 443, User: "ann@corp.example", Password: secret,
				PreferredRole: role.v, LoginToRP: "urn:amazon:webservices"}},
		{"AdfsCredentialsProvider JDBC", "ann", secret, []kvPair{{"plugin_name", "com.amazon.redshift.plugin.AdfsCredentialsProvider"},
			{"idp_host", "adfs.corp.example"}, {"idp_port", "8443"}, {"loginToRp", "urn:rp"}, {"ssl_insecure", "true"}, {"duration", "3600"}},
			SAML{Plugin: "AdfsCredentialsProvider", IdPHost: "adfs.corp.example", IdPPort: 8443, User: "ann", Password: secret,
				LoginToRP: "urn:rp", SSLInsecure: true, DurationSeconds: 3600}},
		{"Okta", "ann", secret, []kvPair{{"plugin_name", "Okta"}, {"idp_host", "corp.okta.com"}, {"app_id", "0oa1"}, {"app_name", "rs"}},
			SAML{Plugin: "OktaCredentialsProvider", IdPHost: "corp.okta.com", IdPPort: 443, User: "ann", Password: secret, AppID: "0oa1", AppName: "rs"}},
		{"OktaCredentialsProvider python", "ann", secret, []kvPair{{"credentials_provider", "redshift_connector.plugin.OktaCredentialsProvider"},
			{"idp_host", "corp.okta.com"}, {"app_id", "0oa1"}},
			SAML{Plugin: "OktaCredentialsProvider", IdPHost: "corp.okta.com", IdPPort: 443, User: "ann", Password: secret, AppID: "0oa1", AppName: "amazon_aws"}},
		{"Ping", "ann", secret, []kvPair{{"plugin_name", "Ping"}, {"idp_host", "sso.ping.example"}, {"partner_spid", "urn:sp"}},
			SAML{Plugin: "PingCredentialsProvider", IdPHost: "sso.ping.example", IdPPort: 443, User: "ann", Password: secret, PartnerSPID: "urn:sp"}},
		{"PingCredentialsProvider python", "ann", secret, []kvPair{{"plugin_name", "PingCredentialsProvider"}, {"idp_host", "sso.ping.example"}, {"partner_sp_id", "urn:sp"}},
			SAML{Plugin: "PingCredentialsProvider", IdPHost: "sso.ping.example", IdPPort: 443, User: "ann", Password: secret, PartnerSPID: "urn:sp"}},
		{"AzureAD", "ann@corp.example", secret, []kvPair{{"plugin_name", "AzureAD"}, {"idp_tenant", "tenant-1"}, {"client_id", "app-1"},
			{"client_secret", secret + "C"}, {"idp_partition", "us-gov"}},
			SAML{Plugin: "AzureCredentialsProvider", User: "ann@corp.example", Password: secret, Tenant: "tenant-1", ClientID: "app-1",
				ClientSecret: secret + "C", Partition: "us-gov"}},
		{"BasicSamlCredentialsProvider", "", "", []kvPair{{"plugin_name", "com.amazon.redshift.plugin.BasicSamlCredentialsProvider"},
			{"saml_assertion", secret + "A"}, role},
			SAML{Plugin: "BasicSamlCredentialsProvider", Assertion: secret + "A", PreferredRole: role.v}},
		{"BrowserSAML", "", "", []kvPair{{"plugin_name", "BrowserSAML"}, {"login_url", "https://idp.example/app/sso"}},
			SAML{Plugin: "BrowserSamlCredentialsProvider", LoginURL: "https://idp.example/app/sso", ListenPort: 7890, ResponseTimeout: 120 * time.Second}},
		{"BrowserSamlCredentialsProvider ports", "", "", []kvPair{{"plugin_name", "BrowserSamlCredentialsProvider"},
			{"login_url", "https://idp.example/app/sso"}, {"listen_port", "8123"}, {"idp_response_timeout", "30"}},
			SAML{Plugin: "BrowserSamlCredentialsProvider", LoginURL: "https://idp.example/app/sso", ListenPort: 8123, ResponseTimeout: 30 * time.Second}},
		{"BrowserAzureAD", "", "", []kvPair{{"plugin_name", "BrowserAzureAD"}, {"idp_tenant", "tenant-1"}, {"client_id", "app-1"}},
			SAML{Plugin: "BrowserAzureCredentialsProvider", Tenant: "tenant-1", ClientID: "app-1", ResponseTimeout: 120 * time.Second}},
	}
}

// TestSAMLForms: every SAML plugin, under each driver's name, in every
// form: its keys land in IAM.SAML, never in what is handed on; the
// database user is left to the assertion.
func TestSAMLForms(t *testing.T) {
	for _, sc := range samlCases("pw") {
		for form, dsn := range inForms(true, sc.user, sc.password, sc.pairs...) {
			t.Run(sc.name+"/"+form, func(t *testing.T) {
				d, err := Parse(dsn)
				require.NoError(t, err)
				require.NotNil(t, d.IAM)
				assert.Nil(t, d.Native)
				assert.Equal(t, sc.want, d.IAM.SAML)
				assert.Empty(t, d.IAM.DbUser, "the DSN's user is the IdP's; DbUser comes from the assertion")
				assert.Equal(t, "etl-prod", d.IAM.ClusterID)
				went := map[string]KeyUse{}
				for _, k := range d.Keys {
					went[k.Key] = k
				}
				for _, p := range sc.pairs {
					assert.NotContains(t, strings.ToLower(d.Rest), strings.ToLower(p.k)+"=", "handed on")
					assert.Equal(t, Ours, went[p.k].Went, "DSN.Keys: %s", p.k)
				}
				if k, ok := pluginKeyIndex[asciiLower(sc.pairs[1].k)]; ok {
					assert.Equal(t, "plugin "+pluginSpecs[k].Names[0], went[sc.pairs[1].k].To)
				}
			})
		}
	}
}

// TestSAMLDbUser: DbUser given in the DSN is kept; the DSN's user is not
// taken for it.
func TestSAMLDbUser(t *testing.T) {
	d, err := Parse("Server=" + samlHost + ";IAM=1;plugin_name=Okta;idp_host=o.example;app_id=a;UID=ann;PWD=pw;DbUser=etl;DbGroups=a,b;AutoCreate=1")
	require.NoError(t, err)
	assert.Equal(t, "etl", d.IAM.DbUser)
	assert.Equal(t, []string{"a", "b"}, d.IAM.DbGroups)
	assert.True(t, d.IAM.AutoCreate)
	assert.Equal(t, "ann", d.IAM.SAML.User)
}

// TestSAMLRefused: the required keys of each plugin, as Amazon's drivers
// require them; static AWS credentials and a Profile; IAM=1; keys of
// another plugin. Errors name the key, and never a secret.
func TestSAMLRefused(t *testing.T) {
	const pre = "Server=" + samlHost + ";IAM=1;"
	for _, tc := range []struct {
		name, dsn string
		kind      error
		msg       string
	}{
		{"ADFS without idp_host", pre + "plugin_name=ADFS;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: AdfsCredentialsProvider needs idp_host"},
		{"ADFS without user", pre + "plugin_name=ADFS;idp_host=h;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: AdfsCredentialsProvider needs user (UID): the identity provider's"},
		{"ADFS without password", pre + "plugin_name=ADFS;idp_host=h;UID=ann", ErrMissing, "redshift-ka: plugin_name: AdfsCredentialsProvider needs password (PWD)"},
		{"Okta without app_id", pre + "plugin_name=Okta;idp_host=h;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: OktaCredentialsProvider needs app_id"},
		{"Ping without idp_host", pre + "plugin_name=Ping;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: PingCredentialsProvider needs idp_host"},
		{"Azure without tenant", pre + "plugin_name=AzureAD;client_id=c;client_secret=SeCrEt;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: AzureCredentialsProvider needs idp_tenant"},
		{"Azure without client_secret", pre + "plugin_name=AzureAD;idp_tenant=t;client_id=c;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: AzureCredentialsProvider needs client_secret"},
		{"Azure without client_id", pre + "plugin_name=AzureAD;idp_tenant=t;client_secret=SeCrEt;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: AzureCredentialsProvider needs client_id"},
		{"BasicSaml without assertion", pre + "plugin_name=BasicSamlCredentialsProvider", ErrMissing, "redshift-ka: plugin_name: BasicSamlCredentialsProvider needs saml_assertion"},
		{"BrowserSAML without login_url", pre + "plugin_name=BrowserSAML", ErrMissing, "redshift-ka: plugin_name: BrowserSamlCredentialsProvider needs login_url"},
		{"BrowserAzureAD without client_id", pre + "plugin_name=BrowserAzureAD;idp_tenant=t", ErrMissing, "redshift-ka: plugin_name: BrowserAzureCredentialsProvider needs client_id"},
		{"no IAM", "Server=" + samlHost + ";plugin_name=Okta;idp_host=h;app_id=a;UID=ann;PWD=SeCrEt", ErrMissing, "redshift-ka: plugin_name: OktaCredentialsProvider logs in through IAM: add IAM=1 (iam=true), as Amazon's drivers require"},
		{"static keys", pre + "plugin_name=Okta;idp_host=h;app_id=a;UID=ann;PWD=SeCrEt;AccessKeyID=AKIA;SecretAccessKey=SeCrEt", ErrConflict, "redshift-ka: AccessKeyID: conflicts with plugin_name: OktaCredentialsProvider takes the AWS credentials from STS AssumeRoleWithSAML"},
		{"session token", pre + "plugin_name=BasicSamlCredentialsProvider;saml_assertion=SeCrEt;AccessKeyID=AKIA;SecretAccessKey=SeCrEt;SessionToken=SeCrEt", ErrConflict, "redshift-ka: AccessKeyID: conflicts with plugin_name"},
		{"profile", pre + "plugin_name=ADFS;idp_host=h;UID=ann;PWD=SeCrEt;Profile=p", ErrConflict, "redshift-ka: Profile: conflicts with plugin_name: AdfsCredentialsProvider takes the AWS credentials from STS AssumeRoleWithSAML"},
		{"another plugin's key", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;app_id=a", ErrNotSupported, "redshift-ka: app_id: not a key of plugin PingCredentialsProvider; it goes with OktaCredentialsProvider"},
		{"a role key", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;role_arn=r", ErrNotSupported, "redshift-ka: role_arn: not a key of plugin PingCredentialsProvider; it goes with JwtIamAuthPlugin"},
		{"bad idp_port", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;idp_port=0", ErrRange, `redshift-ka: idp_port: want a port 1..65535, got "0"`},
		{"bad listen_port", pre + "plugin_name=BrowserSAML;login_url=https://x;listen_port=http", ErrSyntax, `redshift-ka: listen_port: want a port 1..65535, got "http"`},
		{"timeout under 10 s", pre + "plugin_name=BrowserSAML;login_url=https://x;idp_response_timeout=5", ErrRange, `redshift-ka: idp_response_timeout: want whole seconds 10..86400, got "5"`},
		{"bad ssl_insecure", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;ssl_insecure=maybe", ErrSyntax, `redshift-ka: ssl_insecure: want 1/0, true/false, on/off or yes/no, got "maybe"`},
		{"two assertions", pre + "plugin_name=BasicSamlCredentialsProvider;saml_assertion=SeCrEt;SAML_Assertion=SeCrEt2", ErrConflict, "redshift-ka: SAML_Assertion: set twice, to different values"},
		{"two SP IDs", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;partner_spid=a;partner_sp_id=b", ErrConflict, "redshift-ka: partner_sp_id: conflicts with partner_spid: both set partner_spid"},
		{"misspelt", pre + "plugin_name=Okta;idp_hots=h", ErrUnknownKey, "redshift-ka: idp_hots: unknown key; did you mean idp_host?"},
		{"IdP through no proxy", pre + "plugin_name=Ping;idp_host=h;UID=ann;PWD=SeCrEt;idp_use_https_proxy=1", ErrMissing, "redshift-ka: idp_use_https_proxy: goes with https_proxy_host, which is not given"},
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

// TestSAMLSecretsNeverShow: hostile secrets (the IdP password, the
// client secret, the assertion) are read exactly in every form, and never
// show in the DSN printed, in JSON, in Redact's output, in Secrets' miss,
// or in an error about the same DSN.
func TestSAMLSecretsNeverShow(t *testing.T) {
	for _, sc := range samlCases(hostileSecret) {
		for form, dsn := range inForms(true, sc.user, sc.password, sc.pairs...) {
			t.Run(sc.name+"/"+form, func(t *testing.T) {
				d, err := Parse(dsn)
				require.NoError(t, err)
				assert.Equal(t, sc.want, d.IAM.SAML, "read exactly")
				outs := map[string]string{"Redact": Redact(dsn), "Rest redacted": Redact(d.Rest)}
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
					outs[verb] = fmt.Sprintf(verb, d)
					outs[verb+" IAM"] = fmt.Sprintf(verb, *d.IAM)
				}
				js, err := json.Marshal(d)
				require.NoError(t, err)
				outs["JSON"] = string(js)
				js, err = json.Marshal(d.IAM)
				require.NoError(t, err)
				outs["JSON IAM"] = string(js)
				sep := map[string]string{"odbc": ";", "kv": " ", "url": "&", "jdbc": "&"}[form]
				for _, bad := range []string{"KeepAlivesIdle=x", "idp_port=x", "listen_port=0", "role_arn=r", "AccessKeyID=A"} {
					_, err := Parse(dsn + sep + bad)
					require.Error(t, err, bad)
					outs["error with "+bad] = err.Error()
				}
				for how, out := range outs {
					for _, piece := range secretPieces(hostileSecret) {
						assert.NotContains(t, out, piece, how)
					}
				}
				masked := Redact(dsn)
				for _, s := range []string{sc.want.Password, sc.want.ClientSecret, sc.want.Assertion} {
					if s != "" {
						assert.Contains(t, Secrets(dsn), s, "Secrets lists it")
						assert.NotContains(t, masked, s)
					}
				}
			})
		}
	}
}

// TestSAMLDataSource: a SAML plugin's keys in an odbc.ini data source,
// the connection string's overriding them.
func TestSAMLDataSource(t *testing.T) {
	iniFiles(t, "[rs]\nServer = "+samlHost+"\nIAM = 1\nplugin_name = AzureAD\nidp_tenant = t1\nclient_id = c1\nclient_secret = "+hostileSecret+
		"\nUID = ann\nPWD = "+hostileSecret+"\n", "", "")
	d, err := Parse("DSN=rs;idp_tenant=t2")
	require.NoError(t, err)
	assert.Equal(t, SAML{Plugin: "AzureCredentialsProvider", Tenant: "t2", ClientID: "c1", ClientSecret: hostileSecret,
		User: "ann", Password: hostileSecret}, d.IAM.SAML)
	for _, out := range []string{fmt.Sprintf("%+v", d), fmt.Sprint(d.Keys)} {
		for _, piece := range secretPieces(hostileSecret) {
			assert.NotContains(t, out, piece)
		}
	}
}

// TestPluginsInDataSource: every plugin's keys read from an odbc.ini data
// source as from the connection string, secrets taken as written.
func TestPluginsInDataSource(t *testing.T) {
	for _, sc := range samlCases(hostileSecret) {
		t.Run(sc.name, func(t *testing.T) {
			ini := "[rs]\nServer = " + samlHost + "\nIAM = 1\n"
			if sc.user != "" {
				ini += "UID = " + sc.user + "\nPWD = " + sc.password + "\n"
			}
			for _, p := range sc.pairs {
				ini += p.k + " = " + p.v + "\n"
			}
			iniFiles(t, ini, "", "")
			d, err := Parse("DSN=rs")
			require.NoError(t, err)
			assert.Equal(t, sc.want, d.IAM.SAML)
			for _, out := range []string{fmt.Sprintf("%+v", d), fmt.Sprint(d.Keys), Redact(d.Rest)} {
				for _, piece := range secretPieces(hostileSecret) {
					assert.NotContains(t, out, piece)
				}
			}
		})
	}
	iniFiles(t, "[rs]\nServer = "+samlHost+"\nplugin_name = BrowserIdcAuthPlugin\nissuer_url = https://i.example\nidc_region = eu-west-1\nlisten_port = 9000\n", "", "")
	d, err := Parse("DSN=rs;idp_response_timeout=45")
	require.NoError(t, err)
	assert.Equal(t, Native{Plugin: "BrowserIdcAuthPlugin", IdPType: "AwsIdc", TokenType: "ACCESS_TOKEN", IssuerURL: "https://i.example",
		IdCRegion: "eu-west-1", ListenPort: 9000, ResponseTimeout: 45 * time.Second, NoUser: true}, *d.Native)
}

// TestSAMLProxy: idp_use_https_proxy sends the IdP's requests through
// the IAM login's HTTPS proxy, whose keys it needs.
func TestSAMLProxy(t *testing.T) {
	d, err := Parse("Server=" + samlHost + ";IAM=1;plugin_name=Ping;idp_host=h;UID=ann;PWD=pw;idp_use_https_proxy=1;https_proxy_host=proxy;https_proxy_port=3128")
	require.NoError(t, err)
	assert.True(t, d.IAM.SAML.UseHTTPSProxy)
	assert.Equal(t, "proxy", d.IAM.HTTPSProxyHost)
}

// TestSAMLDbGroupsFilter: dbgroups_filter (ODBC) and dbGroupsFilter
// (JDBC) reach SAML.DbGroupsFilter in every form with every SAML plugin;
// a bad expression is refused naming the key, and so is the key without
// a SAML plugin.
func TestSAMLDbGroupsFilter(t *testing.T) {
	const re = `(?i)admin.*|ops[0-9]+`
	for _, sc := range samlCases("pw") {
		for i, key := range []string{"dbgroups_filter", "dbGroupsFilter"} {
			pairs := append(slices.Clone(sc.pairs), kvPair{key, re})
			for form, dsn := range inForms(true, sc.user, sc.password, pairs...) {
				if (i+len(form))%2 == 1 {
					continue // each form with each name, half of the pairs
				}
				d, err := Parse(dsn)
				require.NoError(t, err, sc.name+"/"+form)
				assert.Equal(t, re, d.IAM.SAML.DbGroupsFilter, sc.name+"/"+form)
			}
		}
	}
	const pre = "Server=" + samlHost + ";IAM=1;"
	for _, tc := range []struct {
		name, dsn string
		kind      error
		msg       string
	}{
		{"bad expression", pre + "plugin_name=Okta;idp_host=h;app_id=a;UID=ann;PWD=SeCrEt;dbgroups_filter=(a", ErrSyntax,
			`redshift-ka: dbgroups_filter: want a regular expression (Go's RE2 syntax) matching whole group names, got "(a"`},
		{"Java's look-ahead", pre + "plugin_name=Okta;idp_host=h;app_id=a;UID=ann;PWD=SeCrEt;dbGroupsFilter=(?!a)b", ErrSyntax,
			`redshift-ka: dbGroupsFilter: want a regular expression`},
		{"web identity", pre + "plugin_name=JwtIamAuthPlugin;web_identity_token=a.b.c;role_arn=r;DbUser=u;dbGroupsFilter=a", ErrNotSupported,
			"redshift-ka: dbGroupsFilter: not a key of plugin JwtIamAuthPlugin"},
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
