package dsnparse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WebIdentity is the web identity an IAM login assumes a role with, as
// Amazon's ODBC driver does for plugin_name=JwtIamAuthPlugin: STS
// AssumeRoleWithWebIdentity with the token, and then the IAM login with
// the credentials STS returns. The zero value asks for none. It prints,
// and encodes to JSON, with Token masked.
type WebIdentity struct {
	// Token is the OIDC token (web_identity_token); a secret.
	Token string
	// RoleARN is the role to assume (role_arn).
	RoleARN string
	// RoleSessionName names the role session (role_session_name);
	// "jwt_redshift_session" by default, as ODBC's JwtIamAuthPlugin.
	RoleSessionName string
	// DurationSeconds asks STS for credentials valid this long (ODBC's
	// duration), 900..43200; 0: STS's default.
	DurationSeconds int
}

// pluginKeySpec describes one key of the identity-provider plugins that
// redshift-ka supports, other than plugin_name and the tokens of the
// native login (nativeSpecs, native.go). plugin_name chooses the plugin
// (pluginFamilies, nativePlugins), which reads the keys it needs and
// refuses the others.
type pluginKeySpec struct {
	// Names lists the accepted keys: ODBC's first, then JDBC's and
	// redshift_connector's where they differ.
	Names []string
	// Want describes the accepted values, as error messages quote it.
	Want string
	// Secret marks a value that is masked wherever a password is.
	Secret bool
	// kind is how the value is read; min and max bound iamSeconds.
	kind     iamKind
	min, max int
}

// The fields of pluginSpecs, by index.
const (
	plgRoleARN = iota
	plgRoleSessionName
	plgDuration
	plgIdPHost
	plgIdPPort
	plgPreferredRole
	plgSSLInsecure
	plgAppID
	plgAppName
	plgPartnerSPID
	plgLoginToRP
	plgTenant
	plgPartition
	plgClientID
	plgClientSecret
	plgAssertion
	plgLoginURL
	plgListenPort
	plgResponseTimeout
	plgUseHTTPSProxy
	plgScope
	plgIssuerURL
	plgIdCRegion
	plgIdCClientDisplayName
	plgDbGroupsFilter
	numPluginFields
)

