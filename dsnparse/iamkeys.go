package dsnparse

import (
	"net"
	"net/url"
	"regexp"
	"strings"
)

// iamKeySpec describes one field of [IAM] and the DSN keys that set it.
// The table iamSpecs is the single source for parsing them, for their
// error messages, and for which of them [Redact] masks (secretKeys takes
// the names of those marked Secret); the package docs list its keys.
type iamKeySpec struct {
	// Field names the [IAM] field the keys set; "IAM" is the switch that
	// asks for IAM login.
	Field string
	// Names lists the accepted keys: ODBC's first, then JDBC's and
	// redshift_connector's where they differ. Keys match case-insensitively
	// in every DSN form.
	Names []string
	// Want describes the accepted values, as error messages quote it.
	Want string
	// Secret marks a value that is masked wherever a password is.
	Secret bool

	kind     iamKind
	min, max int
}

// iamKind is how the value of an IAM key is read.
type iamKind int

const (
	iamText    iamKind = iota // taken as written, trimmed
	iamBool                   // as the keep-alive switch reads it
	iamList                   // comma-separated, each item trimmed
	iamSeconds                // whole seconds within min..max
	iamPort                   // a TCP port, 1..65535
	iamRegexp                 // a regular expression (Go's RE2 syntax)
	iamURL                    // an http or https URL
)

// The fields of iamSpecs, by index.
const (
	iamSwitch = iota
	iamClusterID
	iamWorkgroup
	iamRegion
	iamDbUser
	iamDbGroups
	iamAutoCreate
	iamDuration
	iamProfile
	iamAccessKeyID
	iamSecretAccessKey
	iamSessionToken
	iamEndpointURL
	iamSTSEndpointURL
	iamGroupFederation
	iamForceLowercase
	iamServerless
	iamProxyHost
	iamProxyPort
	iamProxyUser
	iamProxyPassword
	iamDisableCache
	numIAMFields
)

const boolWant = "1/0, true/false, on/off or yes/no"

var iamSpecs = [numIAMFields]iamKeySpec{
	// JDBC reads IAMAuth=true as its jdbc:redshift:iam:// scheme.
	iamSwitch:          {Field: "IAM", Names: []string{"IAM", "IAMAuth"}, Want: boolWant, kind: iamBool},
	iamClusterID:       {Field: "ClusterID", Names: []string{"ClusterID", "cluster_identifier"}, Want: "a cluster identifier"},
	iamWorkgroup:       {Field: "Workgroup", Names: []string{"Workgroup", "serverlessWorkGroup", "serverless_work_group"}, Want: "a Redshift Serverless workgroup name"},
	iamRegion:          {Field: "Region", Names: []string{"Region"}, Want: "an AWS region"},
	iamDbUser:          {Field: "DbUser", Names: []string{"DbUser", "db_user"}, Want: "a database user name"},
	iamDbGroups:        {Field: "DbGroups", Names: []string{"DbGroups", "db_groups"}, Want: "comma-separated database group names", kind: iamList},
	iamAutoCreate:      {Field: "AutoCreate", Names: []string{"AutoCreate", "auto_create"}, Want: boolWant, kind: iamBool},
	iamDuration:        {Field: "DurationSeconds", Names: []string{"IAMDuration"}, Want: "whole seconds 900..3600", kind: iamSeconds, min: 900, max: 3600},
	iamProfile:         {Field: "Profile", Names: []string{"Profile"}, Want: "a profile of the shared AWS config files"},
	iamAccessKeyID:     {Field: "AccessKeyID", Names: []string{"AccessKeyID", "access_key_id"}, Want: "an AWS access key ID"},
	iamSecretAccessKey: {Field: "SecretAccessKey", Names: []string{"SecretAccessKey", "secret_access_key"}, Want: "an AWS secret access key", Secret: true},
	iamSessionToken:    {Field: "SessionToken", Names: []string{"SessionToken", "session_token"}, Want: "an AWS session token", Secret: true},
	iamEndpointURL:     {Field: "EndpointURL", Names: []string{"EndpointUrl", "endpoint_url"}, Want: "a URL"},
	// ODBC rsodbc.h RS_IAM_STS_ENDPOINT_URL, JDBC RedshiftProperty.STS_ENDPOINT_URL;
	// redshift_connector has none.
	iamSTSEndpointURL: {Field: "STSEndpointURL", Names: []string{"StsEndpointUrl"}, Want: "an http or https URL", kind: iamURL},
	// ODBC RsIamClient::Connect, JDBC IamHelper.findTypeOfGetClusterCredentialsAPI,
	// redshift_connector IamHelper.get_cluster_credentials_api_type.
	iamGroupFederation: {Field: "GroupFederation", Names: []string{"group_federation", "groupFederation"}, Want: boolWant, kind: iamBool},
	// ODBC RsIamClient::SendClusterCredentialsRequest, JDBC IamHelper.setIAMProperties.
	iamForceLowercase: {Field: "ForceLowercase", Names: []string{"ForceLowercase", "force_lowercase"}, Want: boolWant, kind: iamBool},
	// ODBC Serverless, JDBC isServerless, redshift_connector is_serverless.
	iamServerless: {Field: "Serverless", Names: []string{"Serverless", "isServerless", "is_serverless"}, Want: boolWant, kind: iamBool},
	// ODBC rsodbc.h RS_HTTPS_PROXY_*, used in RsIamClient for the AWS client.
	iamProxyHost:     {Field: "HTTPSProxyHost", Names: []string{"https_proxy_host"}, Want: "a proxy host name"},
	iamProxyPort:     {Field: "HTTPSProxyPort", Names: []string{"https_proxy_port"}, Want: "a port 1..65535", kind: iamPort},
	iamProxyUser:     {Field: "HTTPSProxyUser", Names: []string{"https_proxy_username"}, Want: "a proxy user name"},
	iamProxyPassword: {Field: "HTTPSProxyPassword", Names: []string{"https_proxy_password"}, Want: "a proxy password", Secret: true},
	// JDBC RedshiftProperty.IAM_DISABLE_CACHE, redshift_connector
	// iam_disable_cache, ODBC RS_DISABLE_CACHE (rsodbc.h).
	iamDisableCache: {Field: "DisableCache", Names: []string{"IAMDisableCache", "iam_disable_cache", "DisableCache"}, Want: boolWant, kind: iamBool},
}

