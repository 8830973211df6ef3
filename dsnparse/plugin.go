package dsnparse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// WebIdentity is the web identity an IAM login assumes a role with, as
// Amazon's ODBC driver does for plugin_name=JwtIamAuthPlugin: STS
// AssumeRoleWithWebIdentity with the token, and then the IAM login with
// the credentials STS returns. The zero value asks for none.
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

// pluginKeySpec describes one key of the IAM identity-provider plugins
// that redshift-ka supports. plugin_name and web_identity_token, which the
// native login reads too, are in nativeSpecs (native.go); plugin_name
// chooses the plugin, which reads the keys it needs and refuses the
// others (pluginFamilies).
type pluginKeySpec struct {
	// Names lists the accepted keys: ODBC's first, then JDBC's.
	Names []string
	// Want describes the accepted values, as error messages quote it.
	Want string
	// Secret marks a value that is masked wherever a password is.
	Secret bool
	// min and max bound a value in whole seconds; 0: text.
	min, max int
}

// The fields of pluginSpecs, by index.
const (
	plgRoleARN = iota
	plgRoleSessionName
	plgDuration
	numPluginFields
)

// pluginSpecs are the plugin keys, as ODBC's rsodbc.h (RS_ROLE_ARN,
// RS_ROLE_SESSION_NAME, RS_DURATION) and JDBC's RedshiftProperty (roleArn,
// roleSessionName) spell them.
var pluginSpecs = [numPluginFields]pluginKeySpec{
	plgRoleARN:         {Names: []string{"role_arn", "roleArn"}, Want: "an IAM role ARN"},
	plgRoleSessionName: {Names: []string{"role_session_name", "roleSessionName"}, Want: "a role session name"},
	plgDuration:        {Names: []string{"duration"}, Want: "whole seconds 900..43200", min: 900, max: 43200},
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

// pluginFamily is one plugin_name redshift-ka supports.
type pluginFamily struct {
	name string // as Amazon's drivers spell it
	// iam is true for a plugin that logs in through IAM (IAM=1).
	iam bool
	// keys are the fields of pluginSpecs the plugin reads.
	keys []int
	// finish completes the IAM login with the plugin's keys.
	finish func(c *collector, iam *IAM) error
}

// pluginFamilies are the IAM plugins, by plugin_name lower-cased (the
// part after the last '.', as for the native ones).
var pluginFamilies = map[string]pluginFamily{
	// ODBC JwtIamAuthPlugin.cpp, IAMJwtPluginCredentialsProvider.cpp.
	"jwtiamauthplugin": {name: "JwtIamAuthPlugin", iam: true,
		keys: []int{plgRoleARN, plgRoleSessionName, plgDuration}, finish: finishWebIdentity},
}

// addPlugin records one plugin key. Two keys for one field must agree;
// an empty value is taken as absent.
func (c *collector) addPlugin(i int, key, value string) error {
	spec := &pluginSpecs[i]
	c.ours(key, "plugin "+spec.Names[0])
	v := strings.TrimSpace(value)
	if v == "" {
		return nil
	}
	if spec.max > 0 {
		if strings.Trim(v, "0123456789") != "" {
			return valueError(key, value, ErrSyntax, "want "+spec.Want+", got ")
		}
		v = strings.TrimLeft(v, "0")
		if len(v) > 5 || atoi(v) < spec.min || atoi(v) > spec.max {
			return valueError(key, value, ErrRange, "want "+spec.Want+", got ")
		}
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
// for a DSN without IAM): a role key without such a plugin, a key the
// plugin does not read, or an IAM plugin without IAM=1, is refused rather
// than logging in some other way than asked. finishNative has refused a
// plugin_name that is neither an IAM nor a native plugin.
func (c *collector) finishPlugin(iam *IAM) error {
	name := c.nativeVal[nativePlugin]
	fam, ok := pluginFamilies[asciiLower(name[strings.LastIndexByte(name, '.')+1:])]
	if !ok {
		for _, k := range c.plugKeys {
			if k != "" {
				return &ParseError{Key: k, Err: reason(ErrMissing,
					"goes with plugin_name=JwtIamAuthPlugin (with IAM=1, for STS AssumeRoleWithWebIdentity)")}
			}
		}
		return nil
	}
	for i, k := range c.plugKeys {
		if k != "" && !slices.Contains(fam.keys, i) {
			return &ParseError{Key: k, Err: reason(ErrNotSupported, "not a key of plugin "+fam.name)}
		}
	}
	for _, i := range []int{nativeToken, nativeProvider, nativeTokenType, nativeNamespace} {
		if k := c.nativeKeys[i]; k != "" {
			return &ParseError{Key: k, Err: reason(ErrNotSupported, "not a key of plugin "+fam.name)}
		}
	}
	if fam.iam && iam == nil {
		return &ParseError{Key: c.nativeKeys[nativePlugin], Err: reason(ErrMissing,
			fam.name+" logs in through IAM: add IAM=1 (iam=true), as Amazon's ODBC driver requires")}
	}
	return fam.finish(c, iam)
}

// defaultRoleSessionName is ODBC JwtIamAuthPlugin's DEFAULT_ROLE_SESSION_NAME.
const defaultRoleSessionName = "jwt_redshift_session"

// finishWebIdentity completes an IAM login with JwtIamAuthPlugin: the
// token and role are required (JwtIamAuthPlugin::ValidateArgumentsMap);
// the AWS credentials come from STS, so static keys and a Profile are
// refused. Without DbUser or a user, the database user is the token's
// DbUser, upn, preferred_username or email claim, created if need be
// (IAMJwtPluginCredentialsProvider::RetrieveDbUserField).
func finishWebIdentity(c *collector, iam *IAM) error {
	v := &c.plugVal
	name, token := c.nativeKeys[nativePlugin], c.nativeVal[nativeJWT]
	switch {
	case token == "":
		return &ParseError{Key: name, Err: reason(ErrMissing, "JwtIamAuthPlugin needs web_identity_token")}
	case v[plgRoleARN] == "":
		return &ParseError{Key: name, Err: reason(ErrMissing, "JwtIamAuthPlugin needs role_arn")}
	case iam.AccessKeyID != "":
		return &ParseError{Key: c.iamKeys[iamAccessKeyID], Err: reason(ErrConflict,
			"conflicts with "+name+": JwtIamAuthPlugin takes the AWS credentials from STS AssumeRoleWithWebIdentity")}
	case iam.Profile != "":
		return &ParseError{Key: c.iamKeys[iamProfile], Err: reason(ErrConflict,
			"conflicts with "+name+": JwtIamAuthPlugin takes the AWS credentials from STS AssumeRoleWithWebIdentity")}
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
