package dsnparse

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Native is the login with an identity provider's token that Amazon
// Redshift checks itself (its "native IdP" login). A DSN asks for it with
// plugin_name (credentials_provider in redshift_connector) set to
// BasicJwtCredentialsProvider (JWT in ODBC) with web_identity_token,
// IdpTokenAuthPlugin with token and token_type (or with AWS credentials to
// exchange, Exchange), BrowserAzureOAuth2CredentialsProvider (ODBC:
// BrowserAzureADOAuth2) or BrowserIdcAuthPlugin; [DSN.Native] is nil for a
// DSN that asks for none. A plugin whose token comes at connect time
// leaves Token empty.
//
// It holds secrets (Token, AWS's): it prints, and encodes to JSON, with
// them masked.
type Native struct {
	// Plugin is plugin_name as written ("JWT",
	// "com.amazon.redshift.plugin.BasicJwtCredentialsProvider", ...),
	// sent to the server as Amazon's drivers send it.
	Plugin string
	// IdPType is the server's idp_type: "AzureAD" for
	// BasicJwtCredentialsProvider, "AwsIdc" for IdpTokenAuthPlugin.
	IdPType string
	// ProviderName (provider_name) names the identity provider
	// registered in Redshift (CREATE IDENTITY PROVIDER); empty: not sent.
	ProviderName string
	// Token is the token the server checks, given when it asks for it
	// (authentication code 14): web_identity_token or token.
	Token string
	// TokenType (token_type, IdpTokenAuthPlugin only) is ACCESS_TOKEN or
	// EXT_JWT, as the server reads it.
	TokenType string
	// IdentityNamespace (identity_namespace, IdpTokenAuthPlugin only)
	// picks the IAM Identity Center instance; empty: not sent.
	IdentityNamespace string
	// NoUser is true when the DSN names no user: the token names one,
	// and the startup message then names none (an empty one, as
	// redshift_connector sends), not the OS user pgx would take.
	NoUser bool

	// Tenant, ClientID and Scope (idp_tenant, client_id, scope) are
	// BrowserAzureOAuth2CredentialsProvider's Azure AD application; the
	// plugin asks for "openid" and Scope.
	Tenant, ClientID, Scope string
	// Partition (idp_partition) picks Azure's cloud: "" (global),
	// "us-gov" or "cn".
	Partition string
	// ListenPort (listen_port) is the loopback port the browser is sent
	// back to: 7890 for BrowserIdcAuthPlugin when the DSN gives none; 0
	// for BrowserAzureOAuth2CredentialsProvider: a free port.
	ListenPort int
	// ResponseTimeout (idp_response_timeout) bounds the wait for the
	// browser: 120 s when the DSN gives none.
	ResponseTimeout time.Duration
	// IssuerURL, IdCRegion and IdCClientDisplayName (issuer_url,
	// idc_region, idc_client_display_name) are BrowserIdcAuthPlugin's IAM
	// Identity Center instance, its region, and the name it shows.
	IssuerURL, IdCRegion, IdCClientDisplayName string
	// Exchange is true for IdpTokenAuthPlugin without token: its token
	// comes from the Redshift API's GetIdentityCenterAuthToken, called
	// with the AWS credentials and for the cluster or workgroup in AWS,
	// and is sent with token_type SUBJECT_TOKEN.
	Exchange bool
	// AWS is, for Exchange, what GetIdentityCenterAuthToken is called
	// with; zero otherwise.
	AWS ExchangeAWS
}

// ExchangeAWS is what IdpTokenAuthPlugin calls GetIdentityCenterAuthToken
// with, to exchange AWS credentials for a token ([Native.Exchange]). It
// holds secrets (SecretAccessKey, SessionToken, HTTPSProxyPassword): it
// prints, and encodes to JSON, with them and EndpointURL's user info
// masked, on its own as in the [Native] that holds it.
type ExchangeAWS struct {
	// AccessKeyID, SecretAccessKey and SessionToken are the AWS
	// credentials, all three required as Amazon's drivers require them.
	AccessKeyID, SecretAccessKey, SessionToken string
	// ClusterID names the provisioned cluster (redshift
	// GetIdentityCenterAuthToken ClusterIds), Workgroup the serverless
	// workgroup (redshift-serverless workgroupNames): from their keys, or
	// the host name as for an IAM login.
	ClusterID, Workgroup string
	// Region is the AWS region: Region, else the host name's.
	Region string
	// EndpointURL (EndpointUrl) overrides the API's endpoint.
	EndpointURL string
	// HTTPSProxyHost, HTTPSProxyPort, HTTPSProxyUser and
	// HTTPSProxyPassword send the API call through an HTTP proxy, as for
	// an IAM login.
	HTTPSProxyHost     string
	HTTPSProxyPort     int
	HTTPSProxyUser     string
	HTTPSProxyPassword string
}

