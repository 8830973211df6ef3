package dsnparse

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Native is the login with an identity provider's token that Amazon
// Redshift checks itself (its "native IdP" login): no browser and no AWS
// credentials. A DSN asks for it with plugin_name (credentials_provider in
// redshift_connector) set to BasicJwtCredentialsProvider (JWT in ODBC) with
// web_identity_token, or IdpTokenAuthPlugin with token and token_type;
// [DSN.Native] is nil for a DSN that asks for neither.
//
// It holds the token: it prints, and encodes to JSON, with it masked.
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
}

// StartupParams are the parameters the startup message adds for n, as
// Amazon's drivers send them: redshift_connector core.py
// Connection.__init__ and set_idc_plugins_params, JDBC
// ConnectionFactoryImpl.getParametersForStartup, ODBC rslibpq.c.
func (n *Native) StartupParams() map[string]string {
	p := map[string]string{"plugin_name": n.Plugin, "idp_type": n.IdPType}
	for k, v := range map[string]string{"provider_name": n.ProviderName, "token_type": n.TokenType, "identity_namespace": n.IdentityNamespace} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// Format prints n, for every verb, with Token masked as "xxxxx".
func (n Native) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedNative(n.masked()))
}

// MarshalJSON encodes n with Token masked.
func (n Native) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedNative(n.masked()))
}

// redactedNative is a Native without its methods.
type redactedNative Native

func (n Native) masked() Native {
	if n.Token != "" {
		n.Token = mask
	}
	return n
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

// nativePlugins are the plugins of the native login, by the name after
// the last '.' lower-cased (as redshift_connector takes it; JDBC and ODBC
// compare whole names regardless of case), with the idp_type each sends.
var nativePlugins = map[string]string{
	"basicjwtcredentialsprovider": "AzureAD", // JDBC, Python
	"jwt":                         "AzureAD", // ODBC IAM_PLUGIN_JWT
	"idptokenauthplugin":          "AwsIdc",
}

// supportedPlugins is how errors name the plugins redshift-ka supports.
const supportedPlugins = "BasicJwtCredentialsProvider (ODBC: JWT) with web_identity_token, IdpTokenAuthPlugin with token and token_type, " +
	"or JwtIamAuthPlugin with IAM=1, web_identity_token and role_arn"

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
// without a plugin or with the other plugin's. With a native plugin, an
// IAM switch (ODBC asks for IAM=1 with JWT) turns no IAM login on.
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
	short := asciiLower(name[strings.LastIndexByte(name, '.')+1:])
	if _, iamPlugin := pluginFamilies[short]; iamPlugin {
		return nil, nil // an IAM plugin: finishPlugin reads it
	}
	idp, ok := nativePlugins[short]
	if !ok || pluginShown(name) != name {
		return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrNotSupported,
			"identity-provider plugin "+pluginShown(name)+" is not supported; supported: "+supportedPlugins+
				"; or log in with IAM credentials (AccessKeyID and SecretAccessKey, Profile, or the AWS SDK's default chain) or a password")}
	}
	n := &Native{Plugin: name, IdPType: idp, ProviderName: v[nativeProvider],
		TokenType: v[nativeTokenType], IdentityNamespace: v[nativeNamespace], NoUser: c.user == ""}
	need, needKeys, other := nativeJWT, "web_identity_token (webIdentityToken)", []int{nativeToken, nativeTokenType, nativeNamespace}
	if idp == "AwsIdc" {
		need, needKeys, other = nativeToken, "token", []int{nativeJWT}
		if k[nativeToken] == "" && c.iamKeys[iamAccessKeyID] != "" {
			// redshift_connector IdpTokenAuthPlugin._get_subject_token.
			return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrNotSupported,
				name+" with AWS credentials, exchanged through GetIdentityCenterAuthToken, is not supported yet; give token and token_type")}
		}
		if k[nativeTokenType] == "" {
			return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrMissing,
				name+" needs token_type (ACCESS_TOKEN or EXT_JWT) with token")}
		}
	}
	for _, i := range other {
		if k[i] != "" {
			return nil, &ParseError{Key: k[i], Err: reason(ErrConflict,
				"is not a key of "+name+"; "+supportedPlugins)}
		}
	}
	if k[need] == "" {
		return nil, &ParseError{Key: k[nativePlugin], Err: reason(ErrMissing,
			name+" needs "+needKeys)}
	}
	n.Token = v[need]
	c.iamVal[iamSwitch] = ""
	c.native = name
	return n, nil
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
