package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileSecret holds white space, both quotes and every byte that some
// DSN form treats specially.
const hostileSecret = `s k'e"y #;&?%={}+/@ z`

// pctEscape %-escapes every byte of s but letters and digits: a URL query
// value that pgx, lib/pq and the JDBC driver all read as s.
func pctEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// iamSecretDSNs builds an IAM DSN in every form around a secret access key
// and a session token, each written as its form wants it.
func iamSecretDSNs(key, token string) map[string]string {
	braced := func(v string) string { return "{" + strings.ReplaceAll(v, "}", "}}") + "}" }
	return map[string]string{
		"url":   "postgres://etl@c1.abc.us-east-1.redshift.amazonaws.com:5439/dev?iam=1&secret_access_key=" + pctEscape(key) + "&session_token=" + pctEscape(token) + "&access_key_id=AKIAEXAMPLE",
		"kv":    "host=c1.abc.us-east-1.redshift.amazonaws.com user=etl iam=true secret_access_key=" + quote(key) + " session_token=" + quote(token) + " access_key_id=AKIAEXAMPLE",
		"odbc":  "Server=c1.abc.us-east-1.redshift.amazonaws.com;UID=etl;IAM=1;SecretAccessKey=" + braced(key) + ";SessionToken=" + braced(token) + ";AccessKeyID=AKIAEXAMPLE",
		"jdbc":  "jdbc:redshift:iam://c1.abc.us-east-1.redshift.amazonaws.com:5439/dev?DbUser=etl&SecretAccessKey=" + url.QueryEscape(key) + ";SessionToken=" + url.QueryEscape(token) + "&AccessKeyID=AKIAEXAMPLE",
		"jdbc2": "jdbc:redshift://c1.abc.us-east-1.redshift.amazonaws.com/dev;IAMAuth=1;secret_access_key=" + pctEscape(key) + ";session_token=" + pctEscape(token) + ";access_key_id=AKIAEXAMPLE;user=etl",
	}
}

// secretPieces are the parts of hostileSecret that must never show.
func secretPieces(s string) []string {
	return []string{s, "k'e", `"y`, "#;&?", "%={}", "+/@", url.QueryEscape(s), pctEscape(s)}
}

// TestIAMSecretsNeverShow: in every form, a hostile secret access key and
// session token are read exactly, and neither shows in the parsed DSN
// printed with any verb, in JSON, in the IAM printed alone, in Redact's
// output, or in a ParseError about the same DSN; Secrets lists them.
func TestIAMSecretsNeverShow(t *testing.T) {
	key, token := hostileSecret, strings.ToUpper(hostileSecret)+"T0K"
	for form, dsn := range iamSecretDSNs(key, token) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			require.NotNil(t, d.IAM)
			assert.Equal(t, key, d.IAM.SecretAccessKey)
			assert.Equal(t, token, d.IAM.SessionToken)
			assert.Equal(t, "etl", d.IAM.DbUser)
			assert.Equal(t, "c1", d.IAM.ClusterID)

			outputs := map[string]string{"Redact": Redact(dsn), "Rest": d.Rest}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
				outputs[verb] = fmt.Sprintf(verb, d)
				outputs[verb+" of a pointer"] = fmt.Sprintf(verb, &d)
				outputs[verb+" of IAM"] = fmt.Sprintf(verb, *d.IAM)
				outputs[verb+" of *IAM"] = fmt.Sprintf(verb, d.IAM)
			}
			outputs["Sprint"] = fmt.Sprint(d, d.IAM, *d.IAM)
			outputs["Sprintln"] = fmt.Sprintln(d, d.IAM, *d.IAM)
			for name, v := range map[string]any{"JSON": d, "JSON of IAM": d.IAM, "JSON of IAM value": *d.IAM} {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				outputs[name] = string(b)
			}
			// The same DSN with an error after the secrets.
			for _, bad := range []string{"iam=2", "IAMDuration=1", "AutoCreate=maybe", "secret_access_key=other", "SessionToken=other"} {
				sep := map[string]string{"url": "&", "kv": " ", "odbc": ";", "jdbc": "&", "jdbc2": ";"}[form]
				_, err := Parse(dsn + sep + bad)
				require.Error(t, err, bad)
				outputs["error with "+bad] = err.Error()
			}
			for how, out := range outputs {
				for _, piece := range secretPieces(key) {
					assert.NotContains(t, out, piece, how)
				}
				for _, piece := range secretPieces(token) {
					assert.NotContains(t, out, piece, how)
				}
			}
			assert.Contains(t, outputs["%+v"], "SecretAccessKey:xxxxx")
			assert.Contains(t, outputs["%+v of *IAM"], "SessionToken:xxxxx")
			assert.Contains(t, outputs["JSON"], `"SecretAccessKey":"xxxxx"`)
			assert.Contains(t, outputs["%+v"], "AKIAEXAMPLE", "what is not secret shows")
			assert.Contains(t, Secrets(dsn), key)
			assert.Contains(t, Secrets(dsn), token)
			assert.Equal(t, key, d.IAM.SecretAccessKey, "printing masks a copy")
			// What DSN prints field by field is masked before IAM's own
			// Format is reached.
			assert.Equal(t, mask, d.redacted().IAM.SecretAccessKey)
			assert.Equal(t, mask, d.redacted().IAM.SessionToken)
		})
	}
}