// StartupParams are the parameters the startup message adds for n, as
// Amazon's drivers send them: redshift_connector core.py
// Connection.__init__ and set_idc_plugins_params, JDBC
// ConnectionFactoryImpl.getParametersForStartup, ODBC rslibpq.c.
func (n *Native) StartupParams() map[string]string {
	p := map[string]string{"plugin_name": n.Plugin, "idp_type": n.IdPType}
	for k, v := range map[string]string{"provider_name": n.ProviderName, "token_type": n.TokenType,
		"identity_namespace": n.IdentityNamespace, "idc_client_display_name": n.IdCClientDisplayName} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// Format prints n, for every verb, with Token and the secrets of AWS
// masked as "xxxxx".
func (n Native) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedNative(n.masked()))
}

// MarshalJSON encodes n with Token and the secrets of AWS masked.
func (n Native) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedNative(n.masked()))
}

// redactedNative is a Native without its methods.
type redactedNative Native

func (n Native) masked() Native {
	if n.Token != "" {
		n.Token = mask
	}
	n.AWS = n.AWS.masked()
	return n
}

// Format prints a, for every verb, with its secrets masked as "xxxxx".
func (a ExchangeAWS) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedExchangeAWS(a.masked()))
}

// MarshalJSON encodes a with its secrets masked, as Format prints them.
func (a ExchangeAWS) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedExchangeAWS(a.masked()))
}

// redactedExchangeAWS is an ExchangeAWS without its methods.
type redactedExchangeAWS ExchangeAWS

func (a ExchangeAWS) masked() ExchangeAWS {
	for _, f := range []*string{&a.SecretAccessKey, &a.SessionToken, &a.HTTPSProxyPassword} {
		if *f != "" {
			*f = mask
		}
	}
	a.EndpointURL = MaskURL(a.EndpointURL)
	return a
}

// The fields of nativeSpecs, by index.
const (
	nativePlugin = iota
	nativeJWT
	nativeToken
	nativeProvider
	nativeTokenType
	nativeNamespace
	numNativeFields
)

// nativeSpecs are the keys of the native login, each with its spellings
// in Amazon's drivers: ODBC rsodbc.h (RS_PLUGIN_NAME, RS_WEB_IDENTITY_TOKEN,
// RS_NATIVE_KEY_PROVIDER_NAME, RS_BASIC_AUTH_TOKEN, RS_TOKEN_TYPE,
// RS_IDENTITY_NAMESPACE), JDBC RedshiftProperty (plugin_name,
// webIdentityToken, providerName, token_type, identity_namespace) and
// IdpTokenAuthPlugin.KEY_TOKEN, redshift_connector RedshiftProperty
// (credentials_provider, web_identity_token, provider_name, token, ...).
// [Redact] masks the two token keys (secretKeys).
var nativeSpecs = [numNativeFields]iamKeySpec{
	nativePlugin:    {Field: "Plugin", Names: []string{"plugin_name", "credentials_provider"}},
	nativeJWT:       {Field: "Token", Names: []string{"web_identity_token", "webIdentityToken"}, Secret: true},
	nativeToken:     {Field: "Token", Names: []string{"token"}, Secret: true},
	nativeProvider:  {Field: "ProviderName", Names: []string{"provider_name", "providerName"}},
	nativeTokenType: {Field: "TokenType", Names: []string{"token_type"}},
	nativeNamespace: {Field: "IdentityNamespace", Names: []string{"identity_namespace"}},
}

