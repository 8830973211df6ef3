//go:build linux

package integration

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	_ "github.com/redshift-ka/redshift-ka/iam"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// IdpTokenAuthPlugin without a token: the AWS credentials in the DSN are
// exchanged for an IAM Identity Center token through the fake's
// GetIdentityCenterAuthToken, which the Redshift front end verifies.

// Hostile AWS secrets: spaces, quotes and #;&?%={}.
const (
	idcKeyID   = "ASIAIDCINTEGRATION01"
	idcSecret  = `idc s3cr3t "q" 'a' #;&?%={} end`
	idcSession = `idc sess1on "q" 'a' #;&?%={} end`
)

// idcSetup starts the server, its front end and the fake AWS, sets the
// login clock to the fake's, and makes the fake issue, for requests
// signed with idcKeyID, tokens of the front end's issuer naming pg's user.
// It returns the tokens issued, in order.
func idcSetup(t *testing.T) (*harness.Postgres, *frontEnd, *frontEndIdP, *harness.AWSFake, func() []string) {
	t.Helper()
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe, idp, key := nativeFrontEnd(t, pg)
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Cleanup(clock.Set(fake.Now))
	fake.AddKey(idcKeyID, idcSecret, idcSession)
	var mu sync.Mutex
	var issued []string
	fake.AllowIdC(idcKeyID, pg.User, func(user string, exp time.Time) string {
		tok := idcToken(t, key, user, exp)
		mu.Lock()
		defer mu.Unlock()
		issued = append(issued, tok)
		return tok
	})
	return pg, fe, idp, fake, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), issued...)
	}
}

// idcToken is a token of the front end's issuer for user, until exp.
func idcToken(t *testing.T, key *rsa.PrivateKey, user string, exp time.Time) string {
	c := claimsFor(user)
	c["exp"], c["iat"] = exp.Unix(), time.Now().Unix()
	return signJWT(t, key, "test", c)
}

// idcDSN is a DSN of the form with IdpTokenAuthPlugin, the AWS keys
// (each escaped as the form wants) and the cluster, as Amazon's drivers
// spell them; a cluster "workgroup <name>" is a Serverless workgroup.
func idcDSN(f form, srv *harness.Postgres, cluster string, secret, session string, more ...[2]string) string {
	plugin := "IdpTokenAuthPlugin"
	if f.name == "jdbc" {
		plugin = "com.amazon.redshift.plugin.IdpTokenAuthPlugin"
	}
	esc := func(v string) string {
		switch f.name {
		case "url", "jdbc":
			return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") // libpq reads no '+' as a space
		case "keyvalue":
			return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
		case "odbc":
			return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
		}
		return v
	}
	target := [2]string{"ClusterID", cluster}
	if wg, ok := strings.CutPrefix(cluster, "workgroup "); ok {
		target = [2]string{"Workgroup", wg}
	}
	kv := append([][2]string{{"sslmode", "require"}, {"plugin_name", plugin}, target, {"Region", "us-east-1"},
		{"AccessKeyID", idcKeyID}, {"SecretAccessKey", esc(secret)}, {"SessionToken", esc(session)}}, more...)
	return f.dsn(srv, kv)
}

