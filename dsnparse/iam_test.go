package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileSecret holds white space, both quotes and every byte that some
// DSN form treats specially.
const hostileSecret = `s k'e"y #;&?%={}+/@ z`

// pctEscape %-escapes every byte of s but letters and digits: a URL query
// value that pgx, lib/pq and the JDBC driver all read as s.
func pctEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// iamSecretDSNs builds an IAM DSN in every form around a secret access key
// and a session token, each written as its form wants it.
func iamSecretDSNs(key, token string) map[string]string {
	braced := func(v string) string { return "{" + strings.ReplaceAll(v, "}", "}}") + "}" }
	return map[string]string{
		"url":   "postgres://etl@c1.abc.us-east-1.redshift.amazonaws.com:5439/dev?iam=1&secret_access_key=" + pctEscape(key) + "&session_token=" + pctEscape(token) + "&access_key_id=AKIAEXAMPLE",
		"kv":    "host=c1.abc.us-east-1.redshift.amazonaws.com user=etl iam=true secret_access_key=" + quote(key) + " session_token=" + quote(token) + " access_key_id=AKIAEXAMPLE",
		"odbc":  "Server=c1.abc.us-east-1.redshift.amazonaws.com;UID=etl;IAM=1;SecretAccessKey=" + braced(key) + ";SessionToken=" + braced(token) + ";AccessKeyID=AKIAEXAMPLE",
		"jdbc":  "jdbc:redshift:iam://c1.abc.us-east-1.redshift.amazonaws.com:5439/dev?DbUser=etl&SecretAccessKey=" + url.QueryEscape(key) + ";SessionToken=" + url.QueryEscape(token) + "&AccessKeyID=AKIAEXAMPLE",
		"jdbc2": "jdbc:redshift://c1.abc.us-east-1.redshift.amazonaws.com/dev;IAMAuth=1;secret_access_key=" + pctEscape(key) + ";session_token=" + pctEscape(token) + ";access_key_id=AKIAEXAMPLE;user=etl",
	}
}

// secretPieces are the parts of hostileSecret that must never show.
func secretPieces(s string) []string {
	return []string{s, "k'e", `"y`, "#;&?", "%={}", "+/@", url.QueryEscape(s), pctEscape(s)}
}

// TestIAMSecretsNeverShow: in every form, a hostile secret access key and
// session token are read exactly, and neither shows in the parsed DSN
// printed with any verb, in JSON, in the IAM printed alone, in Redact's
// output, or in a ParseError about the same DSN; Secrets lists them.
func TestIAMSecretsNeverShow(t *testing.T) {
	key, token := hostileSecret, strings.ToUpper(hostileSecret)+"T0K"
	for form, dsn := range iamSecretDSNs(key, token) {
		t.Run(form, func(t *testing.T) {
			d, err := Parse(dsn)
			require.NoError(t, err)
			require.NotNil(t, d.IAM)
			assert.Equal(t, key, d.IAM.SecretAccessKey)
			assert.Equal(t, token, d.IAM.SessionToken)
			assert.Equal(t, "etl", d.IAM.DbUser)
			assert.Equal(t, "c1", d.IAM.ClusterID)

			outputs := map[string]string{"Redact": Redact(dsn), "Rest": d.Rest}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
				outputs[verb] = fmt.Sprintf(verb, d)
				outputs[verb+" of a pointer"] = fmt.Sprintf(verb, &d)
				outputs[verb+" of IAM"] = fmt.Sprintf(verb, *d.IAM)
				outputs[verb+" of *IAM"] = fmt.Sprintf(verb, d.IAM)
			}
			outputs["Sprint"] = fmt.Sprint(d, d.IAM, *d.IAM)
			outputs["Sprintln"] = fmt.Sprintln(d, d.IAM, *d.IAM)
			for name, v := range map[string]any{"JSON": d, "JSON of IAM": d.IAM, "JSON of IAM value": *d.IAM} {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				outputs[name] = string(b)
			}
			// The same DSN with an error after the secrets.
			for _, bad := range []string{"iam=2", "IAMDuration=1", "AutoCreate=maybe", "secret_access_key=other", "SessionToken=other"} {
				sep := map[string]string{"url": "&", "kv": " ", "odbc": ";", "jdbc": "&", "jdbc2": ";"}[form]
				_, err := Parse(dsn + sep + bad)
				require.Error(t, err, bad)
				outputs["error with "+bad] = err.Error()
			}
			for how, out := range outputs {
				for _, piece := range secretPieces(key) {
					assert.NotContains(t, out, piece, how)
				}
				for _, piece := range secretPieces(token) {
					assert.NotContains(t, out, piece, how)
				}
			}
			assert.Contains(t, outputs["%+v"], "SecretAccessKey:xxxxx")
			assert.Contains(t, outputs["%+v of *IAM"], "SessionToken:xxxxx")
			assert.Contains(t, outputs["JSON"], `"SecretAccessKey":"xxxxx"`)
			assert.Contains(t, outputs["%+v"], "AKIAEXAMPLE", "what is not secret shows")
			assert.Contains(t, Secrets(dsn), key)
			assert.Contains(t, Secrets(dsn), token)
			assert.Equal(t, key, d.IAM.SecretAccessKey, "printing masks a copy")
			// What DSN prints field by field is masked before IAM's own
			// Format is reached.
			assert.Equal(t, mask, d.redacted().IAM.SecretAccessKey)
			assert.Equal(t, mask, d.redacted().IAM.SessionToken)
		})
	}
}