// nativeKeyIndex maps every key of nativeSpecs, lower-cased, to its field.
var nativeKeyIndex = func() map[string]int {
	keys := map[string]int{}
	for i, spec := range nativeSpecs {
		for _, n := range spec.Names {
			keys[asciiLower(n)] = i
		}
	}
	return keys
}()

// nativeFamily is one plugin of the native login.
type nativeFamily struct {
	name    string // canonical, as Amazon's JDBC and Python drivers spell it
	odbc    string // ODBC's name (iam/rs_iam_support.h)
	source  string // the plugin's classes in Amazon's drivers
	idpType string // the server's idp_type
	// keys are the fields of pluginSpecs the plugin reads; need those it
	// requires, as Amazon's drivers validate them.
	keys, need []int
	// iam is what IAM=1 does with the plugin: "" turns it off (ODBC asks
	// for IAM=1 with JWT and BrowserAzureADOAuth2, RS_CONN_INFO::doConnection),
	// else why it is refused.
	iam string
}

// noIAMIdC is why IAM=1 is refused with the IAM Identity Center plugins.
const noIAMIdC = "JDBC refuses it (RedshiftConnectionImpl: \"You can not use this authentication plugin with IAM enabled\"), ODBC and redshift_connector read the plugin without it"

// nativePlugins are the plugins of the native login, by the name after
// the last '.' lower-cased (as redshift_connector takes it; JDBC and ODBC
// compare whole names regardless of case): JDBC and redshift_connector
// class names, and ODBC's short ones (iam/rs_iam_support.h).
var nativePlugins = func() map[string]*nativeFamily {
	jwt := &nativeFamily{name: "BasicJwtCredentialsProvider", odbc: "JWT", idpType: "AzureAD",
		source: jdbcSrc + "plugin/BasicJwtCredentialsProvider.java; " + pySrc + "plugin/jwt_credentials_provider.py; " +
			odbcSrc + "iam/plugins/IAMJwtBasicCredentialsProvider.cpp"}
	idc := &nativeFamily{name: "IdpTokenAuthPlugin", odbc: "IdpTokenAuthPlugin", idpType: "AwsIdc", iam: noIAMIdC,
		source: samlSrc("IdpTokenAuthPlugin", "idp_token_auth_plugin", "IdpTokenAuthPlugin")}
	// JDBC BrowserAzureOAuth2CredentialsProvider.checkRequiredParameters,
	// redshift_connector check_required_parameters, ODBC
	// IAMBrowserAzureOAuth2CredentialsProvider::ValidateArgumentsMap.
	azure := &nativeFamily{name: "BrowserAzureOAuth2CredentialsProvider", odbc: "BrowserAzureADOAuth2", idpType: "AzureAD",
		source: samlSrc("BrowserAzureOAuth2CredentialsProvider", "browser_azure_oauth2_credentials_provider", "IAMBrowserAzureOAuth2CredentialsProvider"),
		keys:   []int{plgTenant, plgPartition, plgClientID, plgScope, plgListenPort, plgResponseTimeout, plgSSLInsecure},
		need:   []int{plgTenant, plgClientID}}
	// JDBC BrowserIdcAuthPlugin, redshift_connector
	// BrowserIdcAuthPlugin.check_required_parameters, ODBC
	// BrowserIdcAuthPlugin::ValidateArgumentsMap.
	browserIdc := &nativeFamily{name: "BrowserIdcAuthPlugin", odbc: "BrowserIdcAuthPlugin", idpType: "AwsIdc", iam: noIAMIdC,
		source: samlSrc("BrowserIdcAuthPlugin", "browser_idc_auth_plugin", "BrowserIdcAuthPlugin"),
		keys:   []int{plgIssuerURL, plgIdCRegion, plgIdCClientDisplayName, plgListenPort, plgResponseTimeout},
		need:   []int{plgIssuerURL, plgIdCRegion}}
	m := map[string]*nativeFamily{}
	for _, f := range []*nativeFamily{jwt, idc, azure, browserIdc} {
		m[asciiLower(f.name)], m[asciiLower(f.odbc)] = f, f
	}
	return m
}()