// pluginSpecs are the plugin keys, as ODBC spells them (rsodbc.h RS_*,
// iam/rs_iam_support.h IAM_KEY_*), then JDBC (RedshiftProperty, the
// plugin classes' KEY_* constants) and redshift_connector (connect's
// arguments, RedshiftProperty) where they differ.
var pluginSpecs = [numPluginFields]pluginKeySpec{
	plgRoleARN:         {Names: []string{"role_arn", "roleArn"}, Want: "an IAM role ARN"},
	plgRoleSessionName: {Names: []string{"role_session_name", "roleSessionName"}, Want: "a role session name"},
	// ODBC RS_DURATION, JDBC SamlCredentialsProvider.KEY_DURATION,
	// redshift_connector duration: STS's DurationSeconds.
	plgDuration: {Names: []string{"duration"}, Want: "whole seconds 900..43200", kind: iamSeconds, min: 900, max: 43200},
	// SAML: ODBC RS_IDP_HOST, RS_IDP_PORT, RS_PREFERRED_ROLE,
	// RS_SSL_INSECURE; JDBC SamlCredentialsProvider.KEY_IDP_HOST,
	// KEY_IDP_PORT, KEY_PREFERRED_ROLE, IdpCredentialsProvider.KEY_SSL_INSECURE.
	plgIdPHost:       {Names: []string{"idp_host"}, Want: "the identity provider's host name"},
	plgIdPPort:       {Names: []string{"idp_port"}, Want: "a port 1..65535", kind: iamPort},
	plgPreferredRole: {Names: []string{"preferred_role"}, Want: "an IAM role ARN"},
	plgSSLInsecure:   {Names: []string{"ssl_insecure"}, Want: boolWant, kind: iamBool},
	// Okta: RS_APP_ID, RS_APP_NAME; JDBC OktaCredentialsProvider.KEY_APP_URL, KEY_APP_NAME.
	plgAppID:   {Names: []string{"app_id"}, Want: "the Okta application's ID"},
	plgAppName: {Names: []string{"app_name"}, Want: "the Okta application's name"},
	// Ping: RS_PARTNER_SPID, JDBC PingCredentialsProvider.KEY_PARTNER_SPID,
	// redshift_connector partner_sp_id.
	plgPartnerSPID: {Names: []string{"partner_spid", "partner_sp_id"}, Want: "a SAML service provider ID"},
	// ADFS: RS_LOGIN_TO_RP, JDBC AdfsCredentialsProvider.KEY_LOGINTORP,
	// redshift_connector login_to_rp.
	plgLoginToRP: {Names: []string{"loginToRp", "login_to_rp"}, Want: "a relying party ID"},
	// Azure: RS_IDP_TENANT, RS_IDP_PARTITION, RS_CLIENT_ID, RS_CLIENT_SECRET;
	// JDBC AzureCredentialsProvider.KEY_* of the same names.
	plgTenant:       {Names: []string{"idp_tenant"}, Want: "an Azure AD tenant ID"},
	plgPartition:    {Names: []string{"idp_partition"}, Want: "an Azure cloud partition (us-gov, cn)"},
	plgClientID:     {Names: []string{"client_id"}, Want: "an OAuth client ID"},
	plgClientSecret: {Names: []string{"client_secret"}, Want: "an OAuth client secret", Secret: true},
	// JDBC BasicSamlCredentialsProvider.KEY_SAML_ASSERTION.
	plgAssertion: {Names: []string{"saml_assertion"}, Want: "a SAML assertion, base64", Secret: true},
	// Browser: RS_LOGIN_URL, RS_LISTEN_PORT, RS_IDP_RESPONSE_TIMEOUT; JDBC
	// BrowserSamlCredentialsProvider.KEY_* of the same names.
	plgLoginURL:        {Names: []string{"login_url"}, Want: "the identity provider's sign-in URL"},
	plgListenPort:      {Names: []string{"listen_port"}, Want: "a port 1..65535", kind: iamPort},
	plgResponseTimeout: {Names: []string{"idp_response_timeout"}, Want: "whole seconds 10..86400", kind: iamSeconds, min: 10, max: 86400},
	// ODBC RS_IDP_USE_HTTPS_PROXY: the IdP's requests through https_proxy_host.
	plgUseHTTPSProxy: {Names: []string{"idp_use_https_proxy"}, Want: boolWant, kind: iamBool},
	// BrowserAzureOAuth2: RS_SCOPE, JDBC BrowserAzureOAuth2CredentialsProvider.KEY_SCOPE.
	plgScope: {Names: []string{"scope"}, Want: "OAuth scopes, space-separated"},
	// BrowserIdc: RS_ISSUER_URL, RS_IDC_REGION, RS_IDC_CLIENT_DISPLAY_NAME;
	// JDBC BrowserIdcAuthPlugin.KEY_* of the same names.
	plgIssuerURL:            {Names: []string{"issuer_url"}, Want: "the IAM Identity Center issuer URL"},
	plgIdCRegion:            {Names: []string{"idc_region"}, Want: "an AWS region"},
	plgIdCClientDisplayName: {Names: []string{"idc_client_display_name"}, Want: "a display name"},
	// ODBC RS_DB_GROUPS_FILTER, JDBC RedshiftProperty.DB_GROUPS_FILTER
	// (SamlCredentialsProvider.filterOutGroups); redshift_connector has none.
	plgDbGroupsFilter: {Names: []string{"dbgroups_filter", "dbGroupsFilter"},
		Want: "a regular expression (Go's RE2 syntax) matching whole group names", kind: iamRegexp},
}

// pluginKeyIndex maps every key of pluginSpecs, lower-cased, to its field.
var pluginKeyIndex = func() map[string]int {
	keys := map[string]int{}
	for i, spec := range pluginSpecs {
		for _, n := range spec.Names {
			keys[asciiLower(n)] = i
		}
	}
	return keys
}()

// pluginFamily is one IAM plugin_name redshift-ka supports: one that logs
// in through IAM (IAM=1), with AWS credentials it gets from STS.
type pluginFamily struct {
	name string // canonical, as Amazon's JDBC and Python drivers spell it
	odbc string // ODBC's name (iam/rs_iam_support.h IAM_PLUGIN_*); "" for none
	// source names the plugin's classes in Amazon's drivers.
	source string
	// keys are the fields of pluginSpecs the plugin reads; need those it
	// requires, as Amazon's drivers validate them.
	keys, need []int
	// user is true for a plugin that takes the DSN's user and password
	// as the identity provider's.
	user bool
	// defaults are the values of keys the plugin reads that the DSN
	// leaves out, as Amazon's drivers set them (saml.go).
	defaults map[int]string
	// finish completes the IAM login with the plugin's keys.
	finish func(c *collector, iam *IAM, fam *pluginFamily) error
}

