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