// supportedPlugins is how errors name the plugins redshift-ka supports.
const supportedPlugins = "with IAM=1: AdfsCredentialsProvider (ODBC: ADFS), OktaCredentialsProvider (Okta), PingCredentialsProvider (Ping), " +
	"AzureCredentialsProvider (AzureAD), BasicSamlCredentialsProvider, BrowserSamlCredentialsProvider (BrowserSAML), " +
	"BrowserAzureCredentialsProvider (BrowserAzureAD), JwtIamAuthPlugin; " +
	"natively: BasicJwtCredentialsProvider (JWT), BrowserAzureOAuth2CredentialsProvider (BrowserAzureADOAuth2), " +
	"IdpTokenAuthPlugin, BrowserIdcAuthPlugin"

// addNative records one key of the native login. Two keys for one field
// must agree; an empty value is taken as absent.
func (c *collector) addNative(i int, key, value string) error {
	c.ours(key, "native "+nativeSpecs[i].Field)
	v := strings.TrimSpace(value)
	if i == nativeJWT || i == nativeToken {
		v = value // a token is taken as written
	}
	if v == "" {
		return nil
	}
	if c.nativeKeys[i] != "" {
		if c.nativeVal[i] != v {
			return conflict(key, c.nativeKeys[i], nativeSpecs[i].Field)
		}
		return nil
	}
	c.nativeKeys[i], c.nativeVal[i] = key, v
	return nil
}

// finishNative builds the native login the DSN asks for, or nil. A plugin
// redshift-ka does not support is refused, and so are the login's keys
// without a plugin or with another plugin's. With a native plugin, an
// IAM switch turns no IAM login on, or is refused (nativeFamily.iam).
func (c *collector) finishNative() (*Native, error) {
	k, v := &c.nativeKeys, &c.nativeVal
	if k[nativePlugin] == "" {
		for i := nativeJWT; i < numNativeFields; i++ {
			if k[i] != "" {
				return nil, &ParseError{Key: k[i], Err: reason(ErrMissing,
					"goes with plugin_name (credentials_provider): "+supportedPlugins)}
			}
		}
		return nil, nil
	}
	name := v[nativePlugin]
	if _, iamPlugin := pluginFamilies[pluginKey(name)]; iamPlugin && pluginShown(name) == name {
		return nil, nil // an IAM plugin: finishPlugin reads it
	}
	fam, ok := nativePlugins[pluginKey(name)]
	if !ok || pluginShown(name) != name {
		return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrNotSupported,
			"identity-provider plugin "+pluginShown(name)+" is not supported; supported: "+supportedPlugins+
				"; or log in with IAM credentials (AccessKeyID and SecretAccessKey, Profile, or the AWS SDK's default chain) or a password")}
	}
	if c.iamVal[iamSwitch] == "1" && fam.iam != "" {
		return nil, &ParseError{Key: c.iamKeys[iamSwitch], Err: reason(ErrConflict,
			"conflicts with "+k[nativePlugin]+": "+fam.name+" is no IAM login; "+fam.iam)}
	}
	for i, key := range c.plugKeys {
		if key != "" && !slices.Contains(fam.keys, i) {
			return nil, &ParseError{Key: key, Err: reason(ErrConflict,
				"is not a key of "+name+"; it goes with "+pluginReaders(i))}
		}
	}
	for _, i := range fam.need {
		if c.plugKeys[i] == "" {
			return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrMissing, name+" needs "+pluginSpecs[i].Names[0])}
		}
	}
	p := &c.plugVal
	n := &Native{Plugin: name, IdPType: fam.idpType, ProviderName: v[nativeProvider],
		TokenType: v[nativeTokenType], IdentityNamespace: v[nativeNamespace], NoUser: c.user == "",
		Tenant: p[plgTenant], ClientID: p[plgClientID], Scope: p[plgScope], Partition: p[plgPartition],
		ListenPort: atoi(p[plgListenPort]), ResponseTimeout: time.Duration(atoi(p[plgResponseTimeout])) * time.Second,
		IssuerURL: p[plgIssuerURL], IdCRegion: p[plgIdCRegion], IdCClientDisplayName: p[plgIdCClientDisplayName]}
	if slices.Contains(fam.keys, plgResponseTimeout) && n.ResponseTimeout == 0 {
		n.ResponseTimeout = defaultResponseTimeout
	}
	var err error
	switch fam.name {
	case "BasicJwtCredentialsProvider":
		err = c.nativeToken(n, nativeJWT, "web_identity_token (webIdentityToken)", nativeToken, nativeTokenType, nativeNamespace)
	case "IdpTokenAuthPlugin":
		err = c.idcToken(n)
	case "BrowserAzureOAuth2CredentialsProvider":
		err = c.nativeToken(n, -1, "", nativeJWT, nativeToken, nativeTokenType, nativeNamespace)
	case "BrowserIdcAuthPlugin":
		// JDBC and redshift_connector's default port (DEFAULT_LISTEN_PORT);
		// the server reads an access token (ConnectionFactoryImpl,
		// core.py set_idc_plugins_params).
		if n.ListenPort == 0 {
			n.ListenPort = defaultListenPort
		}
		// identity_namespace too, as redshift_connector sends it for
		// both IAM Identity Center plugins (set_idc_plugins_params).
		n.TokenType = "ACCESS_TOKEN"
		err = c.nativeToken(n, -1, "", nativeJWT, nativeToken, nativeTokenType)
	}
	if err != nil {
		return nil, err
	}
	c.iamVal[iamSwitch] = ""
	c.native = name
	return n, nil
}

