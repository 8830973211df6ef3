//go:build linux

package integration

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestCLIExecIAMReconnect: `redshift-ka exec` with an IAM login (ODBC
// DSN, its own AWS keys and session token, TLS verified against the test
// server's certificate) in the client namespace, behind the kernel
// firewall, loses its connection during a statement that outlives the
// password the login was issued, and reconnects with a fresh one.
//
// The fake AWS endpoint listens in the server's namespace, so the
// command reaches it through the firewall as it reaches the server; it
// issues passwords valid for lifetime, and sets each on the server with
// that VALID UNTIL. The path is cut once the first password has expired;
// exec says the connection is lost; the path comes back; the reconnect
// finds the process's cached credentials expired, calls
// GetClusterCredentials again (two calls in all), logs in with the new
// password (the server has refused the old one since it expired, and
// logs both logins), and prints what the server says: the statement still
// runs, exit 3. (That it still runs rests on the driver not cancelling a
// lost connection's statement, main 08a57ae; before it, pgx's cancel
// request reached the server and the answer was "unknown".) No output
// shows the AWS secret key, the session token, either issued password or
// the server's own password.
func TestCLIExecIAMReconnect(t *testing.T) {
	const (
		lifetime      = 5 * time.Second
		secret, token = "cli-secret-ZXCVBN0123456789", "cli-token-POIUYT0123456789"
		accessKey     = "AKIACLIKEYS000000003"
		query         = "SELECT pg_sleep(120)"
		exitLost      = 3
	)
	bin := buildCLI(t)
	fw := harness.NewFirewallT(t, fwIdle)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr, TLS: true,
		Settings: map[string]string{"log_connections": "on"}})
	fake := harness.StartAWSFakeIn(t, pg, fw.Server)
	require.True(t, strings.HasPrefix(fake.URL, "http://"+harness.ServerAddr+":"), fake.URL)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v) // the command inherits them
	}
	require.Equal(t, "true", fake.Env("")["AWS_EC2_METADATA_DISABLED"])
	fake.AddKey(accessKey, secret, token)
	fake.SetLifetime(lifetime)
	dsn := fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;sslrootcert=%s;"+
		"IAM=1;ClusterID=etl-prod;DbUser=etl;Region=us-east-1;AccessKeyID=%s;SecretAccessKey=%s;SessionToken=%s;"+
		"KeepAlivesIdle=%d;KeepAlivesInterval=%d;KeepAlivesCount=%d",
		pg.Host, pg.Port, pg.Database, pg.CAFile, accessKey, secret, token, fastKA.idle, fastKA.interval, fastKA.count)

	p := startCLI(t, fw, bin, dsn, "exec", "-c", query)
	require.True(t, p.waitOutput("statement 1 of 1 (line 1) started", 10*time.Second), "no start: %s%s", p.stdout.String(), p.stderr.String())
	started := time.Now()
	require.Equal(t, 1, fake.Calls("GetClusterCredentials"), "the first login")
	_, first := fake.Issued()
	m := serverPIDRE.FindStringSubmatch(p.stdout.String())
	require.Len(t, m, 2, p.stdout.String())
	pid := m[1]

	// The statement outlives its password: the cut comes once it has
	// expired (it was issued before the statement started).
	awaitAcked(t, fw.Client)
	time.Sleep(time.Until(started.Add(lifetime)))
	cut, restore := cutPath(t, fw)
	dead := fastKA.d(fastKA.idle + fastKA.interval*fastKA.count)
	noticed, ok := p.waitStderr("the connection was lost", dead+5*time.Second)
	require.True(t, ok, "no lost connection %s after the cut:\n%s%s", time.Since(cut), p.stdout.String(), p.stderr.String())
	timing(t, "IAM: exec said the connection was lost", noticed.Sub(cut), dead-fastKA.d(fastKA.interval), dead+1500*time.Millisecond)
	restore()

	code := p.wait(time.Since(p.start) + 2*defaultConnectTimeout)
	out := p.stdout.String() + p.stderr.String()
	t.Logf("exec with IAM, exit %d after %.2fs:\n%s", code, p.end.Sub(p.start).Seconds(), out)
	require.NotEqual(t, -1, code, "still running %s after the cut", time.Since(cut))
	assert.Equal(t, exitLost, code)
	assert.Contains(t, p.stderr.String(), "the statement is still running on the server (process "+pid+", for ")
	assert.NotContains(t, out, "could not")
	assert.Equal(t, 2, fake.Calls("GetClusterCredentials"), "a fresh login for the reconnect, the first password having expired")
	assert.Equal(t, 2, fake.Calls(""))
	_, second := fake.Issued()
	require.NotEqual(t, first, second)
	logins := regexp.MustCompile(`connection authorized: user=IAM:etl database=postgres SSL enabled`).FindAllString(pg.Log(), -1)
	assert.Len(t, logins, 2, "the server saw both logins, over TLS")

	harness.NoLeak(t, pg, "exec's output", out)
	for _, s := range []string{secret, token, "ZXCVBN", "POIUYT", first, second} {
		assert.NotContains(t, out, s)
	}
}
