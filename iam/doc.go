// Package iam logs in to Amazon Redshift with temporary credentials from
// the Redshift API, as Amazon's ODBC, JDBC and Python drivers do for a DSN
// with IAM=1. Import it for its side effect, next to the driver:
//
//	import (
//		_ "github.com/redshift-ka/redshift-ka/driver"
//		_ "github.com/redshift-ka/redshift-ka/iam"
//	)
//
//	db, err := sql.Open("redshift-ka",
//		"Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;IAM=1;DbUser=etl;DbGroups=loaders")
//
// It works the same for the lib/pq backend (driver/pq), for
// driver.ParseConfig with pgx.ConnectConfig, for driver.ParsePoolConfig
// with pgxpool, and for odbc.ini data sources with IAM = 1. Without the
// import, a DSN that asks for IAM fails at sql.Open with
// [github.com/redshift-ka/redshift-ka/driver.ErrNoIAM]: programs that do not
// use IAM do not link the AWS SDK. See
// [github.com/redshift-ka/redshift-ka/dsnparse.IAM] for the DSN keys.
//
// # The call
//
// The AWS SDK for Go v2 loads the AWS configuration
// (config.LoadDefaultConfig): the environment, the shared config and
// credentials files with the DSN's Profile, web identity, container and
// instance roles; AccessKeyID, SecretAccessKey and SessionToken in the DSN
// take the place of that chain, and Region that of the SDK's region. Then:
//
//   - Redshift Serverless (a workgroup, or Serverless=true with a custom
//     domain name as host): redshift-serverless GetCredentials
//     (workgroupName, else customDomainName; dbName, durationSeconds),
//     which logs in as the IAM identity's own user;
//   - a provisioned cluster with group_federation=true:
//     GetClusterCredentialsWithIAM (ClusterIdentifier or CustomDomainName,
//     DbName, DurationSeconds), as the IAM identity's own user with its
//     groups, whatever DbUser says;
//   - otherwise GetClusterCredentials (ClusterIdentifier or
//     CustomDomainName, DbUser, DbGroups, AutoCreate, DbName,
//     DurationSeconds); a DSN without a user is refused at sql.Open.
//
// This is how Amazon's drivers choose (ODBC RsIamClient::Connect, JDBC
// IamHelper.findTypeOfGetClusterCredentialsAPI); redshift_connector alone
// calls GetClusterCredentialsWithIAM for Serverless with group_federation,
// and JDBC's choice is followed. DbName is the DSN's database, so that the
// credentials are for it alone.
//
// The connection logs in as the user the API returns ("IAM:etl") with the
// password it issued. The endpoint is the SDK's, which
// AWS_ENDPOINT_URL_REDSHIFT, AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS and
// AWS_ENDPOINT_URL override, and the DSN's EndpointUrl overrides both.
// https_proxy_host, https_proxy_port, https_proxy_username and
// https_proxy_password (ODBC's keys) send the API calls through that HTTP
// proxy, as ODBC's RsIamClient does; the database connection does not use
// it.
//
// # Web identity
//
// plugin_name=JwtIamAuthPlugin, the plugin of Amazon's ODBC driver
// (JwtIamAuthPlugin.cpp, IAMJwtPluginCredentialsProvider.cpp; JDBC and
// redshift_connector have no web identity plugin through IAM: their JWT
// plugins are Redshift's native login), first calls STS
// AssumeRoleWithWebIdentity with web_identity_token, role_arn,
// role_session_name and duration, unsigned as the AWS SDK sends it, then
// the API above signed with the keys STS issued:
//
//	IAM=1;plugin_name=JwtIamAuthPlugin;web_identity_token=eyJ...;role_arn=arn:aws:iam::123456789012:role/etl
//
// STS's endpoint is the DSN's StsEndpointUrl, else the SDK's
// (AWS_ENDPOINT_URL_STS), through https_proxy_host if set. The STS keys are kept by the connector until two
// minutes before they expire, and the credentials the API issues are
// cached as above, keyed on the token, role and session name too: 20
// connections dialed at once make one STS call and one API call. A failure
// names the step and the role, never the token:
//
//	redshift-ka: STS AssumeRoleWithWebIdentity for role arn:...:role/etl, for cluster etl-prod: ExpiredTokenException: Token expired: ...
//
// A plain IAM DSN needs no plugin where the SDK's chain has a web identity
// (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS): the SDK
// assumes the role, reading the file anew each time. That chain's STS
// client reads AWS_ENDPOINT_URL_STS but not AWS_ENDPOINT_URL; the DSN's
// StsEndpointUrl overrides it, for a profile's role_arn too, as ODBC's
// IAMProfileCredentialsProvider does.
//
// # No host
//
// A DSN without a host (redshift_connector's iam=True with
// cluster_identifier, JDBC's jdbc:redshift:iam://cluster:region/db) looks
// the endpoint up at a connector's first connection, with
// DescribeClusters (a cluster) or redshift-serverless GetWorkgroup (a
// workgroup), as all three drivers do; the port is the answer's, 5439 if
// it gives none. Concurrent connections share one lookup. A failed
// lookup is not kept, and a failed dial to the address looked up drops
// it (a resized or relocated cluster moves): the next connection asks
// again. With sslmode=verify-full the server's certificate is checked
// against the name looked up.
//
// # Custom domain names
//
// A host that is not a Redshift endpoint's name (nor an IP address) is a
// custom domain name, as Amazon's drivers take it. For a provisioned
// cluster the login asks DescribeCustomDomainAssociations once per
// connector for its cluster, then names the domain (CustomDomainName); if
// that call fails it is made again with the cluster identifier (JDBC
// IamHelper.getClusterCredentialsResult, redshift_connector
// IamHelper.set_cluster_credentials). A domain AWS does not know, with a
// ClusterID (a load balancer in front of the cluster), logs in with the
// cluster; without one, it fails, naming DescribeCustomDomainAssociations.
// For Serverless, a workgroup given is sent in place of the domain. The
// region is the DSN's Region, else the SDK's: the reverse DNS lookup of the
// host that redshift_connector makes to guess it
// (set_region_from_endpoint_lookup) is not done.
//
// # TLS
//
// An IAM login requires TLS, as Amazon's drivers do: a DSN without sslmode
// connects with sslmode=verify-ca, which checks the server's certificate
// against sslrootcert, or the system's roots without it; sslmode disable,
// allow or prefer, and JDBC's ssl=false, fail at sql.Open with
// [github.com/redshift-ka/redshift-ka/dsnparse.ErrTLSRequired], before any
// AWS call. The issued password never travels in plain text.
//
// # Caching
//
// The credentials are cached once per process and request: every
// connector (sql.Open's database, a ParseConfig or ParsePoolConfig
// configuration, Driver.Open) whose DSN asks for the same call (API,
// cluster or workgroup, user, groups, region, every other IAM key, and the
// AWS environment that selects the credentials and the endpoint) shares
// one call, as Amazon's drivers share theirs, and any number of
// connections dialed at once wait for it. IAMDisableCache=1
// (iam_disable_cache, DisableCache) gives the connector a cache of its
// own: one call per connector.
//
// A tenth of their lifetime (at most a minute) before the credentials
// expire, or at the refresh time the API suggests if sooner (one in the
// past is not honoured), the next new connection starts one renewal in the
// background and logs in with the current credentials meanwhile: a slow
// or failed renewal neither delays nor fails a connection while they are
// valid (a failed one is logged at warning level and tried again an
// eighth of that margin later). Within a quarter of the margin of their
// expiration, new connections wait for new credentials. A failed call is
// not cached: the next connection calls again. Open connections are not
// affected by the expiration: the server checks the password only at
// login. Nothing runs between connections: a renewal is a call in
// progress, bounded by a minute.
//
// # Errors
//
// A failed call gives an [*Error] that names the API, the cluster or
// workgroup, AWS's error code and message and the request id:
//
//	redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: User: ... is not authorized ... (request id 4d1c...)
//
// An endpoint that does not answer gives the same error with the
// context's error in place of AWS's, within the connect timeout. Where
// nothing but the EC2 instance role could give AWS credentials and it
// gave none, the error says in one line which settings give them:
//
//	redshift-ka: GetClusterCredentials for cluster etl-prod: no AWS credentials: set Profile, or AccessKeyID and SecretAccessKey, in the DSN, or AWS_PROFILE, ...
//
// An AWS configuration that cannot be loaded (a Profile that is not
// there) fails the first connection, not sql.Open: the login's plan needs
// none. The SDK's own log lines (its "falling back to IMDSv1" warning)
// go to driver.WithLogger's logger at debug level, or nowhere.
// A failed lookup names DescribeClusters, redshift-serverless GetWorkgroup
// or DescribeCustomDomainAssociations the same way.
// No error, log line (driver.WithLogger) or report shows the secret access
// key, the session token, the proxy's password, the user info of an
// EndpointUrl, or the password issued.
//
// # Identity-provider plugins
//
// Amazon's drivers log in through an identity provider with a plugin named
// by plugin_name (credentials_provider in redshift_connector). A native
// plugin hands Redshift the provider's token, which Redshift checks itself
// (authentication code 14): no AWS credentials, and no need of this
// package (see the driver's docs). The others get AWS credentials from the
// provider and then log in as IAM=1 does. Sources: JDBC
// com/amazon/redshift/plugin/, redshift_connector/plugin/, ODBC
// src/odbc/rsodbc/iam/plugins/ and rsodbc.h (IAM_PLUGIN_*, RS_* keys).
//
//	plugin (JDBC, Python; ODBC)              keys                                    login   redshift-ka
//	BasicJwtCredentialsProvider; JWT         web_identity_token, provider_name       native  supported
//	IdpTokenAuthPlugin                       token, token_type, identity_namespace;  native  supported, both (see
//	                                           or AccessKeyID, SecretAccessKey,                Identity Center
//	                                           SessionToken, Region                            token exchange)
//	BrowserAzureOAuth2CredentialsProvider;   idp_tenant, client_id, scope,           native  supported (see Browser
//	  BrowserAzureADOAuth2                     listen_port, idp_response_timeout             plugins)
//	BrowserIdcAuthPlugin                     issuer_url, idc_region, listen_port,    native  supported (see Browser
//	                                           idc_client_display_name                       plugins)
//	JwtIamAuthPlugin (ODBC)                  web_identity_token, role_arn,           IAM     supported (see Web identity)
//	                                           role_session_name, duration
//	AdfsCredentialsProvider; ADFS            idp_host, idp_port, preferred_role,     IAM     supported (see SAML); not
//	                                           loginToRp, ssl_insecure, duration                Windows integrated sign-in
//	OktaCredentialsProvider; Okta            idp_host, app_id, app_name              IAM     supported (see Okta)
//	PingCredentialsProvider; Ping            idp_host, idp_port, partner_spid,       IAM     supported (see SAML)
//	                                           preferred_role, ssl_insecure, duration
//	AzureCredentialsProvider; AzureAD        idp_tenant, idp_partition, client_id,   IAM     supported (see Azure AD)
//	                                           client_secret
//	BasicSamlCredentialsProvider (JDBC)      saml_assertion, preferred_role,         IAM     supported (see SAML)
//	                                           duration
//	BrowserSamlCredentialsProvider;          login_url, listen_port,                 IAM     supported (see Browser
//	  BrowserSAML                              idp_response_timeout, preferred_role          plugins)
//	BrowserAzureCredentialsProvider;         idp_tenant, idp_partition, client_id,   IAM     supported (see Browser
//	  BrowserAzureAD                           listen_port, idp_response_timeout             plugins)
//
// Every IAM plugin also reads StsEndpointUrl (JDBC, ODBC), the STS
// endpoint of its AssumeRoleWithSAML or AssumeRoleWithWebIdentity; every
// SAML plugin dbgroups_filter (ODBC; JDBC dbGroupsFilter), see SAML.
// redshift_connector has neither.
//
// A DSN that names a plugin not yet supported, or one of its keys, is
// refused at sql.Open with [github.com/redshift-ka/redshift-ka/dsnparse.ErrNotSupported].
//
// # SAML
//
// A SAML plugin gets AWS credentials as Amazon's drivers do (JDBC
// SamlCredentialsProvider.refresh, redshift_connector
// SamlCredentialsProvider.refresh), inside the cached IAM call, so that
// any number of connections dialed at once make one sign-in and one STS
// call between them:
//
//  1. The plugin gets a SAML assertion. ADFS: GET
//     https://idp_host:idp_port/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=login_to_rp
//     (urn:amazon:webservices by default),
//     fill the sign-in form's inputs with the DSN's user and password,
//     POST it, read the SAMLResponse input of the answer (JDBC
//     AdfsCredentialsProvider.formBasedAuthentication). Ping: the same with
//     /idp/startSSO.ping?PartnerSpId=partner_spid and PingFederate's
//     pf.username and pf.pass (JDBC PingCredentialsProvider). BasicSaml:
//     the DSN's saml_assertion. The IdP's certificate is checked unless
//     ssl_insecure; redirects are followed over TLS to the IdP's own
//     host and port only (the port 443 written or not); each
//     answer is read up to 1 MiB, each request bounded by 60 s (JDBC's
//     timeouts).
//  2. The assertion (at most 100000 base64 characters, STS's limit) gives
//     its roles, the "role ARN,principal ARN" pairs of the attribute
//     https://aws.amazon.com/SAML/Attributes/Role, in either order;
//     preferred_role must be one of them, else the first is taken (JDBC
//     takes the first of a hash map, ODBC the alphabetically first,
//     redshift_connector a random one: set preferred_role).
//  3. STS AssumeRoleWithSAML, unsigned, with the role, its principal, the
//     assertion and duration, at StsEndpointUrl else the SDK's STS
//     endpoint (AWS_ENDPOINT_URL_STS), gives AWS credentials, kept until two
//     minutes before they expire and shared by the connectors of the same
//     DSN.
//  4. GetClusterCredentials, signed with them, logs in as the DSN's DbUser,
//     else the assertion's https://redshift.amazon.com/SAML/Attributes/DbUser,
//     else its RoleSessionName (the assertion's first when its
//     AllowDbUserOverride is true), with the DSN's DbGroups, else the
//     assertion's DbGroups but those dbgroups_filter (dbGroupsFilter, an
//     RE2 expression) matches whole, and AutoCreate if either asks, as JDBC's
//     IamHelper and ODBC's IAMSamlPluginCredentialsProvider decide. GetClusterCredentialsWithIAM and Serverless take
//     no user.
//
// A failure names its step (the IdP's: "ADFS sign-in", "Ping sign-in",
// "Okta authn", "Azure AD token endpoint", "browser sign-in", "SAML
// assertion given"; then STS's, then the API's, as redshift-ka check
// lists them), never the IdP password or the assertion; a connect whose
// context ends first names the step under way:
//
//	redshift-ka: ADFS sign-in for cluster etl-prod: ADFS sign-in at adfs.corp.example:443 refused the user's password (...)
//	redshift-ka: ADFS sign-in for cluster etl-prod: context deadline exceeded
//	redshift-ka: STS AssumeRoleWithSAML for cluster etl-prod: the SAML assertion has no role arn:aws:iam::1:role/admin (preferred_role); it has ...
//	redshift-ka: STS AssumeRoleWithSAML for role arn:aws:iam::1:role/etl, for cluster etl-prod: ExpiredTokenException: ...
//
// # Okta
//
// plugin_name=OktaCredentialsProvider (ODBC: Okta) signs in as Amazon's
// drivers do (JDBC OktaCredentialsProvider, redshift_connector
// okta_credentials_provider.py, ODBC IAMOktaCredentialsProvider.cpp):
// POST https://idp_host/api/v1/authn with the user and password (Okta's
// Authentication API) gives a one-time session token, and GET
// https://idp_host/home/app_name/app_id?onetimetoken=... gives the form
// whose SAMLResponse is the assertion of step 1 (see SAML). app_name
// defaults to amazon_aws; idp_port, which the drivers ignore for Okta,
// is honoured. An org that asks the user for a second factor
// (MFA_REQUIRED) is refused, as by the drivers: a browser plugin serves
// it. A wrong password names the step and the user, never the password:
//
//	redshift-ka: Okta authn for cluster etl-prod: Okta refused the password for user ann@corp.example (POST https://corp.okta.com:443/api/v1/authn): E0000004 Authentication failed
//
// # Azure AD
//
// plugin_name=AzureCredentialsProvider (ODBC: AzureAD) asks Azure AD
// (Entra ID) for a SAML token with the user's password, as Amazon's
// drivers do (JDBC AzureCredentialsProvider, redshift_connector
// azure_credentials_provider.py, ODBC IAMAzureCredentialsProvider.cpp):
// POST https://login.microsoftonline.com/idp_tenant/oauth2/token with
// grant_type=password, requested_token_type=urn:ietf:params:oauth:token-type:saml2,
// client_id (also as resource), client_secret, user and password; the
// access_token is the signed assertion, which the login wraps in a SAML
// response as the drivers do, for step 2 (see SAML). The host is
// Microsoft's, as in the drivers (login.microsoftonline.us and
// login.chinacloudapi.cn with idp_partition us-gov and cn): nothing in
// the DSN sends the password elsewhere. Azure AD's refusals are quoted
// with their AADSTS code, without the password or the client secret:
// invalid_grant AADSTS50126 (the password), invalid_client (the client
// secret), and a sign-in that needs a second factor (AADSTS50076), which
// is not supported.
//
// # Identity Center token exchange
//
// IdpTokenAuthPlugin without token, with AWS credentials (AccessKeyID,
// SecretAccessKey and SessionToken: an identity-enhanced IAM role
// session), exchanges them for an IAM Identity Center token at connect
// time, through the Redshift API GetIdentityCenterAuthToken, ClusterIds
// the cluster (ClusterID, or the one a provisioned host names), or for a
// Serverless workgroup redshift-serverless GetIdentityCenterAuthToken,
// workgroupNames the workgroup; the startup message then says token_type
// SUBJECT_TOKEN. The AWS configuration (region, endpoint, proxy) is loaded
// as for IAM=1. As redshift_connector plugin/idp_token_auth_plugin.py
// and core.py set_idc_plugins_params, and JDBC
// plugin/IdpTokenAuthPlugin and core/NativeAuthPluginHelper do. A refused
// call fails the connection with an [*Error] naming the call:
//
//	redshift-ka: GetIdentityCenterAuthToken for cluster etl-prod: AccessDenied: ... (request id ...)
//
// # Browser plugins
//
// BrowserAzureOAuth2CredentialsProvider (ODBC: BrowserAzureADOAuth2) and
// BrowserIdcAuthPlugin get the token in the user's browser, as JDBC's
// plugins of those names do (redshift_connector and ODBC agree):
//
//	plugin_name=BrowserAzureOAuth2CredentialsProvider;idp_tenant=contoso.onmicrosoft.com;client_id=...;scope=api://.../jdbc_login;provider_name=azure
//	plugin_name=BrowserIdcAuthPlugin;issuer_url=https://identitycenter.amazonaws.com/ssoins-...;idc_region=us-east-1
//
// The login listens on 127.0.0.1 at listen_port (Azure: 0, a free port,
// when not set, the redirect URI http://localhost:<port>/redshift/; IdC:
// 7890, http://127.0.0.1:<port>), shows the sign-in URL (driver.WithLogger's
// logger at info level, else standard error, for the person who runs the
// program) and opens it in the browser (xdg-open and its kin where there
// is a display, open on macOS, rundll32 on Windows). It waits at most
// idp_response_timeout (120 s) for the provider's answer, which must carry
// the state it sent, answers the browser with a short page and stops
// listening; then it redeems the code: Azure's /oauth2/v2.0/token, or
// IAM Identity Center's SSO-OIDC CreateToken with the PKCE verifier, after
// RegisterClient (its client kept until its secret expires). SSO-OIDC's
// endpoint, and the browser's, is the SDK's for idc_region
// (AWS_ENDPOINT_URL_SSO_OIDC overrides it). A failure names the step
// ("browser sign-in", "Azure AD token endpoint", "SSO-OIDC
// RegisterClient", "SSO-OIDC CreateToken") and never shows a code, token
// or client secret:
//
//	redshift-ka: browser sign-in for BrowserAzureOAuth2CredentialsProvider (tenant contoso): listen_port 7890 is in use on 127.0.0.1, ...
//
// The token is cached (see Token caching): one browser sign-in per token
// lifetime for all the connections of a program, its renewal a new
// sign-in. A connect waits for the sign-in: give it a timeout longer than
// idp_response_timeout. Two sign-ins at once on one listen_port (two
// DSNs): the second fails, naming the port.
//
// BrowserSamlCredentialsProvider (ODBC: BrowserSAML), an IAM plugin, opens
// login_url (https only, as JDBC checks it), the IdP's sign-in for the
// Redshift application, whose assertion consumer service URL must be the
// listener, http://localhost:<listen_port>/redshift/ (7890 by default);
// the SAMLResponse the IdP's page posts there, on any path as
// redshift_connector takes it, goes on as a SAML plugin's assertion (see
// SAML). Its URL goes to standard error: the SAML step has no logger.
//
// BrowserAzureCredentialsProvider (ODBC: BrowserAzureAD), an IAM plugin,
// signs in to Azure AD in the browser, as JDBC's plugin of that name does
// (redshift_connector and ODBC send the same fields):
//
//	IAM=1;plugin_name=BrowserAzureAD;idp_tenant=contoso.onmicrosoft.com;client_id=...;ClusterID=...
//
// The browser opens Azure AD's v1 authorize endpoint
// (.../<idp_tenant>/oauth2/authorize, scope openid, response_mode
// form_post); the listener (listen_port, 0 by default: a free port, as
// JDBC) takes the code, checks the state and answers the browser; the
// code is redeemed at .../oauth2/token, with no client secret, for a SAML
// token (requested_token_type urn:ietf:params:oauth:token-type:saml2),
// which goes on as AzureCredentialsProvider's assertion (see Azure AD):
// STS AssumeRoleWithSAML, then the IAM login. The URL is shown with
// driver.WithLogger's logger, else on standard error. A failure names the
// step, "browser sign-in", then what failed (the listener, or "Azure AD
// token endpoint (POST ...)"), without a code or the assertion:
//
//	redshift-ka: browser sign-in for cluster etl: BrowserAzureCredentialsProvider (Azure AD tenant contoso, client_id ...): listener on 127.0.0.1:41517: no answer from the browser within idp_response_timeout (2m0s)
//
// The credentials
// are cached as a SAML plugin's: 20 connections dialed at once make one
// sign-in; the cached IAM call waits at most idp_response_timeout for the
// browser.
//
// # Token caching
//
// A token the login gets at connect time (the exchange above; the
// browser plugins' tokens) is cached as IAM credentials are (see
// Caching): once per process for every connector with the same native
// login keys, AWS keys and AWS environment; 20 connections dialed at once
// share one call; the next connection after a tenth of the token's
// lifetime (at most a minute) before it expires starts one renewal in the
// background and logs in with the current token meanwhile; a failed call
// is not cached. A token without an expiration in the answer is taken to
// last 900 s, as JDBC's IdpTokenAuthPlugin takes it. A token given in the
// DSN is sent as it is, uncached. redshift-ka check lists each step of a
// login (the identity provider, STS, the Redshift API, the server) with
// its outcome.
package iam
