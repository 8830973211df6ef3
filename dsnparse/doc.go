// Package dsnparse reads the keep-alive settings, and the IAM or
// identity-provider login, out of a PostgreSQL or Amazon Redshift data
// source name, and hands back the rest of the DSN for pgx or lib/pq
// without them.
//
// # Forms
//
// Four forms are read, told apart by their look:
//
//	postgres://user:pw@host:5439/dev?sslmode=require&KeepAlivesIdle=200
//	host=example port=5439 dbname=dev keepalives_idle=200
//	Server=example;Port=5439;Database=dev;UID=me;PWD=secret;KeepAlivesIdle=200
//	jdbc:redshift://example:5439/dev?user=me&password=secret&tcpKeepAlive=true
//
// An ODBC string is converted to the key=value form, with Port 5439 when it
// has none, as in Amazon's ODBC driver; keys that only an ODBC driver reads
// (Driver, for example) are dropped and listed in [Config.Ignored].
//
// A JDBC URL (jdbc:redshift:// or jdbc:redshift:iam://, as Amazon's Redshift
// JDBC driver reads them) is converted to the key=value form too: host,
// port (5439 when absent) and dbname from the URL; user or UID, password or
// PWD, sslmode, ApplicationName, sslrootcert, sslcert,
// sslkey, sslpassword and options under libpq's names; ssl=true as
// sslmode=verify-ca and ssl=false as sslmode=disable unless sslmode is given.
// Its query starts at the first '?' (or, without one, the first ';'), its
// parameters are separated by '&' or ';', and values are %-escaped with '+'
// for a space, as the JDBC driver reads them. Its keep-alive and timeout
// keys are read as the table below says; every other JDBC key (readOnly,
// and keys the JDBC driver does not know) is dropped and listed in
// [Config.Ignored]. User info before an '@' in the host is refused: JDBC
// has none.
//
// # ODBC data sources
//
// DSN=name in an ODBC string reads the data source [name] from the first
// odbc.ini that has it, as unixODBC finds them: the user's, $ODBCINI or
// else ~/.odbc.ini, then the system's, odbc.ini in the directory
// $ODBCSYSINI or else /etc/odbc.ini. Keys in the connection string
// override the file's, setting by setting (Host in the string overrides
// Server in the file). [KeyUse.From] names the file of each key read there.
//
// # Keys
//
// [Keys] is the table of every key redshift-ka owns: the ODBC names in
// plural and singular (KeepAlivesIdle, KeepAliveIdle), libpq's
// (keepalives_idle) and redshift_connector's (tcp_keepalive_idle). Keys
// match case-insensitively in every form. A value of 0, like an absent key,
// means "the operating system's value": [Config]'s zero value is "all from
// the OS, keep-alive on".
//
// Every key not in the table is left for pgx or lib/pq as written. Those
// drivers send a key they do not know to the server as a run-time
// parameter, which the server refuses, so the owned keys must not reach
// them. A key close to one of ours but none of them (KeepAliveIdel: one
// that differs by a letter or two) is refused with [ErrUnknownKey] and a
// "did you mean"; server parameters (search_path, statement_timeout,
// application_name, ...) pass. [DSN.Keys] says where each key went, and
// [Config.Warnings] names settings that look like mistakes: a
// tcp_user_timeout under a second (its unit is milliseconds) or under
// idle + interval x count.
//
// # Amazon's keep-alive and timeout keys
//
// The keep-alive and timeout keys of Amazon's ODBC driver, JDBC driver and
// Python driver (redshift_connector) are read in every form, as this table
// says, never dropped in silence. A time limit on each read or statement
// would end a long COPY or UNLOAD on a healthy connection, so those keys
// are refused unless 0; keep-alive does the job of noticing a dead path.
// Sources are files of github.com/aws/amazon-redshift-odbc-driver (commit
// af2dfff), amazon-redshift-jdbc-driver (de46a92) and
// amazon-redshift-python-driver (d2c7524):
//
//	KeepAlive (ODBC): SO_KEEPALIVE on or off; 1/0, default 1
//	    redshift-ka: sets KeepAlive
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsodbc.h RS_KEEP_ALIVE, rsconnect.cpp, rslibpq.c (keepalives)
//	KeepAliveIdle (ODBC): idle time before the first probe; seconds, default the OS's
//	    redshift-ka: sets KeepAlivesIdle
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsodbc.h RS_KEEP_ALIVE_IDLE, rslibpq.c (keepalives_idle)
//	KeepAliveInterval (ODBC): time between probes; seconds, default the OS's
//	    redshift-ka: sets KeepAlivesInterval
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsodbc.h RS_KEEP_ALIVE_INTERVAL, rslibpq.c (keepalives_interval)
//	KeepAliveCount (ODBC): unanswered probes before the end; probes, default the OS's
//	    redshift-ka: sets KeepAlivesCount
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsodbc.h RS_KEEP_ALIVE_COUNT, rslibpq.c (keepalives_count)
//	LoginTimeout (ODBC, JDBC): time limit to connect and log in; seconds, default 0 (none)
//	    redshift-ka: goes on as connect_timeout (seconds)
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsconnect.cpp (also LT), rslibpq.c (connect_timeout); amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/RedshiftProperty.java LOGIN_TIMEOUT
//	LT (ODBC): short name of LoginTimeout; seconds, default 0 (none)
//	    redshift-ka: goes on as connect_timeout (seconds)
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsconnect.cpp
//	QueryTimeout (ODBC): time limit of each statement; seconds, default 0 (none)
//	    redshift-ka: refused unless 0: it would end a long COPY or UNLOAD on a healthy connection; keep-alive finds a dead path
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsodbc.h RS_QUERY_TIMEOUT, rsconnect.cpp (also QT)
//	QT (ODBC): short name of QueryTimeout; seconds, default 0 (none)
//	    redshift-ka: refused unless 0: it would end a long COPY or UNLOAD on a healthy connection; keep-alive finds a dead path
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/rsconnect.cpp
//	tcpKeepAlive (JDBC): SO_KEEPALIVE on or off; true/false, default true
//	    redshift-ka: sets KeepAlive
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/RedshiftProperty.java TCP_KEEP_ALIVE, core/v3/ConnectionFactoryImpl.java
//	TCPKeepAliveMinutes (JDBC): idle time before the first probe; minutes; in Amazon's docs (TCP keepalives), a commented-out setting in the source
//	    redshift-ka: sets KeepAlivesIdle (minutes x 60)
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/core/RedshiftJDBCSettings.java
//	connectTimeout (JDBC): time limit to open the socket; seconds, default 10
//	    redshift-ka: goes on as connect_timeout (seconds)
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/RedshiftProperty.java CONNECT_TIMEOUT
//	socketTimeout (JDBC): time limit of each socket read; seconds, default 0 (none)
//	    redshift-ka: refused unless 0: it would end a long COPY or UNLOAD on a healthy connection; keep-alive finds a dead path
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/RedshiftProperty.java SOCKET_TIMEOUT, core/v3/ConnectionFactoryImpl.java
//	tcp_keepalive (Python): SO_KEEPALIVE on or off; True/False, default True
//	    redshift-ka: sets KeepAlive
//	    source: amazon-redshift-python-driver redshift_connector/core.py Connection.__init__
//	tcp_keepalive_idle (Python): idle time before the first probe; seconds, default the OS's
//	    redshift-ka: sets KeepAlivesIdle
//	    source: amazon-redshift-python-driver redshift_connector/core.py (TCP_KEEPIDLE)
//	tcp_keepalive_interval (Python): time between probes; seconds, default the OS's
//	    redshift-ka: sets KeepAlivesInterval
//	    source: amazon-redshift-python-driver redshift_connector/core.py (TCP_KEEPINTVL)
//	tcp_keepalive_count (Python): unanswered probes before the end; probes, default the OS's
//	    redshift-ka: sets KeepAlivesCount
//	    source: amazon-redshift-python-driver redshift_connector/core.py (TCP_KEEPCNT)
//	timeout (Python): time limit of each socket operation; seconds, default None (none)
//	    redshift-ka: refused unless 0: it would end a long COPY or UNLOAD on a healthy connection; keep-alive finds a dead path
//	    source: amazon-redshift-python-driver redshift_connector/core.py (socket.settimeout)
//
// Amazon documents TCPKeepAliveMinutes for its JDBC driver ("Configuring
// TCP keepalives for your JDBC connection"); the 2.x source keeps it only
// as a commented-out setting, so its default there is the OS's idle time.
//
// # Where pgx and lib/pq disagree
//
// A DSN the two backends would read differently is refused rather than
// guessed. In a URL the query is everything after the first '?', as pgx
// reads it, so a '#' is part of a value (KeepAlivesIdle=200#note is refused;
// lib/pq would end the value at the '#'), and a control character is
// refused there too; a '?' before the '@' of the user info is refused
// (write it %3F); query keys may be %-escaped, and a key
// lib/pq would read as one of ours (+keepalives_idle) is taken out too. In
// the key=value form, keys only ODBC reads (Server, UID, PWD, Driver, DSN)
// are refused, and so is white space other than ASCII in an unquoted value.
//
// # IAM login
//
// IAM=1 in an ODBC string or odbc.ini data source, iam=true
// (redshift_connector's key) in a URL or key=value DSN, IAMAuth=true or the
// jdbc:redshift:iam:// scheme in a JDBC URL ask for a login with temporary
// credentials from the Redshift API; [DSN.IAM] then holds what the DSN says
// about it, and is nil otherwise. Every form accepts its keys under every
// name, in any case:
//
//	IAM              IAM, IAMAuth (and jdbc:redshift:iam://)
//	ClusterID        ClusterID, cluster_identifier
//	Workgroup        Workgroup, serverlessWorkGroup, serverless_work_group
//	Region           Region
//	DbUser           DbUser, db_user
//	DbGroups         DbGroups, db_groups (comma-separated)
//	AutoCreate       AutoCreate, auto_create
//	DurationSeconds  IAMDuration (900..3600)
//	Profile          Profile
//	AccessKeyID      AccessKeyID, access_key_id
//	SecretAccessKey  SecretAccessKey, secret_access_key
//	SessionToken     SessionToken, session_token
//	EndpointURL      EndpointUrl, endpoint_url
//	STSEndpointURL   StsEndpointUrl (an http or https URL)
//	GroupFederation  group_federation, groupFederation
//	ForceLowercase   ForceLowercase, force_lowercase
//	Serverless       Serverless, isServerless, is_serverless
//	HTTPSProxyHost   https_proxy_host (and _port, _username, _password)
//	DisableCache     IAMDisableCache, iam_disable_cache, DisableCache
//
// Booleans are 1/0, true/false, on/off or yes/no; an empty value is taken
// as absent. In a URL, as for the other keys of ours, a '+' is a '+' (write
// a space as %20); in a JDBC URL a '+' is a space. The IAM keys never reach
// pgx or lib/pq; in a DSN that does not ask for IAM they are dropped and
// listed in [Config.Ignored], with the keys of IAM login that redshift-ka has
// no use for (serverless_acct_id, AuthType,
// InstanceProfile, StsConnectionTimeout, vpc_endpoint_url, CaPath, ...).
// So are, in every form, the other keys of Amazon's ODBC driver (rsodbc.h:
// ProxyHost, ProxyPwd, Trace, ...) and JDBC driver (RedshiftProperty:
// readOnly, defaultRowFetchSize, ...)
// that PostgreSQL does not know: the server would refuse them. Each
// [IgnoredKey] says whose key it is and what it does there; an IAM key in
// a DSN without iam=true points at it.
//
// The cluster (or workgroup) and region are taken from the host name when
// the DSN does not give them, as Amazon's drivers do:
// <cluster>.<id>.<region>.redshift.amazonaws.com, or
// <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com. Any
// other host name is a custom domain name (a CNAME or a load balancer),
// [IAM.CustomDomain]: its cluster is asked of AWS, or, with Serverless=true
// and no workgroup, it names the workgroup; an IP address is not one. A
// DSN without a host needs a cluster or workgroup, whose endpoint is looked
// up ([IAM.LookupEndpoint]); the DSN handed to pgx or lib/pq then names
// the host [IAM.LookupHost]. jdbc:redshift:iam://<cluster>:<region>/<db>,
// JDBC's own form, is one. A DSN with both a cluster and a workgroup, with
// none of them and no custom domain, or (provisioned, without
// group_federation) without a user, is refused. DbUser is, as in the JDBC
// driver and redshift_connector, the DSN's DbUser, else its user (user,
// UID, or a URL's user info), but with a SAML plugin (below); the DSN's
// password is not used. The DSN's
// database is [IAM.DbName]. ForceLowercase lower-cases DbGroups. Profile
// together with AccessKeyID is refused, as the JDBC driver refuses it.
// https_proxy_host needs https_proxy_port; https_proxy_password is masked
// as a password is, and so is the user info of an EndpointUrl or a
// StsEndpointUrl.
//
// An IAM login requires TLS, as Amazon's three drivers do: without sslmode
// (AuthMech, or ssl in a JDBC URL) the DSN handed on gets sslmode=verify-ca,
// their default, which checks the server's certificate against sslrootcert
// or the system's roots; sslmode disable, allow and prefer, JDBC's
// ssl=false, and values pgx does not know are refused with
// [ErrTLSRequired], before any AWS call. require and verify-full are kept.
//
// # Identity-provider plugins
//
// plugin_name (credentials_provider in redshift_connector) names the
// plugin, in any package prefix (com.amazon.redshift.plugin.,
// redshift_connector.plugin.) and any case, by its JDBC and Python class
// name or its ODBC name. The plugins that get AWS credentials from STS
// need IAM=1 (iam=true, jdbc:redshift:iam://), as Amazon's drivers do,
// and refuse AccessKeyID, SecretAccessKey, SessionToken and Profile:
// [IAM.WebIdentity] or [IAM.SAML] holds their keys. For the SAML ones
// that sign in with a password, the DSN's user and password (user, UID;
// password, PWD) are the identity provider's; DbUser, DbGroups and
// AutoCreate, unless the DSN gives them, come from the assertion at login.
// The native plugins, whose token Redshift checks itself, fill
// [DSN.Native], and an IAM switch beside them turns no IAM login on
// (ODBC asks for IAM=1 with JWT and BrowserAzureADOAuth2); the IAM
// Identity Center ones refuse it, as JDBC does. IdpTokenAuthPlugin without
// token exchanges AccessKeyID, SecretAccessKey and SessionToken for one
// ([Native.Exchange]), for the cluster or workgroup and region of
// ClusterID, Workgroup, Region or the host name, as for an IAM login. The
// plugins, what each needs and reads, and where Amazon's drivers define
// them (github.com/aws/...):
//
//	AdfsCredentialsProvider (ODBC: ADFS): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: user (UID), password (PWD), idp_host
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, idp_port, loginToRp
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/AdfsCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/adfs_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMAdfsCredentialsProvider.cpp
//	AzureCredentialsProvider (ODBC: AzureAD): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: user (UID), password (PWD), idp_tenant, client_id, client_secret
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, idp_partition
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/AzureCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/azure_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMAzureCredentialsProvider.cpp
//	BasicSamlCredentialsProvider: IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: saml_assertion
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BasicSamlCredentialsProvider.java (JDBC only)
//	BrowserAzureCredentialsProvider (ODBC: BrowserAzureAD): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: idp_tenant, client_id
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, idp_partition, listen_port, idp_response_timeout
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BrowserAzureCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/browser_azure_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMBrowserAzureCredentialsProvider.cpp
//	BrowserSamlCredentialsProvider (ODBC: BrowserSAML): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: login_url
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, listen_port, idp_response_timeout
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BrowserSamlCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/browser_saml_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMBrowserSamlCredentialsProvider.cpp
//	JwtIamAuthPlugin: IAM=1; STS AssumeRoleWithWebIdentity (IAM.WebIdentity)
//	    needs: web_identity_token, role_arn
//	    reads: role_session_name, duration
//	    source: amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMJwtPluginCredentialsProvider.cpp (ODBC only)
//	OktaCredentialsProvider (ODBC: Okta): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: user (UID), password (PWD), idp_host, app_id
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, idp_port, app_name
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/OktaCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/okta_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMOktaCredentialsProvider.cpp
//	PingCredentialsProvider (ODBC: Ping): IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)
//	    needs: user (UID), password (PWD), idp_host
//	    reads: duration, preferred_role, ssl_insecure, idp_use_https_proxy, dbgroups_filter, idp_port, partner_spid
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/PingCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/ping_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMPingCredentialsProvider.cpp
//	BasicJwtCredentialsProvider (ODBC: JWT): native, idp_type AzureAD (DSN.Native)
//	    needs: web_identity_token
//	    reads: provider_name
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BasicJwtCredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/jwt_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMJwtBasicCredentialsProvider.cpp
//	BrowserAzureOAuth2CredentialsProvider (ODBC: BrowserAzureADOAuth2): native, idp_type AzureAD (DSN.Native)
//	    needs: idp_tenant, client_id
//	    reads: provider_name, idp_partition, scope, listen_port, idp_response_timeout, ssl_insecure
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BrowserAzureOAuth2CredentialsProvider.java; amazon-redshift-python-driver redshift_connector/plugin/browser_azure_oauth2_credentials_provider.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IAMBrowserAzureOAuth2CredentialsProvider.cpp
//	BrowserIdcAuthPlugin: native, idp_type AwsIdc (DSN.Native)
//	    needs: issuer_url, idc_region
//	    reads: provider_name, identity_namespace, idc_client_display_name, listen_port, idp_response_timeout
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/BrowserIdcAuthPlugin.java; amazon-redshift-python-driver redshift_connector/plugin/browser_idc_auth_plugin.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/BrowserIdcAuthPlugin.cpp
//	IdpTokenAuthPlugin: native, idp_type AwsIdc (DSN.Native)
//	    needs: token and token_type, or AccessKeyID, SecretAccessKey and SessionToken (Exchange)
//	    reads: provider_name, identity_namespace
//	    source: amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/plugin/IdpTokenAuthPlugin.java; amazon-redshift-python-driver redshift_connector/plugin/idp_token_auth_plugin.py; amazon-redshift-odbc-driver src/odbc/rsodbc/iam/plugins/IdpTokenAuthPlugin.cpp
//
//	role_arn, roleArn: an IAM role ARN
//	role_session_name, roleSessionName: a role session name
//	duration: whole seconds 900..43200
//	idp_host: the identity provider's host name
//	idp_port: a port 1..65535
//	preferred_role: an IAM role ARN
//	ssl_insecure: 1/0, true/false, on/off or yes/no
//	app_id: the Okta application's ID
//	app_name: the Okta application's name
//	partner_spid, partner_sp_id: a SAML service provider ID
//	loginToRp, login_to_rp: a relying party ID
//	idp_tenant: an Azure AD tenant ID
//	idp_partition: an Azure cloud partition (us-gov, cn)
//	client_id: an OAuth client ID
//	client_secret: an OAuth client secret (a secret)
//	saml_assertion: a SAML assertion, base64 (a secret)
//	login_url: the identity provider's sign-in URL
//	listen_port: a port 1..65535
//	idp_response_timeout: whole seconds 10..86400
//	idp_use_https_proxy: 1/0, true/false, on/off or yes/no
//	scope: OAuth scopes, space-separated
//	issuer_url: the IAM Identity Center issuer URL
//	idc_region: an AWS region
//	idc_client_display_name: a display name
//	dbgroups_filter, dbGroupsFilter: a regular expression (Go's RE2 syntax) matching whole group names
//
// Amazon's defaults fill what the DSN leaves out: idp_port 443,
// listen_port 7890 (a free port for the Azure browser plugins),
// idp_response_timeout 120 s, app_name amazon_aws, partner_spid and
// loginToRp urn:amazon:webservices. Passwords, client_secret,
// saml_assertion, the tokens and the AWS keys are masked as a password
// is. A plugin key without a plugin that reads it, a key of another
// plugin, a plugin without what it needs, and plugins not in the table
// (BrowserOktaSAMLCredentialsProvider, ...) are refused, with
// [ErrMissing], [ErrConflict] or [ErrNotSupported], so that a DSN never
// logs in some other way than asked. JwtIamAuthPlugin without DbUser or a
// user takes the database user from the token's DbUser, upn,
// preferred_username or email claim, created if need be, as ODBC's plugin
// does. The startup message of a native login adds plugin_name, idp_type,
// provider_name, and for IAM Identity Center token_type,
// identity_namespace and idc_client_display_name ([Native.StartupParams]).
//
// # Errors
//
// Errors are [*ParseError] values that name the key, the value and the
// accepted range, and wrap [ErrSyntax], [ErrRange], [ErrConflict],
// [ErrMalformed], [ErrDataSource], [ErrNotSupported], [ErrMissing],
// [ErrUnknownKey] or [ErrTLSRequired]. A key given twice with two values
// is "set twice". A URL scheme that is none of the four forms'
// (redshift://, jdbc:postgresql://) is refused as such. No
// error contains a password or an AWS secret, and a [DSN] or [IAM] prints
// and encodes to JSON with them masked.
package dsnparse