// nativeToken sets n.Token from field need of nativeSpecs (-1: the token
// comes at connect time), refusing the fields of other.
func (c *collector) nativeToken(n *Native, need int, needKeys string, other ...int) error {
	k := &c.nativeKeys
	for _, i := range other {
		if k[i] != "" {
			return &ParseError{Key: k[i], Err: reason(ErrConflict,
				"is not a key of "+n.Plugin+"; "+supportedPlugins)}
		}
	}
	if need < 0 {
		return nil
	}
	if k[need] == "" {
		return &ParseError{Key: k[nativePlugin], Err: reason(ErrMissing, n.Plugin+" needs "+needKeys)}
	}
	n.Token = c.nativeVal[need]
	return nil
}

// idcToken reads IdpTokenAuthPlugin's token and token_type, or, without
// them, the AWS credentials it exchanges for a token
// (GetIdentityCenterAuthToken): redshift_connector
// IdpTokenAuthPlugin.check_required_parameters, JDBC
// IdpTokenAuthPlugin.checkRequiredParameters, ODBC
// IdpTokenAuthPlugin::ValidateArgumentsMap. Both at once are refused, as
// the three drivers refuse them.
func (c *collector) idcToken(n *Native) error {
	k := &c.nativeKeys
	if k[nativeToken] != "" || k[nativeTokenType] != "" {
		if err := c.nativeToken(n, nativeToken, "token", nativeJWT); err != nil {
			return err
		}
		if k[nativeTokenType] == "" {
			return &ParseError{Key: k[nativePlugin], Err: reason(ErrMissing,
				n.Plugin+" needs token_type (ACCESS_TOKEN or EXT_JWT) with token")}
		}
		for _, f := range []int{iamAccessKeyID, iamSecretAccessKey, iamSessionToken} {
			if key := c.iamKeys[f]; key != "" {
				return &ParseError{Key: key, Err: reason(ErrConflict, "conflicts with "+k[nativeToken]+": "+n.Plugin+
					" takes either token and token_type, or AccessKeyID, SecretAccessKey and SessionToken to exchange for a token, as Amazon's drivers require")}
			}
		}
		return nil
	}
	if err := c.nativeToken(n, -1, "", nativeJWT); err != nil {
		return err
	}
	return c.finishExchange(n)
}

// pluginShown is name as an error may show it: a plugin's name is letters,
// digits, '_' and '.'; anything else may be more of the DSN (an empty
// plugin_name= takes the next key=value in libpq's syntax), so it is
// withheld.
func pluginShown(name string) string {
	if len(name) <= 100 && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == "" {
		return name
	}
	return "(a value of " + strconv.Itoa(len(name)) + " bytes, withheld: it may hold more of the DSN)"
}