// idcCtx bounds a test's waits.
func idcCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestNativeIdC: in every DSN form, with database/sql, pgx.ConnectConfig
// and pgxpool, the AWS keys are exchanged for a token (signed with them)
// that the front end lets in as the token's user; the token is sent with
// token_type SUBJECT_TOKEN. One call per cluster: the token is cached.
func TestNativeIdC(t *testing.T) {
	pg, fe, idp, fake, _ := idcSetup(t)
	srv := fe.Server()
	srv.User = "dsn_user" // the token's upn decides
	ctx := idcCtx(t)
	for _, f := range forms {
		cluster := "idc-" + f.name
		dsn := idcDSN(f, srv, cluster, idcSecret, idcSession)
		t.Run(f.name+"/sql.Open", func(t *testing.T) {
			before := idp.Accepted.Load()
			_, conn := open(t, driver.Name, dsn)
			assert.Equal(t, pg.User, currentUser(t, conn))
			assert.Equal(t, before+1, idp.Accepted.Load())
		})
		t.Run(f.name+"/pgx", func(t *testing.T) {
			cfg, err := driver.ParseConfig(dsn)
			require.NoError(t, err)
			assert.Equal(t, "SUBJECT_TOKEN", cfg.RuntimeParams["token_type"])
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(t, err)
			defer conn.Close(ctx)
			var user string
			require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&user))
			assert.Equal(t, pg.User, user)
		})
		last := fake.Requests()[len(fake.Requests())-1]
		assert.Equal(t, cluster, last.Get("ClusterIds.ClusterIdentifier.1"))
		assert.Equal(t, idcKeyID, last.Get(harness.FakeKeyParam))
	}
	t.Run("pgxpool", func(t *testing.T) {
		cfg, err := driver.ParsePoolConfig(idcDSN(forms[0], srv, "idc-pool", idcSecret, idcSession, [2]string{"pool_max_conns", "2"}))
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		c1, err := pool.Acquire(ctx)
		require.NoError(t, err)
		c2, err := pool.Acquire(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, c1.Conn().PgConn().PID(), c2.Conn().PgConn().PID())
		c1.Release()
		c2.Release()
	})
	t.Run("odbc.ini", func(t *testing.T) {
		// An odbc.ini value is taken as written, hostile secrets included.
		ini := filepath.Join(t.TempDir(), "odbc.ini")
		require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf("[Warehouse IdC]\nServer = %s\nPort = %d\nDatabase = %s\nSSLMode = require\n"+
			"plugin_name = IdpTokenAuthPlugin\nClusterID = idc-ini\nRegion = us-east-1\nAccessKeyID = %s\nSecretAccessKey = %s\nSessionToken = %s\n",
			srv.Host, srv.Port, srv.Database, idcKeyID, idcSecret, idcSession)), 0o600))
		t.Setenv("ODBCINI", ini)
		_, conn := open(t, driver.Name, "DSN={Warehouse IdC}")
		assert.Equal(t, pg.User, currentUser(t, conn))
		last := fake.Requests()[len(fake.Requests())-1]
		assert.Equal(t, "idc-ini", last.Get("ClusterIds.ClusterIdentifier.1"))
	})
	t.Run("serverless", func(t *testing.T) {
		_, conn := open(t, driver.Name, idcDSN(forms[0], srv, "workgroup idc-wg", idcSecret, idcSession))
		assert.Equal(t, pg.User, currentUser(t, conn))
		last := fake.Requests()[len(fake.Requests())-1]
		assert.Equal(t, "[idc-wg]", last.Get("workgroupNames"), "redshift-serverless GetIdentityCenterAuthToken")
	})
	assert.Equal(t, len(forms)+3, fake.Calls("GetIdentityCenterAuthToken"), "one call per cluster")
	assert.Zero(t, idp.Refused.Load())
}

// TestNativeIdCCache: 20 connections dialed at once make one call; in
// the renewal window (from 840 s of 900, on the fake's clock) a
// connection logs in with the current token at once, although the
// renewal hangs at the fake, and starts one renewal in the background,
// whose token the next connection sends.
func TestNativeIdCCache(t *testing.T) {
	_, fe, idp, fake, issued := idcSetup(t)
	ctx := idcCtx(t)
	db, err := sql.Open(driver.Name, idcDSN(forms[2], fe.Server(), "idc-cache", idcSecret, idcSession))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxIdleConns(0) // each Conn is a new connection
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			conn, err := db.Conn(ctx)
			if assert.NoError(t, err) {
				conn.Close()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, fake.Calls("GetIdentityCenterAuthToken"), "one call for 20 concurrent connects")
	assert.Equal(t, int64(20), idp.Accepted.Load())

	connect := func() string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a connect held by the renewal fails here
		defer cancel()
		conn, err := db.Conn(cctx)
		require.NoError(t, err)
		conn.Close()
		return idp.LastToken.Load().(string)
	}
	fake.Advance(t, 850*time.Second)
	release := fake.Hold()
	defer release()
	assert.Equal(t, issued()[0], connect(), "the current token, the renewal hanging")
	for fake.Calls("GetIdentityCenterAuthToken") < 2 {
		require.NoError(t, ctx.Err(), "no renewal started")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, issued()[0], connect())
	assert.Equal(t, 2, fake.Calls("GetIdentityCenterAuthToken"), "one renewal, not one per connect")
	release()
	for len(issued()) < 2 || connect() != issued()[1] {
		require.NoError(t, ctx.Err(), "the renewal's token never reached a connection")
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, 2, fake.Calls("GetIdentityCenterAuthToken"))
	assert.Zero(t, idp.Refused.Load())
}

