//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// iamCLI starts a server and the fake AWS APIs, points the AWS SDK at the
// fake, and returns an ODBC DSN with an IAM login that carries its own
// secret key and session token.
func iamCLI(t *testing.T) (*harness.Postgres, *harness.AWSFake, string) {
	t.Helper()
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true}) // an IAM login requires TLS
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	fake.AddKey("AKIACLIKEYS000000001", "cli-secret-ZXCVBN0123456789", "cli-token-POIUYT0123456789")
	dsn := fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;sslrootcert=%s;"+
		"IAM=1;ClusterID=etl-prod;DbUser=etl;DbGroups=loaders,readers;Region=us-east-1;"+
		"AccessKeyID=AKIACLIKEYS000000001;SecretAccessKey=cli-secret-ZXCVBN0123456789;SessionToken=cli-token-POIUYT0123456789;KeepAlivesIdle=200",
		pg.Host, pg.Port, pg.Database, pg.CAFile)
	return pg, fake, dsn
}

// noAWSSecret fails the test if out shows the DSN's AWS secrets or the
// password the fake issued.
func noAWSSecret(t *testing.T, fake *harness.AWSFake, out string) {
	t.Helper()
	_, pw := fake.Issued()
	for _, s := range []string{"ZXCVBN", "POIUYT", pw} {
		if s != "" {
			assert.NotContains(t, out, s)
		}
	}
}

// TestCheckIAM: check reports the login (method, API, database user,
// expiry), in text and JSON, with one API call; --offline says which API
// it would call and with what, and calls nothing; no output shows a
// secret.
func TestCheckIAM(t *testing.T) {
	_, fake, dsn := iamCLI(t)

	r := runCLI(t.Context(), "", nil, "check", dsn)
	require.Equal(t, exitOK, r.code, r.all())
	assert.Regexp(t, `Login +IAM: GetClusterCredentials for cluster etl-prod in us-east-1: database user IAM:etl, password expires 20\d\d-`, r.stdout)
	assert.Contains(t, r.stdout, "idle          200 s")
	assert.Equal(t, 1, fake.Calls(""), "one call: check's, which the connection reuses")
	noAWSSecret(t, fake, r.all())

	r = runCLI(t.Context(), "", nil, "check", "--json", dsn)
	require.Equal(t, exitOK, r.code, r.all())
	var res checkResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	require.NotNil(t, res.Login)
	assert.Equal(t, "IAM", res.Login.Method)
	assert.Equal(t, "GetClusterCredentials", res.Login.API)
	assert.Equal(t, "IAM:etl", res.Login.DatabaseUser)
	assert.Equal(t, "etl", res.Login.DbUser)
	assert.Equal(t, []string{"loaders", "readers"}, res.Login.DbGroups)
	assert.True(t, res.Login.Called)
	assert.NotEmpty(t, res.Login.Expires)
	noAWSSecret(t, fake, r.all())

	before := fake.Calls("")
	for _, args := range [][]string{{"check", "--offline", dsn}, {"check", "--offline", "--json", dsn}} {
		r = runCLI(t.Context(), "", nil, args...)
		require.Equal(t, exitOK, r.code, r.all())
		noAWSSecret(t, fake, r.all())
	}
	assert.Equal(t, before, fake.Calls(""), "--offline calls nothing")
	r = runCLI(t.Context(), "", nil, "check", "--offline", dsn)
	assert.Contains(t, r.stdout, "IAM: GetClusterCredentials for cluster etl-prod in us-east-1 (not called: --offline), database user etl, groups loaders,readers")
	r = runCLI(t.Context(), "", nil, "check", "--offline", "--json", dsn)
	res = checkResult{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	assert.False(t, res.Login.Called)
	assert.Empty(t, res.Login.DatabaseUser)
	assert.Equal(t, "etl-prod", res.Login.Cluster)
	assert.Equal(t, "us-east-1", res.Login.Region)
}

// TestIAMCommandErrors: AWS's refusal is reported as a connect failure
// naming the API, code and request id; the issued password is scrubbed
// from every line the command writes, a server's error quoting it
// included.
func TestIAMCommandErrors(t *testing.T) {
	_, fake, dsn := iamCLI(t)
	fake.Fail("AccessDenied", "not authorized to perform: redshift:GetClusterCredentials")
	for _, args := range [][]string{{"check", dsn}, {"exec", "-c", "SELECT 1", dsn}} {
		r := runCLI(t.Context(), "", nil, args...)
		assert.Equal(t, exitConnect, r.code, r.all())
		assert.Contains(t, r.stderr, "could not connect: redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: not authorized to perform: redshift:GetClusterCredentials (request id fake-")
		noAWSSecret(t, fake, r.all())
	}
	fake.Fail("", "")
	const issued = "issued-pw-LKJHGF0123456789"
	fake.SetPassword(issued)
	r := runCLI(t.Context(), "", nil, "exec", "-c", "SELECT * FROM \"no_such_"+issued+"\"", dsn)
	assert.Equal(t, exitSQL, r.code, r.all())
	assert.Contains(t, r.stderr, `"no_such_xxxxx" does not exist`)
	assert.NotContains(t, r.all(), "LKJHGF")
	assert.False(t, strings.Contains(r.all(), issued))
}
