//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// fakeIMDS is an EC2 instance metadata service on loopback that has no
// role: it refuses the IMDSv2 token with 404, which makes the AWS SDK log
// its "falling back to IMDSv1" warning, and has no credentials. It
// counts the requests it gets.
func fakeIMDS(t *testing.T) (url string, requests *atomic.Int32) {
	t.Helper()
	requests = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// runBare runs the built command with only env as its environment (and
// PATH), HOME an empty directory: no AWS configuration at all.
func runBare(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	code = wait(t, cmd, 60*time.Second)
	return code, out.String(), errOut.String()
}

// TestIAMWithoutCredentials: with no AWS configuration at all, an IAM
// login says in one line which settings give credentials; the SDK's own
// log lines (its IMDSv1 warning) and its chain of errors do not show, nor
// the hint about the database's password. Nothing leaves loopback: the
// instance metadata service is a fake, or turned off.
func TestIAMWithoutCredentials(t *testing.T) {
	imds, requests := fakeIMDS(t)
	const dsn = "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=1;Database=dev;IAM=1;ClusterID=etl-prod;DbUser=etl;Region=us-east-1"
	const want = "GetClusterCredentials for cluster etl-prod: no AWS credentials: set Profile, or AccessKeyID and SecretAccessKey, in the DSN, " +
		"or AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the environment (no EC2 instance role gave any)"
	for _, env := range []struct {
		name string
		env  []string
	}{
		{"instance metadata without a role", []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds, "AWS_ENDPOINT_URL=http://127.0.0.1:1"}},
		{"instance metadata off", []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=http://127.0.0.1:1"}},
	} {
		for _, args := range [][]string{{"check"}, {"exec", "-c", "SELECT 1"}, {"check", "--json"}} {
			t.Run(env.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := runBare(t, env.env, append(args, "--connect-timeout", "20", dsn)...)
				t.Logf("stderr:\n%s", stderr)
				assert.Equal(t, exitConnect, code)
				assert.Contains(t, stderr, want)
				for _, not := range []string{"WARN", "IMDSv1", "operation error", "password and sslmode"} {
					assert.NotContains(t, stderr+stdout, not)
				}
				if args[len(args)-1] == "--json" {
					var f checkFailure
					oneObject(t, stdout, &f)
					assert.Contains(t, f.Error, want)
				}
			})
		}
	}
	assert.NotZero(t, requests.Load(), "the SDK asked the fake instance metadata service")
}

// TestIAMOfflineWithoutConfiguration: check --offline needs no AWS
// configuration, not even the profile the DSN names; check without it
// fails at the login, naming the profile.
func TestIAMOfflineWithoutConfiguration(t *testing.T) {
	const dsn = "Server=127.0.0.1;Port=1;Database=dev;IAM=1;ClusterID=etl-prod;DbUser=etl;Region=us-east-1;Profile=nosuch"
	env := []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=http://127.0.0.1:1"}
	code, stdout, stderr := runBare(t, env, "check", "--offline", dsn)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "IAM: GetClusterCredentials for cluster etl-prod in us-east-1 (not called: --offline), database user etl, profile nosuch")
	assert.Empty(t, stderr)

	code, _, stderr = runBare(t, env, "check", "--connect-timeout", "20", dsn)
	assert.Equal(t, exitConnect, code)
	assert.Contains(t, stderr, "GetClusterCredentials for cluster etl-prod: load the AWS configuration: failed to get shared config profile, nosuch")
}