// TestNativeIdCRefused: GetIdentityCenterAuthToken refused (AccessDenied),
// signed with keys AWS does not know, or not answering within the
// connect's deadline, fails the connection with an error naming the call
// and the cluster, on both pgx paths and in every
// form; no error or log line shows a secret key, session token or token.
func TestNativeIdCRefused(t *testing.T) {
	_, fe, idp, fake, issued := idcSetup(t)
	srv := fe.Server()
	ctx := idcCtx(t)
	text := &strings.Builder{}
	logger := slog.New(slog.NewTextHandler(text, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	check := func(t *testing.T, dsn, want string) {
		t.Helper()
		c, err := driver.NewConnector(dsn, driver.WithLogger(logger))
		require.NoError(t, err)
		db := sql.OpenDB(c)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		errs = append(errs, err.Error(), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c.DSN()))
		cfg, err := driver.ParseConfig(dsn, driver.WithLogger(logger))
		require.NoError(t, err)
		_, err = pgx.ConnectConfig(ctx, cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
		errs = append(errs, err.Error())
	}
	fake.Fail("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/etl/s is not authorized to perform: redshift:GetIdentityCenterAuthToken")
	for _, f := range forms {
		t.Run(f.name+"/AccessDenied", func(t *testing.T) {
			check(t, idcDSN(f, srv, "idc-denied-"+f.name, idcSecret, idcSession),
				"GetIdentityCenterAuthToken for cluster idc-denied-"+f.name+": AccessDenied: ")
		})
	}
	fake.Fail("", "")
	t.Run("unknown keys", func(t *testing.T) {
		check(t, idcDSN(forms[0], srv, "idc-badkey", idcSecret+"x", idcSession),
			"GetIdentityCenterAuthToken for cluster idc-badkey: SignatureDoesNotMatch")
	})
	t.Run("no answer", func(t *testing.T) {
		release := fake.Hold()
		defer release()
		db, err := sql.Open(driver.Name, idcDSN(forms[1], srv, "idc-silent", idcSecret, idcSession))
		require.NoError(t, err)
		defer db.Close()
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err = db.PingContext(short)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GetIdentityCenterAuthToken for cluster idc-silent: ")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		errs = append(errs, err.Error())
	})
	assert.Zero(t, idp.Accepted.Load()+idp.Refused.Load(), "nothing reached the server's login")
	require.NotEmpty(t, text.String())
	out := strings.Join(append(errs, text.String()), "\n")
	for _, s := range append([]string{idcSecret, idcSession, url.QueryEscape(idcSecret), url.QueryEscape(idcSession), "s3cr3t", "sess1on"}, issued()...) {
		assert.NotContains(t, out, s)
	}
}

// TestCLICheckIdC: redshift-ka check with IdpTokenAuthPlugin and AWS keys
// shows the plugin and its steps, GetIdentityCenterAuthToken then the
// server login, with their outcomes, in text and --json; offline, the
// plan; refused (AccessDenied), the call failed and the server login not
// reached. No output shows the secret key, session token or token.
func TestCLICheckIdC(t *testing.T) {
	_, fe, _, fake, issued := idcSetup(t)
	bin := buildCLI(t)
	dsn := idcDSN(forms[2], fe.Server(), "idc-cli", idcSecret, idcSession)
	run := func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append([]string{"check"}, args...), dsn)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		for _, s := range append([]string{idcSecret, idcSession, "s3cr3t", "sess1on"}, issued()...) {
			assert.NotContains(t, string(out), s, "%v", args)
		}
		return string(out), code
	}
	steps := func(out string) []map[string]string {
		t.Helper()
		var res struct{ Steps []map[string]string }
		require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res), out)
		return res.Steps
	}

	out, code := run()
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^GetIdentityCenterAuthToken +cluster idc-cli, region us-east-1 +ok$`, out)
	assert.Regexp(t, `(?m)^server login +plugin IdpTokenAuthPlugin, idp_type AwsIdc: .* +ok$`, out)
	assert.Contains(t, out, "token_type SUBJECT_TOKEN")
	out, code = run("--json")
	require.Equal(t, 0, code, out)
	s := steps(out)
	require.Len(t, s, 2, out)
	assert.Equal(t, []string{"GetIdentityCenterAuthToken", "ok", "server login", "ok"}, []string{s[0]["step"], s[0]["outcome"], s[1]["step"], s[1]["outcome"]})

	out, code = run("--offline", "--json")
	require.Equal(t, 0, code, out)
	s = steps(out)
	require.Len(t, s, 2, out)
	assert.Equal(t, "not run (--offline)", s[0]["outcome"])

	fake.Fail("AccessDenied", "not authorized to perform: redshift:GetIdentityCenterAuthToken")
	calls := fake.Calls("GetIdentityCenterAuthToken")
	dsn = idcDSN(forms[2], fe.Server(), "idc-cli-denied", idcSecret, idcSession)
	out, code = run()
	assert.NotEqual(t, 0, code, out)
	assert.Regexp(t, `(?m)^GetIdentityCenterAuthToken +cluster idc-cli-denied, region us-east-1 +failed$`, out)
	assert.Regexp(t, `(?m)^server login +.* +not reached$`, out)
	assert.Contains(t, out, "GetIdentityCenterAuthToken for cluster idc-cli-denied: AccessDenied: ")
	out, code = run("--json")
	assert.NotEqual(t, 0, code, out)
	s = steps(out)
	require.Len(t, s, 2, out)
	assert.Equal(t, []string{"failed", "not reached"}, []string{s[0]["outcome"], s[1]["outcome"]})
	assert.Contains(t, s[0]["error"], "AccessDenied")
	assert.Equal(t, calls+2, fake.Calls("GetIdentityCenterAuthToken"), "a refused call is not cached")
}