// samlKeys are the keys every SAML plugin reads: SamlCredentialsProvider
// (JDBC, Python), IAMSamlPluginCredentialsProvider (ODBC).
var samlKeys = []int{plgDuration, plgPreferredRole, plgSSLInsecure, plgUseHTTPSProxy, plgDbGroupsFilter}

// pluginFamilies are the IAM plugins, by plugin_name lower-cased (the part
// after the last '.', as redshift_connector takes it), under each
// driver's name: ODBC's short ones (iam/rs_iam_support.h IAM_PLUGIN_*,
// compared regardless of case in IAMPluginFactory::CreatePlugin), JDBC's
// and redshift_connector's class names.
var pluginFamilies = func() map[string]*pluginFamily {
	jwt := &pluginFamily{name: "JwtIamAuthPlugin", odbc: "JwtIamAuthPlugin",
		source: odbcSrc + "iam/plugins/IAMJwtPluginCredentialsProvider.cpp (ODBC only)",
		keys:   []int{plgRoleARN, plgRoleSessionName, plgDuration}, finish: finishWebIdentity}
	saml := func(name, odbc, source string, keys, need []int, user bool, defaults map[int]string) *pluginFamily {
		return &pluginFamily{name: name, odbc: odbc, source: source, keys: append(slices.Clone(samlKeys), keys...),
			need: need, user: user, defaults: defaults, finish: finishSAML}
	}
	idpPort := strconv.Itoa(defaultIdPPort)
	wait := strconv.Itoa(int(defaultResponseTimeout / time.Second))
	// Required keys: JDBC SamlCredentialsProvider.checkRequiredParameters
	// (user, password, idp_host), redshift_connector
	// SamlCredentialsProvider.check_required_parameters, and each
	// plugin's own (ODBC ValidateArgumentsMap, JDBC checkRequiredParameters).
	family := []*pluginFamily{jwt,
		saml("AdfsCredentialsProvider", "ADFS", samlSrc("AdfsCredentialsProvider", "adfs_credentials_provider", "IAMAdfsCredentialsProvider"),
			[]int{plgIdPHost, plgIdPPort, plgLoginToRP}, []int{plgIdPHost}, true,
			map[int]string{plgIdPPort: idpPort, plgLoginToRP: defaultRelyingParty}),
		saml("OktaCredentialsProvider", "Okta", samlSrc("OktaCredentialsProvider", "okta_credentials_provider", "IAMOktaCredentialsProvider"),
			[]int{plgIdPHost, plgIdPPort, plgAppID, plgAppName}, []int{plgIdPHost, plgAppID}, true,
			map[int]string{plgIdPPort: idpPort, plgAppName: defaultOktaAppName}),
		saml("PingCredentialsProvider", "Ping", samlSrc("PingCredentialsProvider", "ping_credentials_provider", "IAMPingCredentialsProvider"),
			[]int{plgIdPHost, plgIdPPort, plgPartnerSPID}, []int{plgIdPHost}, true,
			map[int]string{plgIdPPort: idpPort, plgPartnerSPID: defaultRelyingParty}),
		saml("AzureCredentialsProvider", "AzureAD", samlSrc("AzureCredentialsProvider", "azure_credentials_provider", "IAMAzureCredentialsProvider"),
			[]int{plgTenant, plgPartition, plgClientID, plgClientSecret}, []int{plgTenant, plgClientID, plgClientSecret}, true, nil),
		saml("BasicSamlCredentialsProvider", "", jdbcSrc+"plugin/BasicSamlCredentialsProvider.java (JDBC only)",
			[]int{plgAssertion}, []int{plgAssertion}, false, nil),
		saml("BrowserSamlCredentialsProvider", "BrowserSAML",
			samlSrc("BrowserSamlCredentialsProvider", "browser_saml_credentials_provider", "IAMBrowserSamlCredentialsProvider"),
			[]int{plgLoginURL, plgListenPort, plgResponseTimeout}, []int{plgLoginURL}, false,
			map[int]string{plgListenPort: strconv.Itoa(defaultListenPort), plgResponseTimeout: wait}),
		saml("BrowserAzureCredentialsProvider", "BrowserAzureAD",
			samlSrc("BrowserAzureCredentialsProvider", "browser_azure_credentials_provider", "IAMBrowserAzureCredentialsProvider"),
			[]int{plgTenant, plgPartition, plgClientID, plgListenPort, plgResponseTimeout}, []int{plgTenant, plgClientID}, false,
			map[int]string{plgResponseTimeout: wait}),
	}
	m := map[string]*pluginFamily{}
	for _, f := range family {
		m[asciiLower(f.name)] = f
		if f.odbc != "" {
			m[asciiLower(f.odbc)] = f
		}
	}
	return m
}()