// iamKeyIndex maps every key of iamSpecs, lower-cased, to its field.
var iamKeyIndex = func() map[string]int {
	keys := map[string]int{}
	for i, spec := range iamSpecs {
		for _, n := range spec.Names {
			keys[asciiLower(n)] = i
		}
	}
	return keys
}()

// ignoredGroups are keys of Amazon's drivers that PostgreSQL does not
// know and redshift-ka has no use for: pgx and lib/pq would send them to
// the server, which refuses an unknown parameter. They are dropped and
// listed in [Config.Ignored], in every DSN form, with whose they are and
// what they do there. The keys the drivers share with libpq (user,
// password, sslmode, sslrootcert, options, ...) are not here, nor the
// keep-alive and timeout keys of amazonTable.
var ignoredGroups = []struct {
	driver, does string
	keys         map[string]bool
}{
	// Of IAM login: the account is told by the credentials, the AWS SDK
	// finds the CA and the STS endpoint itself.
	{"IAM (ODBC, JDBC, Python)", "a detail of IAM login that the AWS SDK works out itself", keySet(`serverlessAcctId
		serverless_acct_id StsConnectionTimeout InstanceProfile AuthType
		vpc_endpoint_url CaPath`)},
	// redshift_connector connect(principal_arn=...) sets
	// RedshiftProperty.principal, which SamlCredentialsProvider stores and
	// never reads: the assertion names the SAML provider.
	{"Python", "the SAML provider's ARN, which redshift_connector never uses: the assertion names it", keySet(`principal_arn`)},
	// redshift_connector connect()'s other arguments that PostgreSQL does
	// not know (__init__.py).
	{"Python", "a setting of redshift_connector (prepared statements, numeric types, metadata); not PostgreSQL's",
		keySet(`max_prepared_statements numeric_to_float database_metadata_current_db_only`)},
	// rsodbc.h.
	{"ODBC", "a setting of Amazon's ODBC driver (statements, logging, TLS, proxy); not PostgreSQL's", keySet(`
		EnableDescribeParam ExtendedColumnMetaData ApplicationUsingThreads FetchRefCursor TransactionErrorBehavior
		ConnectionRetryCount ConnectionRetryDelay InitializationString Trace TraceFile TraceLevel CscEnable CscThreshold
		CscPath CscMaxFileSize EncryptionMethod ValidateServerCertificate HostNameInCertificate TrustStore
		MultiInsertCmdConvertEnable KerberosServiceName KerberosAPI StreamingCursorRows DatabaseMetadataCurrentDbOnly
		UseUnicode client_protocol_version ProxyHost ProxyPort ProxyUid ProxyPwd Min_TLS CaFile LogLevel LogPath`)},
	// RedshiftProperty.java. A JDBC URL maps applicationName and AuthMech
	// to libpq's keys.
	{"JDBC", "a setting of Amazon's JDBC driver (statements, fetching, logging, Java classes); not PostgreSQL's", keySet(`
		allowEncodingChanges assumeMinServerVersion autosave binaryTransfer
		binaryTransferDisable binaryTransferEnable cancelSignalTimeout cleanupSavepoints compression connectionTimezone
		currentSchema databaseMetadataCacheFields databaseMetadataCacheFieldsMiB
		defaultRowFetchSize blockingRowsMode disableColumnSanitiser disableIsValidQuery enableFetchRingBuffer
		enableGeneratedName enableMultiSqlSupport enableStatementCache escapeSyntaxCallMode fetchRingBufferSize
		maxWarningCount gsslib hideUnprivilegedObjects hostRecheckSeconds iniFile iniSection jaasApplicationName
		jaasLogin kerberosServerName loadBalanceHosts maxLogFileSize maxLogFileCount dsiLogLevel
		logServerErrorDetail logUnclosedConnections maxResultBuffer overrideSchemaPatternType queryGroup
		preferQueryMode preparedStatementCacheQueries preparedStatementCacheSizeMiB prepareThreshold protocolVersion
		raiseExceptionOnSilentRollback readOnly readOnlyMode receiveBufferSize reWriteBatchedInserts
		reWriteBatchedInsertsSize sendBufferSize socketFactory socketFactoryArg sslFactory
		sslFactoryArg sslHostnameVerifier sslPasswordCallback sslTrustStorePath sspiServiceClass stringType
		targetServerType unknownLength useSpnego applicationName AuthMech`)},
}

