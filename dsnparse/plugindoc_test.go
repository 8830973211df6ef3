package dsnparse

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pluginDocTable renders the plugin tables (pluginFamilies,
// nativePlugins, pluginSpecs) as the package docs show them.
func pluginDocTable() string {
	var b strings.Builder
	names := func(is []int) []string {
		var out []string
		for _, i := range is {
			out = append(out, pluginSpecs[i].Names[0])
		}
		return out
	}
	line := func(name, odbc, how string, need, reads []string, source string) {
		b.WriteString("//\t" + name)
		if odbc != "" && odbc != name {
			b.WriteString(" (ODBC: " + odbc + ")")
		}
		b.WriteString(": " + how + "\n//\t    needs: " + strings.Join(need, ", ") + "\n")
		if len(reads) > 0 {
			b.WriteString("//\t    reads: " + strings.Join(reads, ", ") + "\n")
		}
		b.WriteString("//\t    source: " + source + "\n")
	}
	var iam []*pluginFamily
	for _, f := range pluginFamilies {
		if !slices.Contains(iam, f) {
			iam = append(iam, f)
		}
	}
	slices.SortFunc(iam, func(a, b *pluginFamily) int { return strings.Compare(a.name, b.name) })
	for _, f := range iam {
		how, need := "IAM=1; a SAML assertion, then STS AssumeRoleWithSAML (IAM.SAML)", names(f.need)
		if f.user {
			need = append([]string{"user (UID)", "password (PWD)"}, need...)
		}
		if f.name == "JwtIamAuthPlugin" {
			how, need = "IAM=1; STS AssumeRoleWithWebIdentity (IAM.WebIdentity)", []string{"web_identity_token", "role_arn"}
		}
		var reads []string
		for _, k := range names(f.keys) {
			if !slices.Contains(need, k) {
				reads = append(reads, k)
			}
		}
		line(f.name, f.odbc, how, need, reads, f.source)
	}
	var native []*nativeFamily
	for _, f := range nativePlugins {
		if !slices.Contains(native, f) {
			native = append(native, f)
		}
	}
	slices.SortFunc(native, func(a, b *nativeFamily) int { return strings.Compare(a.name, b.name) })
	for _, f := range native {
		need, reads := names(f.need), []string{"provider_name"}
		switch f.name {
		case "BasicJwtCredentialsProvider":
			need = []string{"web_identity_token"}
		case "IdpTokenAuthPlugin":
			need = []string{"token and token_type, or AccessKeyID, SecretAccessKey and SessionToken (Exchange)"}
		}
		if f.idpType == "AwsIdc" {
			reads = append(reads, "identity_namespace")
		}
		for _, k := range names(f.keys) {
			if !slices.Contains(need, k) {
				reads = append(reads, k)
			}
		}
		line(f.name, f.odbc, "native, idp_type "+f.idpType+" (DSN.Native)", need, reads, f.source)
	}
	b.WriteString("//\n")
	for _, s := range pluginSpecs {
		b.WriteString("//\t" + strings.Join(s.Names, ", ") + ": " + s.Want)
		if s.Secret {
			b.WriteString(" (a secret)")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestPluginDocTable keeps the plugin tables of doc.go equal to the code's.
func TestPluginDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	if !strings.Contains(string(doc), pluginDocTable()) {
		t.Fatalf("doc.go's plugin tables are not the code's; put this in their place:\n%s", pluginDocTable())
	}
}

// TestPluginKeysTable: every plugin key is found in any case, in one
// table only; Redact masks those marked Secret; each is read by some
// plugin, and a plugin's required keys are among those it reads.
func TestPluginKeysTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		for _, n := range k.Names {
			seen[asciiLower(n)] = true
		}
	}
	for _, spec := range iamSpecs {
		for _, n := range spec.Names {
			seen[asciiLower(n)] = true
		}
	}
	for _, spec := range nativeSpecs {
		for _, n := range spec.Names {
			seen[asciiLower(n)] = true
		}
	}
	for i, spec := range pluginSpecs {
		require.NotEmpty(t, spec.Want)
		require.NotEmpty(t, pluginReaders(i), "%s is read by no plugin", spec.Names[0])
		for _, n := range spec.Names {
			k := asciiLower(n)
			require.False(t, seen[k], "key %s twice", n)
			seen[k] = true
			_, amazon := amazonIndex[k]
			require.False(t, amazon || ignoredGroup(k) >= 0 || pluginKeys[k], n)
			for _, key := range []string{n, strings.ToUpper(n)} {
				j, ok := pluginKeyIndex[asciiLower(key)]
				require.True(t, ok && j == i, key)
				require.True(t, claimed(key), key)
			}
			require.Equal(t, spec.Secret, isSecretKey(n), "Redact masks %s", n)
		}
	}
	for _, f := range pluginFamilies {
		for _, i := range f.need {
			require.Contains(t, f.keys, i, "%s needs a key it does not read", f.name)
		}
	}
	for _, f := range nativePlugins {
		for _, i := range f.need {
			require.Contains(t, f.keys, i, "%s needs a key it does not read", f.name)
		}
	}
}

// TestPluginNames: each driver's spelling of each plugin, with a package
// prefix and in any case, picks the plugin.
func TestPluginNames(t *testing.T) {
	for name, want := range map[string]string{
		"ADFS": "AdfsCredentialsProvider", "com.amazon.redshift.plugin.AdfsCredentialsProvider": "AdfsCredentialsProvider",
		"redshift_connector.plugin.AdfsCredentialsProvider": "AdfsCredentialsProvider", "okta": "OktaCredentialsProvider",
		"OktaCredentialsProvider": "OktaCredentialsProvider", "Ping": "PingCredentialsProvider", "AZUREAD": "AzureCredentialsProvider",
		"com.amazon.redshift.plugin.AzureCredentialsProvider":     "AzureCredentialsProvider",
		"com.amazon.redshift.plugin.BasicSamlCredentialsProvider": "BasicSamlCredentialsProvider",
		"BrowserSAML": "BrowserSamlCredentialsProvider", "redshift_connector.plugin.BrowserSamlCredentialsProvider": "BrowserSamlCredentialsProvider",
		"BrowserAzureAD": "BrowserAzureCredentialsProvider", "com.amazon.redshift.plugin.BrowserAzureCredentialsProvider": "BrowserAzureCredentialsProvider",
		"JwtIamAuthPlugin": "JwtIamAuthPlugin",
	} {
		f := pluginFamilies[pluginKey(name)]
		require.NotNil(t, f, name)
		require.Equal(t, want, f.name, name)
	}
	for name, want := range map[string]string{
		"JWT": "BasicJwtCredentialsProvider", "com.amazon.redshift.plugin.BasicJwtCredentialsProvider": "BasicJwtCredentialsProvider",
		"BrowserAzureADOAuth2": "BrowserAzureOAuth2CredentialsProvider",
		"redshift_connector.plugin.BrowserAzureOAuth2CredentialsProvider": "BrowserAzureOAuth2CredentialsProvider",
		"com.amazon.redshift.plugin.BrowserIdcAuthPlugin":                 "BrowserIdcAuthPlugin", "idptokenauthplugin": "IdpTokenAuthPlugin",
	} {
		f := nativePlugins[pluginKey(name)]
		require.NotNil(t, f, name)
		require.Equal(t, want, f.name, name)
	}
}