// TestIAMFormatUnset: unset secrets print empty, not masked, and a nil
// *IAM prints as <nil>.
func TestIAMFormatUnset(t *testing.T) {
	i := IAM{ClusterID: "c"}
	assert.Contains(t, fmt.Sprintf("%+v", i), "SecretAccessKey: SessionToken:")
	var nilIAM *IAM
	assert.Equal(t, "<nil>", fmt.Sprintf("%v", nilIAM))
	b, err := json.Marshal(struct{ IAM *IAM }{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"IAM":null}`, string(b))
}

// TestIAMKeysTable: every key of the table is found in any case in every
// form, no key is both an IAM key and another kind, and Redact masks the
// keys it marks Secret.
func TestIAMKeysTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		for _, n := range k.Names {
			seen[asciiLower(n)] = true
		}
	}
	fields := map[string]bool{}
	for i, spec := range iamSpecs {
		assert.False(t, fields[spec.Field], "field %s twice", spec.Field)
		fields[spec.Field] = true
		assert.NotEmpty(t, spec.Want)
		assert.Equal(t, spec.Secret, spec.Field == "SecretAccessKey" || spec.Field == "SessionToken" || spec.Field == "HTTPSProxyPassword", spec.Field)
		for _, n := range spec.Names {
			assert.False(t, seen[asciiLower(n)], "key %s twice", n)
			seen[asciiLower(n)] = true
			assert.False(t, ignoredGroup(asciiLower(n)) >= 0 || pluginKeys[asciiLower(n)], n)
			for _, key := range []string{n, strings.ToUpper(n), strings.ToLower(n)} {
				j, ok := iamKeyIndex[asciiLower(key)]
				assert.True(t, ok && j == i, key)
				assert.True(t, claimed(key), key)
			}
			assert.Equal(t, spec.Secret, isSecretKey(n), "Redact masks %s", n)
		}
	}
	// Amazon's keys dropped are in one group only, none of ours, nor keys
	// a form maps to libpq's, but the JDBC keys a JDBC URL maps.
	for i, g := range ignoredGroups {
		for k := range g.keys {
			assert.Equal(t, i, ignoredGroup(k), k)
			_, amazon := amazonIndex[k]
			assert.False(t, pluginKeys[k] || seen[k] || amazon, k)
			_, jdbc := jdbcKeys[k]
			assert.False(t, jdbc && k != "applicationname" && k != "authmech", k)
			assert.False(t, odbcKeys[k] != "", k)
		}
	}
	// The fields named are those of IAM, but the switch.
	typ := fmt.Sprintf("%#v", redactedIAM{})
	for f := range fields {
		if f != "IAM" {
			assert.Contains(t, typ, f+":", f)
		}
	}
	assert.True(t, isSecretKey("SECRET_ACCESS_KEY") && isSecretKey("SessionToken"), "Redact masks the IAM secrets")
}

// TestEndpointParts: the host names Amazon's drivers read the cluster,
// workgroup and region from.
func TestEndpointParts(t *testing.T) {
	for _, tc := range []struct{ host, cluster, workgroup, region string }{
		{"etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com", "etl-prod", "", "us-east-1"},
		{"ETL.C9.EU-WEST-1.REDSHIFT.AMAZONAWS.COM", "etl", "", "eu-west-1"},
		{"c.x.cn-north-1.redshift.amazonaws.com.cn", "c", "", "cn-north-1"},
		{"c.x.us-east-1.redshift-dev.amazonaws.com", "c", "", "us-east-1"},
		{"a.b.c.x.us-east-1.redshift.amazonaws.com", "a.b.c", "", "us-east-1"},
		{"wg.123456789012.us-west-2.redshift-serverless.amazonaws.com", "", "wg", "us-west-2"},
		{"123456789012.us-west-2.redshift-serverless.amazonaws.com", "", "", "us-west-2"},
		{"x.us-east-1.redshift.amazonaws.com", "", "", ""},
		{"redshift.amazonaws.com", "", "", ""},
		{"warehouse.example.com", "", "", ""},
		{"c.x.us-east-1.redshift.example.com", "", "", ""},
		{"", "", "", ""},
	} {
		c, w, r := endpointParts(tc.host)
		assert.Equal(t, []string{tc.cluster, tc.workgroup, tc.region}, []string{c, w, r}, tc.host)
	}
}

// TestIAMHalfAKeyPair: static AWS credentials come whole, or the DSN is
// refused at parse time (the SDK would fail only at the first connect).
func TestIAMHalfAKeyPair(t *testing.T) {
	const base = "host=c.x.us-east-1.redshift.amazonaws.com iam=1 db_user=u "
	for keys, key := range map[string]string{
		"access_key_id=AKIAEXAMPLE":                      "access_key_id",
		"secret_access_key=wJalr/K7+x":                   "secret_access_key",
		"session_token=tok secret_access_key=wJalr/K7+x": "secret_access_key",
		"session_token=tok":                              "session_token",
	} {
		_, err := Parse(base + keys)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, keys)
		assert.ErrorIs(t, err, ErrMissing, keys)
		assert.Equal(t, key, pe.Key, keys)
		assert.NotContains(t, err.Error(), "wJalr", keys)
	}
	_, err := Parse(base + "access_key_id=AKIAEXAMPLE secret_access_key=wJalr/K7+x session_token=tok")
	assert.NoError(t, err)
}

// TestRedactIdentityTokens: identity-provider tokens, which Parse refuses,
// are still masked by Redact for a program that logs a DSN.
func TestRedactIdentityTokens(t *testing.T) {
	for _, dsn := range []string{
		"postgres://h/dev?web_identity_token=eyJSECRETJWT",
		"jdbc:redshift:iam://h/dev?webIdentityToken=eyJSECRETJWT",
		"jdbc:redshift://h/dev?token=eyJSECRETJWT",
		"Server=h;web_identity_token={eyJSECRETJWT}",
	} {
		assert.NotContains(t, Redact(dsn), "eyJSECRETJWT", dsn)
		assert.Contains(t, Secrets(dsn), "eyJSECRETJWT", dsn)
	}
}

// TestRedactProxyPasswordAndEndpointUserInfo: https_proxy_password and
// the user info of an EndpointUrl and a StsEndpointUrl are masked by
// Redact in every form, and when the parsed IAM login prints or encodes;
// they reach the IAM login unmasked.
func TestRedactProxyPasswordAndEndpointUserInfo(t *testing.T) {
	const pw = `Pr0xy '"#;&?%={}pw`
	const ep = "https://AKIDSECRETUSER:EPSECRET@api.example"
	const sts = "https://STSUSER:STS%20SECRET@sts.example:8443/"
	leaks := []string{"Pr0xy", "}pw", "EPSECRET", "AKIDSECRETUSER", "STSUSER", "SECRET@"}
	for _, dsn := range []string{
		"Server=10.0.0.1;IAM=1;ClusterID=c;DbUser=u;https_proxy_host=p;https_proxy_port=3128;https_proxy_password=" + odbcBrace(pw) + ";EndpointUrl=" + ep + ";StsEndpointUrl=" + sts,
		"postgres://10.0.0.1/dev?iam=1&ClusterID=c&db_user=u&https_proxy_host=p&https_proxy_port=3128&https_proxy_password=" + strings.ReplaceAll(url.QueryEscape(pw), "+", "%20") + "&endpoint_url=" + url.QueryEscape(ep) + "&StsEndpointUrl=" + url.QueryEscape(sts),
		"host=10.0.0.1 iam=1 ClusterID=c db_user=u https_proxy_host=p https_proxy_port=3128 https_proxy_password=" + quote(pw) + " endpoint_url=" + ep + " stsendpointurl=" + sts,
		"jdbc:redshift:iam://10.0.0.1:5439/dev?ClusterID=c&DbUser=u&https_proxy_host=p&https_proxy_port=3128&https_proxy_password=" + url.QueryEscape(pw) + "&EndpointUrl=" + url.QueryEscape(ep) + "&StsEndpointUrl=" + url.QueryEscape(sts),
	} {
		red := Redact(dsn)
		for _, s := range leaks {
			assert.NotContains(t, red, s, dsn)
		}
		d, err := Parse(dsn)
		require.NoError(t, err, Redact(dsn))
		assert.Equal(t, pw, d.IAM.HTTPSProxyPassword)
		assert.Equal(t, ep, d.IAM.EndpointURL)
		assert.Equal(t, sts, d.IAM.STSEndpointURL)
		js, _ := json.Marshal(d)
		for _, out := range []string{fmt.Sprintf("%v", d), fmt.Sprintf("%+v", d.IAM), fmt.Sprintf("%#v", *d.IAM), string(js)} {
			for _, s := range leaks {
				assert.NotContains(t, out, s, dsn)
			}
			assert.Contains(t, out, "sts.example:8443", "the host shows")
		}
		for _, s := range leaks {
			assert.NotContains(t, fmt.Sprintf("%+v %+v", d.Keys, d.Config.Ignored), s, dsn)
		}
	}
}

// TestSTSEndpointURL: StsEndpointUrl (ODBC's and JDBC's, any case) is
// read in every form, with or without a plugin; a value that is no http
// or https URL is refused naming the key, without echoing the value.
func TestSTSEndpointURL(t *testing.T) {
	const sts = "https://sts.example:8443"
	for form, dsn := range inForms(true, "", "", kvPair{"plugin_name", "JwtIamAuthPlugin"}, kvPair{"web_identity_token", "a.b.c"},
		kvPair{"role_arn", "arn:aws:iam::1:role/r"}, kvPair{"DbUser", "u"}, kvPair{"STSENDPOINTURL", sts}) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			assert.Equal(t, sts, d.IAM.STSEndpointURL)
			assert.NotContains(t, strings.ToLower(d.Rest), "stsendpointurl", "handed on")
		})
	}
	for _, bad := range []string{"sts.example", "ftp://sts.example", "https://", "http://[::1"} {
		_, err := Parse("Server=" + samlHost + ";IAM=1;DbUser=u;StsEndpointUrl=" + bad)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, bad)
		assert.Equal(t, "StsEndpointUrl", pe.Key)
		assert.ErrorIs(t, err, ErrSyntax)
		assert.ErrorContains(t, err, "redshift-ka: StsEndpointUrl: want an http or https URL, got ")
	}
	d, err := Parse("Server=" + samlHost + ";StsEndpointUrl=" + sts)
	require.NoError(t, err)
	require.Len(t, d.Config.Ignored, 1, "without IAM it does nothing")
	assert.Equal(t, "StsEndpointUrl", d.Config.Ignored[0].Key)
}