// ignoredGroup returns the index of the group of ignoredGroups that holds
// key (lower-cased), or -1.
func ignoredGroup(k string) int {
	for i, g := range ignoredGroups {
		if g.keys[k] {
			return i
		}
	}
	return -1
}

// pluginKeys are keys about identity providers and IAM in Amazon's
// drivers that redshift-ka does not support: it refuses a DSN that has
// one rather than log in some other way than asked. AuthProfile (ODBC
// RS_IAM_AUTH_PROFILE, JDBC authProfile, redshift_connector auth_profile)
// reads the connection's keys from a Redshift authentication profile;
// allow_db_user_override is an attribute of the SAML assertion (JDBC
// IamHelper, redshift_connector CredentialsHolder.IamMetadata), not a key
// of the DSN. The keys of the plugins it supports are in nativeSpecs
// (native.go: plugin_name, the tokens) and pluginSpecs (plugin.go).
var pluginKeys = keySet(`AuthProfile auth_profile allow_db_user_override AllowDBUserOverride`)

func keySet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[asciiLower(w)] = true
	}
	return set
}

// claimed reports whether key (in any ASCII case) is one that redshift-ka
// reads itself and never hands on: a keep-alive key, an IAM key, an Amazon
// key it maps, refuses or ignores, or an identity-provider key it refuses.
func claimed(key string) bool {
	k := asciiLower(key)
	_, own := ownedKeys[k]
	_, iam := iamKeyIndex[k]
	_, amazon := amazonIndex[k]
	_, plugin := pluginKeyIndex[k]
	_, native := nativeKeyIndex[k]
	return own || iam || amazon || plugin || native || ignoredGroup(k) >= 0 || pluginKeys[k]
}

