//go:build linux

package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestCheckNativeLogin: check, offline and failing to connect, in text
// and --json, names the native plugin and never shows the token, in
// every DSN form.
func TestCheckNativeLogin(t *testing.T) {
	const token = `eyJ0eXAi.5ee1c0de 'b0a7f00d" #;&?%={}deadbeef.c2lnbmF0dXJl`
	p := &harness.Postgres{Host: "127.0.0.1", Port: 1, User: "me", Database: "db", Password: "pw-0123456789abcdef"}
	braced := "{" + strings.ReplaceAll(token, "}", "}}") + "}"
	for form, dsn := range map[string]string{
		"url":  p.URL("sslmode=require&credentials_provider=BasicJwtCredentialsProvider&provider_name=azure_idp&web_identity_token=" + url.QueryEscape(token)),
		"kv":   p.KeyValue("sslmode=require plugin_name=BasicJwtCredentialsProvider provider_name=azure_idp web_identity_token='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(token) + "'"),
		"odbc": p.ODBC("SSLMode=require;IAM=1;plugin_name=JWT;provider_name=azure_idp;web_identity_token=" + braced),
		"jdbc": p.JDBC("sslmode=require&plugin_name=com.amazon.redshift.plugin.BasicJwtCredentialsProvider&providerName=azure_idp&webIdentityToken=" + url.QueryEscape(token)),
	} {
		t.Run(form, func(t *testing.T) {
			for _, args := range [][]string{
				{"check", "--offline", dsn},
				{"check", "--offline", "--json", dsn},
				{"check", "--connect-timeout", "5s", dsn},
				{"check", "--connect-timeout", "5s", "--json", dsn},
			} {
				r := runCLI(t.Context(), "", nil, args...)
				out := r.all()
				if args[1] == "--offline" {
					require.Equal(t, exitOK, r.code, out)
					assert.Contains(t, out, "azure_idp")
					assert.Contains(t, out, "AzureAD")
				} else {
					assert.Equal(t, exitConnect, r.code, out)
				}
				for _, piece := range []string{token, url.QueryEscape(token), "5ee1c0de", "b0a7f00d", "deadbeef", "c2lnbmF0dXJl", "#;&?%={}"} {
					assert.NotContains(t, out, piece, "%v", args)
				}
			}
		})
	}
}
