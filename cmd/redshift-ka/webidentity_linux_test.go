//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestCheckWebIdentity: check shows JwtIamAuthPlugin's STS step and the
// role, then the login, in text and JSON; a refused token fails naming
// STS. No output shows the token.
func TestCheckWebIdentity(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	const role = "arn:aws:iam::123456789012:role/etl-web"
	oidc := harness.NewFakeOIDC(t, "https://oidc.example.com/cli")
	fake.AllowWebIdentity(role, oidc, "sts.amazonaws.com")
	dsn := func(token string) string {
		return fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;sslrootcert=%s;"+
			"IAM=1;ClusterID=etl-prod;Region=us-east-1;plugin_name=JwtIamAuthPlugin;web_identity_token=%s;role_arn=%s",
			pg.Host, pg.Port, pg.Database, pg.CAFile, token, role)
	}
	token := oidc.Token("sts.amazonaws.com", "s", fake.Now().Add(time.Hour), map[string]any{"preferred_username": "checkweb"})
	payload := strings.Split(token, ".")[1]

	r := runCLI(t.Context(), "", nil, "check", dsn(token))
	require.Equal(t, exitOK, r.code, r.all())
	assert.Regexp(t, `Login +IAM: JwtIamAuthPlugin \(STS AssumeRoleWithWebIdentity as `+role+`\), then GetClusterCredentials for cluster etl-prod in us-east-1: database user IAM:checkweb`, r.stdout)
	assert.NotContains(t, r.all(), payload)

	r = runCLI(t.Context(), "", nil, "check", "--json", dsn(token))
	require.Equal(t, exitOK, r.code, r.all())
	var res checkResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	require.NotNil(t, res.Login)
	assert.Equal(t, "JwtIamAuthPlugin", res.Login.Plugin)
	assert.Equal(t, role, res.Login.Role)
	assert.Equal(t, "IAM:checkweb", res.Login.DatabaseUser)
	assert.NotContains(t, r.all(), payload)
	_, stsSecret, stsSession := fake.STSIssued()
	require.NotEmpty(t, stsSecret, "STS issued keys")
	for _, secret := range []string{stsSecret, stsSession} {
		assert.NotContains(t, r.all(), secret, "the keys STS issued")
	}

	expired := oidc.Token("sts.amazonaws.com", "s", fake.Now().Add(-time.Minute), map[string]any{"preferred_username": "checkweb"})
	for _, args := range [][]string{{"check", dsn(expired)}, {"check", "--json", dsn(expired)}, {"exec", "-c", "SELECT 1", dsn(expired)}} {
		r = runCLI(t.Context(), "", nil, args...)
		assert.Equal(t, exitConnect, r.code, r.all())
		assert.Contains(t, r.all(), "STS AssumeRoleWithWebIdentity for role "+role+", for cluster etl-prod: ExpiredTokenException")
		assert.NotContains(t, r.all(), strings.Split(expired, ".")[1])
	}
}