// take handles a key that redshift-ka reads itself, and reports whether
// key is one (see [claimed]); a key close to one of ours but none of them
// is refused with ErrUnknownKey.
func (c *collector) take(key, value string) (bool, error) {
	if s, ok := owned(key); ok {
		return true, c.add(s, key, value)
	}
	k := asciiLower(key)
	if i, ok := iamKeyIndex[k]; ok {
		return true, c.addIAM(i, key, value)
	}
	if a, ok := amazonIndex[k]; ok {
		return true, c.takeAmazon(a, key, value)
	}
	if i, ok := pluginKeyIndex[k]; ok {
		return true, c.addPlugin(i, key, value)
	}
	if _, mapped := jdbcKeys[k]; c.jdbc && mapped {
		return false, nil
	}
	if g := ignoredGroup(k); g >= 0 {
		c.ignore(key, ignoredGroups[g].driver, ignoredGroups[g].does)
		return true, nil
	}
	if i, ok := nativeKeyIndex[k]; ok {
		return true, c.addNative(i, key, value)
	}
	if pluginKeys[k] {
		return true, errPlugin(key)
	}
	if near := nearestKey(key); near != "" {
		return true, &ParseError{Key: key, Err: reason(ErrUnknownKey, "unknown key; did you mean "+near+"?")}
	}
	return false, nil
}

// addIAM records one IAM key. Two keys for one field must agree; an empty
// value is taken as absent.
func (c *collector) addIAM(i int, key, value string) error {
	c.ours(key, "IAM "+iamSpecs[i].Field)
	spec := &iamSpecs[i]
	v, err := readValue(spec.kind, spec.Want, spec.min, spec.max, key, value)
	if err != nil || v == "" {
		return err
	}
	if c.iamKeys[i] != "" {
		if c.iamVal[i] != v {
			// Values are not quoted: some are secrets.
			return conflict(key, c.iamKeys[i], spec.Field)
		}
		return nil
	}
	c.iamKeys[i], c.iamVal[i] = key, v
	return nil
}

// readValue reads the value of an IAM or plugin key of kind, and returns
// it normalised: trimmed, booleans "1" or "0", seconds and ports without
// leading zeros, lists trimmed item by item; "" for an empty value, which
// is taken as absent.
func readValue(kind iamKind, want string, min, max int, key, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", nil
	}
	switch kind {
	case iamBool:
		switch strings.ToLower(v) {
		case "1", "true", "on", "yes":
			v = "1"
		case "0", "false", "off", "no":
			v = "0"
		default:
			return "", valueError(key, value, ErrSyntax, "want "+want+", got ")
		}
	case iamSeconds:
		if strings.Trim(v, "0123456789") != "" {
			return "", valueError(key, value, ErrSyntax, "want "+want+", got ")
		}
		v = strings.TrimLeft(v, "0")
		if len(v) > 6 || atoi(v) < min || atoi(v) > max {
			return "", valueError(key, value, ErrRange, "want "+want+", got ")
		}
	case iamPort:
		if strings.Trim(v, "0123456789") != "" || len(v) > 5 {
			return "", valueError(key, value, ErrSyntax, "want "+want+", got ")
		}
		if n := atoi(v); n < 1 || n > 65535 {
			return "", valueError(key, value, ErrRange, "want "+want+", got ")
		}
		v = strings.TrimLeft(v, "0")
	case iamList:
		var items []string
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v = strings.Join(items, ",")
	case iamRegexp:
		if _, err := regexp.Compile(v); err != nil {
			return "", valueError(key, value, ErrSyntax, "want "+want+", got ")
		}
	case iamURL:
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", valueError(key, value, ErrSyntax, "want "+want+", got ")
		}
	}
	return v, nil
}

// errPlugin refuses key, a key of an identity-provider plugin redshift-ka
// does not support.
func errPlugin(key string) error {
	return &ParseError{Key: key, Err: reason(ErrNotSupported,
		"not supported (an authentication profile, or an attribute of a SAML assertion); give the connection's keys in the DSN")}
}

// atoi reads a few decimal digits (callers check the length); "" is 0.
func atoi(s string) int {
	n := 0
	for _, d := range s {
		n = n*10 + int(d-'0')
	}
	return n
}