// samlSrc names a plugin's classes in Amazon's JDBC, Python and ODBC drivers.
func samlSrc(java, py, cpp string) string {
	return jdbcSrc + "plugin/" + java + ".java; " + pySrc + "plugin/" + py + ".py; " + odbcSrc + "iam/plugins/" + cpp + ".cpp"
}

// pluginReaders names the plugins that read plugin key i, for errors.
func pluginReaders(i int) string {
	var names []string
	add := func(name string) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, fam := range pluginFamilies {
		if slices.Contains(fam.keys, i) {
			add(fam.name)
		}
	}
	for _, fam := range nativePlugins {
		if slices.Contains(fam.keys, i) {
			add(fam.name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// addPlugin records one plugin key. Two keys for one field must agree;
// an empty value is taken as absent.
func (c *collector) addPlugin(i int, key, value string) error {
	spec := &pluginSpecs[i]
	c.ours(key, "plugin "+spec.Names[0])
	v, err := readValue(spec.kind, spec.Want, spec.min, spec.max, key, value)
	if err != nil || v == "" {
		return err
	}
	if c.plugKeys[i] != "" {
		if c.plugVal[i] != v {
			return conflict(key, c.plugKeys[i], spec.Names[0])
		}
		return nil
	}
	c.plugKeys[i], c.plugVal[i] = key, v
	return nil
}

// finishPlugin applies the IAM plugin the DSN names to its IAM login (nil
// for a DSN without IAM): a plugin key without a plugin that reads it, a
// key the plugin does not read, or an IAM plugin without IAM=1, is
// refused rather than logging in some other way than asked. finishNative
// has refused a plugin_name that is neither an IAM nor a native plugin,
// and checked the keys of a native one.
func (c *collector) finishPlugin(iam *IAM) error {
	if c.native != "" {
		return nil
	}
	name := c.nativeVal[nativePlugin]
	fam, ok := pluginFamilies[pluginKey(name)]
	if !ok {
		for i, k := range c.plugKeys {
			if k != "" && i == plgDbGroupsFilter {
				// JDBC reads it in SamlCredentialsProvider alone, and so
				// ignores it in a DSN without a SAML plugin.
				const does = "filters a SAML assertion's DbGroups; the DSN names no SAML plugin"
				c.relabel(func(u *KeyUse) {
					if u.Key == k && u.Went == Ours {
						u.Went, u.To = Dropped, "ODBC, JDBC: "+does
					}
				})
				c.cfg.Ignored = append(c.cfg.Ignored, IgnoredKey{Key: k, Driver: "ODBC, JDBC", Does: does})
				continue
			}
			if k != "" {
				return &ParseError{Key: k, Err: reason(ErrMissing,
					"goes with plugin_name (credentials_provider) set to a plugin that reads it: "+pluginReaders(i))}
			}
		}
		return nil
	}
	for i, k := range c.plugKeys {
		if k != "" && !slices.Contains(fam.keys, i) {
			return &ParseError{Key: k, Err: reason(ErrNotSupported, "not a key of plugin "+fam.name+"; it goes with "+pluginReaders(i))}
		}
	}
	for _, i := range []int{nativeJWT, nativeToken, nativeProvider, nativeTokenType, nativeNamespace} {
		if k := c.nativeKeys[i]; k != "" && (i != nativeJWT || fam.name != "JwtIamAuthPlugin") {
			return &ParseError{Key: k, Err: reason(ErrNotSupported, "not a key of plugin "+fam.name)}
		}
	}
	if iam == nil {
		// ODBC reads plugins under IAM=1 only (RS_CONN_INFO::doConnection),
		// JDBC under IAMAuth (RedshiftConnectionImpl), redshift_connector
		// under iam=True (IamHelper.set_iam_properties).
		return &ParseError{Key: c.nativeKeys[nativePlugin], Err: reason(ErrMissing,
			fam.name+" logs in through IAM: add IAM=1 (iam=true), as Amazon's drivers require")}
	}
	for _, i := range fam.need {
		if c.plugKeys[i] == "" {
			return &ParseError{Key: c.nativeKeys[nativePlugin], Err: reason(ErrMissing, fam.name+" needs "+pluginSpecs[i].Names[0])}
		}
	}
	return fam.finish(c, iam, fam)
}

// pluginKey is a plugin's name as the tables of plugins hold it: the
// part after the last '.', lower-cased.
func pluginKey(name string) string {
	return asciiLower(name[strings.LastIndexByte(name, '.')+1:])
}

// noStaticCredentials refuses AWS keys and a Profile with a plugin that
// gets its AWS credentials from STS, as JDBC IamHelper.setIAMCredentials
// does ("Conflict in connection property setting plugin_name and
// AccessKeyID").
func (c *collector) noStaticCredentials(iam *IAM, fam *pluginFamily, from string) error {
	for _, f := range []int{iamAccessKeyID, iamSecretAccessKey, iamSessionToken, iamProfile} {
		if k := c.iamKeys[f]; k != "" {
			return &ParseError{Key: k, Err: reason(ErrConflict,
				"conflicts with "+c.nativeKeys[nativePlugin]+": "+fam.name+" takes the AWS credentials from "+from)}
		}
	}
	return nil
}

// defaultRoleSessionName is ODBC JwtIamAuthPlugin's DEFAULT_ROLE_SESSION_NAME.
const defaultRoleSessionName = "jwt_redshift_session"

// finishWebIdentity completes an IAM login with JwtIamAuthPlugin: the
// token and role are required (JwtIamAuthPlugin::ValidateArgumentsMap);
// the AWS credentials come from STS, so static keys and a Profile are
// refused. Without DbUser or a user, the database user is the token's
// DbUser, upn, preferred_username or email claim, created if need be
// (IAMJwtPluginCredentialsProvider::RetrieveDbUserField).
func finishWebIdentity(c *collector, iam *IAM, fam *pluginFamily) error {
	v := &c.plugVal
	name, token := c.nativeKeys[nativePlugin], c.nativeVal[nativeJWT]
	switch {
	case token == "":
		return &ParseError{Key: name, Err: reason(ErrMissing, "JwtIamAuthPlugin needs web_identity_token")}
	case v[plgRoleARN] == "":
		return &ParseError{Key: name, Err: reason(ErrMissing, "JwtIamAuthPlugin needs role_arn")}
	}
	if err := c.noStaticCredentials(iam, fam, "STS AssumeRoleWithWebIdentity"); err != nil {
		return err
	}
	iam.WebIdentity = WebIdentity{Token: token, RoleARN: v[plgRoleARN],
		RoleSessionName: v[plgRoleSessionName], DurationSeconds: atoi(v[plgDuration])}
	if iam.WebIdentity.RoleSessionName == "" {
		iam.WebIdentity.RoleSessionName = defaultRoleSessionName
	}
	if iam.DbUser == "" && !iam.Serverless && iam.Workgroup == "" && !iam.GroupFederation {
		user, err := jwtDbUser(iam.WebIdentity.Token)
		if err != nil {
			return &ParseError{Key: c.nativeKeys[nativeJWT], Err: reason(ErrMissing,
				"no DbUser in the DSN, and "+err.Error()+"; give DbUser")}
		}
		iam.DbUser, iam.AutoCreate = user, true
	}
	return nil
}

// jwtDbUser returns the first of the claims DbUser, upn,
// preferred_username and email in the token's payload, as ODBC's
// RetrieveDbUserField reads them. The token's signature is STS's to check.
func jwtDbUser(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the token is not a JWT (three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	var claims map[string]any
	if err != nil || json.Unmarshal(payload, &claims) != nil {
		return "", errors.New("the token's payload is not base64url-encoded JSON")
	}
	for _, f := range []string{"DbUser", "upn", "preferred_username", "email"} {
		if s, ok := claims[f].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s), nil
		}
	}
	return "", errors.New("the token has no DbUser, upn, preferred_username or email claim")
}