// exchangeFields are the IAM keys IdpTokenAuthPlugin reads to exchange AWS
// credentials for a token: redshift_connector IdpTokenAuthPlugin
// (access_key_id, secret_access_key, session_token, endpoint_url, region,
// the cluster or workgroup of IamHelper.set_iam_properties), JDBC
// IdpTokenAuthPlugin (KEY_ACCESS_KEY_ID, ..., KEY_REGION, the host).
var exchangeFields = []int{iamAccessKeyID, iamSecretAccessKey, iamSessionToken, iamClusterID, iamWorkgroup,
	iamRegion, iamEndpointURL, iamServerless, iamProxyHost, iamProxyPort, iamProxyUser, iamProxyPassword}

// finishExchange fills n.AWS for IdpTokenAuthPlugin without a token: the
// three AWS keys are required, and the cluster or workgroup and the
// region, from their keys or the host name (JDBC
// IdpTokenAuthPlugin.resolveClusterInfo, redshift_connector
// _get_subject_token).
func (c *collector) finishExchange(n *Native) error {
	v, plugin := &c.iamVal, c.nativeKeys[nativePlugin]
	missing := func(msg string) error {
		return &ParseError{Key: plugin, Err: reason(ErrMissing, n.Plugin+" "+msg)}
	}
	if v[iamAccessKeyID] == "" && v[iamSecretAccessKey] == "" && v[iamSessionToken] == "" {
		return missing("needs token and token_type, or AccessKeyID, SecretAccessKey and SessionToken to exchange for a token (GetIdentityCenterAuthToken)")
	}
	for _, f := range []int{iamAccessKeyID, iamSecretAccessKey, iamSessionToken} {
		if v[f] == "" {
			return missing("exchanges AWS credentials for a token with AccessKeyID, SecretAccessKey and SessionToken: " +
				iamSpecs[f].Names[0] + " (" + iamSpecs[f].Names[1] + ") is missing")
		}
	}
	if k := c.iamKeys[iamProfile]; k != "" {
		return &ParseError{Key: k, Err: reason(ErrConflict, "conflicts with "+plugin+": "+n.Plugin+
			" exchanges the AWS credentials given as keys, as Amazon's drivers do, not a profile's")}
	}
	a := ExchangeAWS{ClusterID: v[iamClusterID], Workgroup: v[iamWorkgroup], Region: v[iamRegion],
		AccessKeyID: v[iamAccessKeyID], SecretAccessKey: v[iamSecretAccessKey], SessionToken: v[iamSessionToken],
		EndpointURL:    v[iamEndpointURL],
		HTTPSProxyHost: v[iamProxyHost], HTTPSProxyPort: atoi(v[iamProxyPort]),
		HTTPSProxyUser: v[iamProxyUser], HTTPSProxyPassword: v[iamProxyPassword]}
	cluster, workgroup, region := endpointParts(c.host)
	switch {
	case a.ClusterID != "" && a.Workgroup != "":
		return &ParseError{Key: c.iamKeys[iamWorkgroup], Err: reason(ErrConflict,
			"conflicts with "+c.iamKeys[iamClusterID]+": the token is for a provisioned cluster or a serverless workgroup, not both")}
	case a.ClusterID == "" && a.Workgroup == "":
		a.ClusterID, a.Workgroup = cluster, workgroup
	}
	if a.Region == "" {
		a.Region = region
	}
	switch {
	case v[iamServerless] == "1" && a.Workgroup == "":
		return missing("with AWS credentials and Serverless needs Workgroup (serverless_work_group), or a host name " +
			"<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com, for GetIdentityCenterAuthToken")
	case a.ClusterID == "" && a.Workgroup == "":
		return missing("with AWS credentials needs the cluster (ClusterID, or a host name <cluster>.<id>.<region>.redshift.amazonaws.com) " +
			"or the serverless workgroup (Workgroup, or <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com) for GetIdentityCenterAuthToken")
	case a.Region == "":
		return missing("with AWS credentials needs Region, or a host name that holds it, for GetIdentityCenterAuthToken")
	case a.HTTPSProxyHost != "" && a.HTTPSProxyPort == 0:
		return &ParseError{Key: c.iamKeys[iamProxyHost], Err: reason(ErrMissing, "a proxy needs https_proxy_port too")}
	}
	n.Exchange, n.AWS, n.TokenType = true, a, "SUBJECT_TOKEN" // core.py set_idc_plugins_params
	c.exchange = true
	return nil
}