// finishIAM builds the IAM login the DSN asks for, or nil, once all its
// keys are read. host is the (first) host the DSN names, user its
// database user and dbname its database, each "" if it names none.
// Without IAM, every IAM key is listed in Config.Ignored.
func (c *collector) finishIAM(host, user, dbname string) (*IAM, error) {
	if c.iamVal[iamSwitch] != "1" {
		if err := c.finishPlugin(nil); err != nil {
			return nil, err
		}
		c.dropIAMKeys()
		return nil, nil
	}
	v := &c.iamVal
	iam := &IAM{
		ClusterID: v[iamClusterID], Workgroup: v[iamWorkgroup], Region: v[iamRegion],
		DbUser: v[iamDbUser], AutoCreate: v[iamAutoCreate] == "1", DurationSeconds: atoi(v[iamDuration]),
		Profile: v[iamProfile], AccessKeyID: v[iamAccessKeyID], SecretAccessKey: v[iamSecretAccessKey],
		SessionToken: v[iamSessionToken], EndpointURL: v[iamEndpointURL], STSEndpointURL: v[iamSTSEndpointURL],
		GroupFederation: v[iamGroupFederation] == "1", ForceLowercase: v[iamForceLowercase] == "1",
		Serverless: v[iamServerless] == "1", DbName: dbname,
		HTTPSProxyHost: v[iamProxyHost], HTTPSProxyPort: atoi(v[iamProxyPort]),
		HTTPSProxyUser: v[iamProxyUser], HTTPSProxyPassword: v[iamProxyPassword],
		DisableCache: v[iamDisableCache] == "1",
	}
	if v[iamDbGroups] != "" {
		groups := v[iamDbGroups]
		if iam.ForceLowercase {
			// JDBC IamHelper.setIAMProperties, ODBC RsIamClient::SendClusterCredentialsRequest.
			groups = strings.ToLower(groups)
		}
		iam.DbGroups = strings.Split(groups, ",")
	}
	if iam.DbUser == "" {
		// As JDBC and redshift_connector do: the DSN's user.
		iam.DbUser = user
	}
	switch {
	case iam.AccessKeyID != "" && iam.SecretAccessKey == "":
		return nil, &ParseError{Key: c.iamKeys[iamAccessKeyID], Err: reason(ErrMissing,
			"static AWS credentials need SecretAccessKey (secret_access_key) too")}
	case iam.SecretAccessKey != "" && iam.AccessKeyID == "":
		return nil, &ParseError{Key: c.iamKeys[iamSecretAccessKey], Err: reason(ErrMissing,
			"static AWS credentials need AccessKeyID (access_key_id) too")}
	case iam.SessionToken != "" && iam.AccessKeyID == "":
		return nil, &ParseError{Key: c.iamKeys[iamSessionToken], Err: reason(ErrMissing,
			"a session token goes with AccessKeyID (access_key_id) and SecretAccessKey (secret_access_key)")}
	case iam.Profile != "" && iam.AccessKeyID != "":
		// JDBC IamHelper.setIAMCredentials: "Conflict in connection
		// property setting Profile and AccessKeyID".
		return nil, &ParseError{Key: c.iamKeys[iamAccessKeyID], Err: reason(ErrConflict,
			"conflicts with "+c.iamKeys[iamProfile]+": give AWS credentials either as a profile or as keys, as Amazon's JDBC driver requires")}
	case iam.HTTPSProxyHost != "" && iam.HTTPSProxyPort == 0:
		return nil, &ParseError{Key: c.iamKeys[iamProxyHost], Err: reason(ErrMissing, "a proxy needs https_proxy_port too")}
	case iam.HTTPSProxyHost == "" && (iam.HTTPSProxyPort != 0 || iam.HTTPSProxyUser != "" || iam.HTTPSProxyPassword != ""):
		key := c.iamKeys[iamProxyPort]
		if key == "" {
			key = c.iamKeys[iamProxyUser]
		}
		if key == "" {
			key = c.iamKeys[iamProxyPassword]
		}
		return nil, &ParseError{Key: key, Err: reason(ErrMissing, "goes with https_proxy_host, which is not given")}
	}
	if iam.ClusterID != "" && iam.Workgroup != "" {
		return nil, &ParseError{Key: c.iamKeys[iamWorkgroup], Err: reason(ErrConflict,
			"conflicts with "+c.iamKeys[iamClusterID]+": IAM login is to a provisioned cluster or a serverless workgroup, not both")}
	}
	cluster, workgroup, region := endpointParts(host)
	if iam.ClusterID == "" && iam.Workgroup == "" {
		iam.ClusterID, iam.Workgroup = cluster, workgroup
	}
	if iam.Region == "" {
		iam.Region = region
	}
	switch {
	case host == "" && c.emptyHost != "":
		// pgx would read the empty host after the one put in for the
		// lookup, and connect to a local socket with the issued password.
		return nil, &ParseError{Key: c.emptyHost, Err: reason(ErrSyntax,
			"IAM login: the host is empty; give the cluster's endpoint, or leave the key out to look the endpoint up")}
	case host == "":
		// redshift_connector IamHelper.set_cluster_host_and_port, JDBC
		// IamHelper.callDescribeClustersAPIForV1, ServerlessIamHelper.describeConfiguration.
		iam.LookupEndpoint = true
		if iam.ClusterID == "" && iam.Workgroup == "" {
			return nil, &ParseError{Key: c.iamKeys[iamSwitch], Err: reason(ErrMissing,
				"IAM login without a host needs ClusterID (cluster_identifier) or Workgroup (serverless_work_group) to look the endpoint up")}
		}
		// The name stands in the host handed on (LookupHost): AWS allows
		// letters, digits and hyphens in both, and a ',' or '/' there
		// would make pgx read other hosts or a local socket.
		for _, f := range []int{iamClusterID, iamWorkgroup} {
			if strings.Trim(c.iamVal[f], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
				return nil, valueError(c.iamKeys[f], c.iamVal[f], ErrSyntax, "want a cluster or workgroup name (letters, digits and hyphens), got ")
			}
		}
	case cluster == "" && workgroup == "" && region == "" && net.ParseIP(host) == nil && !localSocket(host):
		// Neither an endpoint name nor an address: a custom domain name
		// (redshift_connector RedshiftProperty.set_is_cname, JDBC
		// IamHelper.setIAMProperties). An address cannot carry one.
		iam.CustomDomain = host
	}
	if iam.ClusterID == "" && iam.Workgroup == "" && iam.CustomDomain == "" {
		return nil, &ParseError{Key: c.iamKeys[iamSwitch], Err: reason(ErrMissing,
			"IAM login needs ClusterID (cluster_identifier) for a provisioned cluster or Workgroup (serverless_work_group) "+
				"for Redshift Serverless, or a host name <cluster>.<id>.<region>.redshift.amazonaws.com or "+
				"<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com to take them from, or a custom domain name")}
	}
	if err := c.finishPlugin(iam); err != nil {
		return nil, err
	}
	if !iam.Serverless && iam.Workgroup == "" && !iam.GroupFederation && iam.DbUser == "" && iam.SAML.Plugin == "" {
		// redshift_connector IamHelper.set_cluster_credentials: "db_user
		// must be specified"; JDBC and ODBC call GetClusterCredentials,
		// which requires it. A SAML assertion may give it.
		return nil, &ParseError{Key: c.iamKeys[iamSwitch], Err: reason(ErrMissing,
			"IAM login to a provisioned cluster needs DbUser (db_user, or the DSN's user) for GetClusterCredentials, "+
				"or group_federation=true for GetClusterCredentialsWithIAM as the IAM identity's own user")}
	}
	return iam, nil
}

// endpointParts reads a Redshift endpoint host name as Amazon's drivers
// do: <cluster>.<id>.<region>.redshift.amazonaws.com gives the cluster and
// region, <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com
// the workgroup and region, <account>.<region>.redshift-serverless.amazonaws.com
// the region. Anything may follow "amazonaws.com" (".cn").
func endpointParts(host string) (cluster, workgroup, region string) {
	labels := strings.Split(asciiLower(host), ".")
	for i := 1; i+2 < len(labels); i++ {
		if labels[i+1] != "amazonaws" || labels[i+2] != "com" {
			continue
		}
		switch labels[i] {
		case "redshift", "redshift-dev":
			if i >= 3 {
				return strings.Join(labels[:i-2], "."), "", labels[i-1]
			}
		case "redshift-serverless", "redshift-serverless-dev":
			if i >= 3 {
				return "", strings.Join(labels[:i-2], "."), labels[i-1]
			}
			return "", "", labels[i-1]
		}
		return "", "", ""
	}
	return "", "", ""
}