// TestIAMFormatUnset: unset secrets print empty, not masked, and a nil
// *IAM prints as <nil>.
func TestIAMFormatUnset(t *testing.T) {
	i := IAM{ClusterID: "c"}
	assert.Contains(t, fmt.Sprintf("%+v", i), "SecretAccessKey: SessionToken:")
	var nilIAM *IAM
	assert.Equal(t, "<nil>", fmt.Sprintf("%v", nilIAM))
	b, err := json.Marshal(struct{ IAM *IAM }{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"IAM":null}`, string(b))
}

// TestIAMKeysTable: every key of the table is found in any case in every
// form, no key is both an IAM key and another kind, and Redact masks the
// keys it marks Secret.
func TestIAMKeysTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		for _, n := range k.Names {
			seen[asciiLower(n)] = true
		}
	}
	fields := map[string]bool{}
	for i, spec := range iamSpecs {
		assert.False(t, fields[spec.Field], "field %s twice", spec.Field)
		fields[spec.Field] = true
		assert.NotEmpty(t, spec.Want)
		assert.Equal(t, spec.Secret, spec.Field == "SecretAccessKey" || spec.Field == "SessionToken", spec.Field)
		for _, n := range spec.Names {
			assert.False(t, seen[asciiLower(n)], "key %s twice", n)
			seen[asciiLower(n)] = true
			assert.False(t, iamIgnoredKeys[asciiLower(n)] || pluginKeys[asciiLower(n)], n)
			for _, key := range []string{n, strings.ToUpper(n), strings.ToLower(n)} {
				j, ok := iamKeyIndex[asciiLower(key)]
				assert.True(t, ok && j == i, key)
				assert.True(t, claimed(key), key)
			}
			assert.Equal(t, spec.Secret, isSecretKey(n), "Redact masks %s", n)
		}
	}
	for k := range iamIgnoredKeys {
		assert.False(t, pluginKeys[k], k)
	}
	// The fields named are those of IAM, but the switch.
	typ := fmt.Sprintf("%#v", redactedIAM{})
	for f := range fields {
		if f != "IAM" {
			assert.Contains(t, typ, f+":", f)
		}
	}
	assert.True(t, isSecretKey("SECRET_ACCESS_KEY") && isSecretKey("SessionToken"), "Redact masks the IAM secrets")
}

// TestEndpointParts: the host names Amazon's drivers read the cluster,
// workgroup and region from.
func TestEndpointParts(t *testing.T) {
	for _, tc := range []struct{ host, cluster, workgroup, region string }{
		{"etl-prod.c9abcdefgh.us-east-1.redshift.amazonaws.com", "etl-prod", "", "us-east-1"},
		{"ETL.C9.EU-WEST-1.REDSHIFT.AMAZONAWS.COM", "etl", "", "eu-west-1"},
		{"c.x.cn-north-1.redshift.amazonaws.com.cn", "c", "", "cn-north-1"},
		{"c.x.us-east-1.redshift-dev.amazonaws.com", "c", "", "us-east-1"},
		{"a.b.c.x.us-east-1.redshift.amazonaws.com", "a.b.c", "", "us-east-1"},
		{"wg.123456789012.us-west-2.redshift-serverless.amazonaws.com", "", "wg", "us-west-2"},
		{"123456789012.us-west-2.redshift-serverless.amazonaws.com", "", "", "us-west-2"},
		{"x.us-east-1.redshift.amazonaws.com", "", "", ""},
		{"redshift.amazonaws.com", "", "", ""},
		{"warehouse.example.com", "", "", ""},
		{"c.x.us-east-1.redshift.example.com", "", "", ""},
		{"", "", "", ""},
	} {
		c, w, r := endpointParts(tc.host)
		assert.Equal(t, []string{tc.cluster, tc.workgroup, tc.region}, []string{c, w, r}, tc.host)
	}
}

// TestIAMHalfAKeyPair: static AWS credentials come whole, or the DSN is
// refused at parse time (the SDK would fail only at the first connect).
func TestIAMHalfAKeyPair(t *testing.T) {
	const base = "host=c.x.us-east-1.redshift.amazonaws.com iam=1 "
	for keys, key := range map[string]string{
		"access_key_id=AKIAEXAMPLE":                      "access_key_id",
		"secret_access_key=wJalr/K7+x":                   "secret_access_key",
		"session_token=tok secret_access_key=wJalr/K7+x": "secret_access_key",
		"session_token=tok":                              "session_token",
	} {
		_, err := Parse(base + keys)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, keys)
		assert.ErrorIs(t, err, ErrMissing, keys)
		assert.Equal(t, key, pe.Key, keys)
		assert.NotContains(t, err.Error(), "wJalr", keys)
	}
	_, err := Parse(base + "access_key_id=AKIAEXAMPLE secret_access_key=wJalr/K7+x session_token=tok")
	assert.NoError(t, err)
}

// TestRedactIdentityTokens: identity-provider tokens, which Parse refuses,
// are still masked by Redact for a program that logs a DSN.
func TestRedactIdentityTokens(t *testing.T) {
	for _, dsn := range []string{
		"postgres://h/dev?web_identity_token=eyJSECRETJWT",
		"jdbc:redshift:iam://h/dev?webIdentityToken=eyJSECRETJWT",
		"jdbc:redshift://h/dev?token=eyJSECRETJWT",
		"Server=h;web_identity_token={eyJSECRETJWT}",
	} {
		assert.NotContains(t, Redact(dsn), "eyJSECRETJWT", dsn)
		assert.Contains(t, Secrets(dsn), "eyJSECRETJWT", dsn)
	}
}