func odbcBrace(s string) string { return "{" + strings.ReplaceAll(s, "}", "}}") + "}" }

// TestAmazonKeysNeverReachTheServer: every key of Amazon's ODBC driver
// (rsodbc.h) and JDBC driver (RedshiftProperty.java) is, in the ODBC,
// key=value and URL forms, either read by redshift-ka, refused, mapped to
// libpq's key, or dropped into Config.Ignored: none goes on as written to
// pgx or lib/pq, which would send it to the server.
func TestAmazonKeysNeverReachTheServer(t *testing.T) {
	const odbc = `DRIVER DSN HostName Host Server Servername PortNumber Port Database DB LogonID UID User Password PWD
	LoginTimeout EnableDescribeParam ExtendedColumnMetaData ApplicationUsingThreads FetchRefCursor TransactionErrorBehavior
	ConnectionRetryCount ConnectionRetryDelay QueryTimeout InitializationString Trace TraceFile TraceLevel CscEnable
	CscThreshold CscPath CscMaxFileSize SSLMode EncryptionMethod ValidateServerCertificate HostNameInCertificate TrustStore
	MultiInsertCmdConvertEnable KerberosServiceName KerberosAPI StreamingCursorRows DatabaseMetadataCurrentDbOnly UseUnicode
	client_protocol_version ProxyHost ProxyPort ProxyUid ProxyPwd KeepAlive KeepAliveCount KeepAliveIdle KeepAliveInterval
	Min_TLS IAM https_proxy_host https_proxy_port https_proxy_username https_proxy_password idp_use_https_proxy AuthType
	ClusterId Region EndPointUrl DbUser DbGroups dbgroups_filter AutoCreate Serverless Workgroup ForceLowercase
	idp_response_timeout IAMDuration AccessKeyID SecretAccessKey SessionToken Profile InstanceProfile plugin_name
	preferred_role idp_host idp_port ssl_insecure group_federation loginToRp idp_tenant idp_partition client_id
	client_secret login_url listen_port partner_spid app_id app_name web_identity_token role_arn duration
	role_session_name CaPath CaFile StsEndpointUrl AuthProfile DisableCache StsConnectionTimeout scope token
	identity_namespace token_type issuer_url idc_region idc_client_display_name vpc_endpoint_url LogLevel LogPath`
	const jdbc = `allowEncodingChanges applicationName assumeMinServerVersion authProfile autosave binaryTransfer
	binaryTransferDisable binaryTransferEnable cancelSignalTimeout cleanupSavepoints compression connectTimeout
	connectionTimezone currentSchema databaseMetadataCacheFields databaseMetadataCacheFieldsMiB
	databaseMetadataCurrentDbOnly defaultRowFetchSize blockingRowsMode disableColumnSanitiser disableIsValidQuery
	enableFetchRingBuffer enableGeneratedName enableMultiSqlSupport enableStatementCache escapeSyntaxCallMode
	fetchRingBufferSize maxWarningCount gsslib hideUnprivilegedObjects hostRecheckSeconds iniFile iniSection
	jaasApplicationName jaasLogin kerberosServerName loadBalanceHosts logPath maxLogFileSize maxLogFileCount logLevel
	dsiLogLevel loginTimeout logServerErrorDetail logUnclosedConnections maxResultBuffer options
	overrideSchemaPatternType password pwd queryGroup dbname host port preferQueryMode preparedStatementCacheQueries
	preparedStatementCacheSizeMiB prepareThreshold protocolVersion raiseExceptionOnSilentRollback readOnly
	readOnlyMode receiveBufferSize reWriteBatchedInserts reWriteBatchedInsertsSize sendBufferSize socketFactory
	socketFactoryArg socketTimeout sslcert sslFactory sslFactoryArg sslHostnameVerifier sslkey sslmode
	AuthMech sslpassword sslPasswordCallback sslrootcert sslTrustStorePath sspiServiceClass stringType
	targetServerType tcpKeepAlive unknownLength user uid useSpnego ClusterID IAMDuration AccessKeyID IAMAuth
	IAMDisableCache idc_client_display_name identity_namespace token_type Region EndpointUrl StsEndpointUrl Profile
	SecretAccessKey SessionToken plugin_name AutoCreate DbUser DbGroups dbGroupsFilter ForceLowercase groupFederation
	webIdentityToken providerName isServerless serverlessAcctId serverlessWorkGroup
	idp_host idp_port preferred_role ssl_insecure app_id app_name partner_spid loginToRp idp_tenant idp_partition
	client_id client_secret saml_assertion login_url listen_port idp_response_timeout scope issuer_url idc_region
	token roleArn roleSessionName duration`
	// redshift_connector's connect() arguments that are no libpq keys.
	const python = `access_key_id allow_db_user_override app_id app_name auth_profile auto_create
	client_id client_protocol_version client_secret cluster_identifier credentials_provider database_metadata_current_db_only
	db_groups db_user duration endpoint_url force_lowercase group_federation iam iam_disable_cache idc_client_display_name
	idc_region identity_namespace idp_host idp_partition idp_response_timeout idp_tenant is_serverless issuer_url
	listen_port login_to_rp login_url max_prepared_statements numeric_to_float partner_sp_id preferred_role principal_arn
	profile provider_name region role_arn role_session_name scope secret_access_key serverless_acct_id
	serverless_work_group session_token ssl_insecure tcp_keepalive tcp_keepalive_idle tcp_keepalive_interval
	tcp_keepalive_count timeout token token_type web_identity_token`
	// The ODBC names of the connection's basics are libpq's business in
	// the key=value and URL forms (libpq's grammar, where the ODBC-only
	// ones are refused): they are checked in the ODBC form only.
	basics := map[string]bool{"driver": true, "dsn": true, "hostname": true, "host": true, "server": true, "servername": true,
		"portnumber": true, "port": true, "database": true, "db": true, "logonid": true, "uid": true, "user": true,
		"password": true, "pwd": true, "sslmode": true}
	libpq := map[string]bool{"host": true, "port": true, "dbname": true, "user": true, "password": true, "sslmode": true,
		"sslcert": true, "sslkey": true, "sslrootcert": true, "sslpassword": true, "options": true}
	for _, key := range strings.Fields(odbc + " " + jdbc + " " + python) {
		if libpq[key] {
			continue
		}
		dsns := []string{"Server=10.0.0.1;Database=dev;" + key + "=1"}
		if !basics[strings.ToLower(key)] {
			dsns = append(dsns, "host=10.0.0.1 dbname=dev "+key+"=1", "postgres://10.0.0.1/dev?"+key+"=1")
		}
		for _, dsn := range dsns {
			d, err := Parse(dsn)
			if err != nil {
				continue // refused: nothing reaches the server
			}
			for _, f := range strings.FieldsFunc(d.Rest, func(r rune) bool { return r == ' ' || r == '?' || r == '&' }) {
				k, _, _ := strings.Cut(f, "=")
				if strings.EqualFold(k, key) && !libpq[k] {
					t.Errorf("%s: key %s goes on to the server: %q", dsn, key, d.Rest)
				}
			}
		}
	}
}
