//go:build linux

package integration

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"encoding/json"
	"fmt"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/iam"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/settings"
)

// The IAM tests log in to the real server with the passwords the fake AWS
// APIs (harness.AWSFake) issue and set on the server's roles, VALID UNTIL
// their expiration: the server itself refuses a wrong or expired one.
// Every AWS endpoint points at the fake on loopback; instance metadata is
// off. The server speaks TLS, as an IAM login requires, with a certificate
// the DSNs name as sslrootcert; the iam package runs on the fake's clock,
// so that tests move time on instead of waiting for it.
//
// Credentials are cached per process, keyed by the request: tests that
// count calls per subtest give each subtest its own user (or cluster, or
// workgroup), so that no subtest is served from another's cache.

// iamSetup starts a server with TLS and the fake, points the AWS SDK at
// the fake and the iam package's clock at the fake's.
func iamSetup(t *testing.T) (*harness.Postgres, *harness.AWSFake) {
	t.Helper()
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Cleanup(clock.Set(fake.Now))
	return pg, fake
}

// iamForm is an IAM DSN of one form for a server, with the given IAM keys
// (in the form's own spelling) added.
type iamForm struct {
	name string
	sep  string // between keys
	dsn  func(pg *harness.Postgres, keys map[string]string) string
}

// iamForms write the same login in each DSN form, with the key names
// Amazon's drivers use there: ODBC's, redshift_connector's, JDBC's.
var iamForms = []iamForm{
	{"odbc", ";", func(pg *harness.Postgres, k map[string]string) string {
		return fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;sslrootcert=%s;IAM=1;%s",
			pg.Host, pg.Port, pg.Database, pg.CAFile, keysOf(k, ";", odbcNames))
	}},
	{"url", "&", func(pg *harness.Postgres, k map[string]string) string {
		return fmt.Sprintf("postgres://%s:%d/%s?sslrootcert=%s&iam=true&%s", pg.Host, pg.Port, pg.Database, pg.CAFile, keysOf(k, "&", rcNames))
	}},
	{"keyvalue", " ", func(pg *harness.Postgres, k map[string]string) string {
		return fmt.Sprintf("host=%s port=%d dbname=%s sslrootcert=%s iam=true %s", pg.Host, pg.Port, pg.Database, pg.CAFile, keysOf(k, " ", rcNames))
	}},
	{"jdbc", "&", func(pg *harness.Postgres, k map[string]string) string {
		return fmt.Sprintf("jdbc:redshift:iam://%s:%d/%s?sslrootcert=%s&%s", pg.Host, pg.Port, pg.Database, pg.CAFile, keysOf(k, "&", jdbcNames))
	}},
}

// odbcNames and rcNames spell the IAM fields as ODBC and
// redshift_connector do.
var (
	odbcNames = map[string]string{"cluster": "ClusterID", "workgroup": "Workgroup", "user": "DbUser", "groups": "DbGroups",
		"region": "Region", "profile": "Profile", "key": "AccessKeyID", "secret": "SecretAccessKey", "token": "SessionToken",
		"endpoint": "EndpointUrl", "autocreate": "AutoCreate", "federation": "group_federation", "lowercase": "ForceLowercase",
		"nocache": "DisableCache"}
	rcNames = map[string]string{"cluster": "cluster_identifier", "workgroup": "serverless_work_group", "user": "db_user",
		"groups": "db_groups", "region": "region", "profile": "profile", "key": "access_key_id", "secret": "secret_access_key",
		"token": "session_token", "endpoint": "endpoint_url", "autocreate": "auto_create", "federation": "group_federation",
		"lowercase": "force_lowercase", "nocache": "iam_disable_cache"}
)

// jdbcNames spell them as Amazon's JDBC driver does.
var jdbcNames = map[string]string{"cluster": "ClusterID", "workgroup": "serverlessWorkGroup", "user": "DbUser", "groups": "DbGroups",
	"region": "Region", "profile": "Profile", "key": "AccessKeyID", "secret": "SecretAccessKey", "token": "SessionToken",
	"endpoint": "EndpointUrl", "autocreate": "AutoCreate", "federation": "groupFederation", "lowercase": "ForceLowercase",
	"nocache": "IAMDisableCache"}

func keysOf(k map[string]string, sep string, names map[string]string) string {
	var parts []string
	for _, f := range []string{"cluster", "workgroup", "user", "groups", "region", "profile", "key", "secret", "token", "endpoint", "autocreate", "federation", "lowercase", "nocache"} {
		if v, ok := k[f]; ok {
			parts = append(parts, names[f]+"="+v)
		}
	}
	return strings.Join(parts, sep)
}

// etl is the login most tests use: GetClusterCredentials for DbUser etl.
var etl = map[string]string{"cluster": "etl-prod", "user": "etl"}

// currentUser returns the session's user.
func currentUser(t *testing.T, conn *sql.Conn) string {
	t.Helper()
	var u string
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT current_user").Scan(&u))
	return u
}

// TestIAMForms: an IAM DSN in each form logs in, through both backends, as
// the user GetClusterCredentials returned, with one call that carries the
// DSN's cluster, user and groups.
func TestIAMForms(t *testing.T) {
	pg, fake := iamSetup(t)
	for i, b := range backends {
		for j, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				before := fake.Calls("")
				user := fmt.Sprintf("etl%d%d", i, j) // a request of its own: not served by the process cache
				_, conn := open(t, b, f.dsn(pg, map[string]string{"cluster": "etl-prod", "user": user, "groups": "loaders,readers"}))
				assert.Equal(t, "IAM:"+user, currentUser(t, conn))
				require.Equal(t, before+1, fake.Calls("GetClusterCredentials"))
				req := fake.Requests()[before]
				assert.Equal(t, "etl-prod", req.Get("ClusterIdentifier"))
				assert.Equal(t, user, req.Get("DbUser"))
				assert.Equal(t, "loaders", req.Get("DbGroups.DbGroup.1"))
				assert.Equal(t, "readers", req.Get("DbGroups.DbGroup.2"))
				assert.Equal(t, fake.AccessKeyID, req.Get(harness.FakeKeyParam))
			})
		}
	}
}

// TestIAMServerRefusesStalePasswords: the fake's passwords are real: the
// server refuses a wrong one, and one whose expiration the fake's clock
// has passed (no waiting: the fake moves the server's VALID UNTIL with
// its clock).
func TestIAMServerRefusesStalePasswords(t *testing.T) {
	pg, fake := iamSetup(t)
	_, conn := open(t, driver.Name, iamForms[0].dsn(pg, etl))
	assert.Equal(t, "IAM:etl", currentUser(t, conn))
	user, pw := fake.Issued()
	direct := func(password string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable user='%s' password='%s'",
			pg.Host, pg.Port, pg.Database, user, password))
		if err == nil {
			c.Close(ctx)
		}
		return err
	}
	require.NoError(t, direct(pw), "the issued password works")
	require.ErrorContains(t, direct(pw+"x"), "password authentication failed")
	// The password lasts 900 s from its issue, in the server's real time:
	// a minute's margin covers the time this test has taken since on a
	// loaded machine (one second did not).
	fake.Advance(t, 840*time.Second)
	require.NoError(t, direct(pw), "valid a minute before its expiration")
	fake.Advance(t, 61*time.Second)
	require.ErrorContains(t, direct(pw), "password authentication failed", "an expired password is refused")
}

// iamCtx returns a context that bounds a test's waits well above what
// they take, so that a break fails fast rather than at go test's timeout.
func iamCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestIAMConcurrentFirstConnections: 20 connections dialed at once by a
// new connector make one API call between them, with both backends.
func TestIAMConcurrentFirstConnections(t *testing.T) {
	pg, fake := iamSetup(t)
	fake.SetDelay(300 * time.Millisecond)
	ctx := iamCtx(t)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			before := fake.Calls("")
			user := fmt.Sprintf("etl%d", i)
			db, err := sql.Open(b, iamForms[1].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user}))
			require.NoError(t, err)
			defer db.Close()
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			conns := make(chan *sql.Conn, 20)
			for range 20 {
				wg.Go(func() {
					c, err := db.Conn(ctx)
					if err != nil {
						errs <- err
						return
					}
					conns <- c
				})
			}
			wg.Wait()
			close(errs)
			close(conns)
			for err := range errs {
				require.NoError(t, err)
			}
			n := 0
			for c := range conns {
				assert.Equal(t, "IAM:"+user, currentUser(t, c))
				c.Close()
				n++
			}
			assert.Equal(t, 20, n)
			assert.Equal(t, 1, fake.Calls("")-before, "API calls for 20 concurrent first connections")
		})
	}
}

// iamConnector is a connector of either backend, with its login.
type iamConnector interface {
	sqldriver.Connector
	Login() driver.Login
	DSN() dsnparse.DSN
}

// newIAMConnector makes a connector of backend b for dsn.
func newIAMConnector(t *testing.T, b, dsn string) iamConnector {
	t.Helper()
	var (
		c   iamConnector
		err error
	)
	if b == rkpq.Name {
		c, err = rkpq.NewConnector(dsn)
	} else {
		c, err = driver.NewConnector(dsn)
	}
	require.NoError(t, err)
	return c
}

// waitLogin waits, bounded by ctx, until the login hands out another
// password than old: a renewal in the background has been answered and
// cached. It must be the one the fake issued last. Reading the cache
// starts no call while a renewal is under way.
func waitLogin(t *testing.T, ctx context.Context, l driver.Login, fake *harness.AWSFake, old string) {
	t.Helper()
	for {
		cr, err := l.Credentials(ctx)
		require.NoError(t, err)
		if cr.Password != old {
			_, want := fake.Issued()
			require.Equal(t, want, cr.Password, "the renewal's password")
			return
		}
		require.NoError(t, ctx.Err(), "the renewal's answer never reached the cache")
		time.Sleep(5 * time.Millisecond)
	}
}

// waitCalls waits, bounded by ctx, until the fake has seen n calls.
func waitCalls(t *testing.T, ctx context.Context, fake *harness.AWSFake, n int) {
	t.Helper()
	for fake.Calls("") < n {
		require.NoError(t, ctx.Err(), "the fake saw %d calls; want %d", fake.Calls(""), n)
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIAMRenewal: on the fake's clock, with 900 s credentials: three
// connects before the renewal point make one call; in the renewal window
// (from 840 s) a connect gets the current credentials at once although
// the renewal hangs at the fake, and starts one renewal in the background,
// whose answer the next connection logs in with (the server no longer
// takes the old password). Both backends.
func TestIAMRenewal(t *testing.T) {
	pg, fake := iamSetup(t)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := iamCtx(t)
			user := fmt.Sprintf("renew%d", i)
			before := fake.Calls("")
			c := newIAMConnector(t, b, iamForms[2].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user}))
			db := sql.OpenDB(c)
			defer db.Close()
			db.SetMaxIdleConns(0) // each Conn is a new connection
			connect := func() {
				t.Helper()
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a connect held by the renewal fails here
				defer cancel()
				conn, err := db.Conn(cctx)
				require.NoError(t, err)
				defer conn.Close()
				assert.Equal(t, "IAM:"+user, currentUser(t, conn))
			}
			for range 3 {
				connect()
				fake.Advance(t, 200*time.Second)
			}
			require.Equal(t, 1, fake.Calls("")-before, "cached while fresh: three connects over 600 s")
			fake.Advance(t, 250*time.Second) // 850 s: renewal from 840 s
			release := fake.Hold()
			defer release()
			connect()
			waitCalls(t, ctx, fake, before+2)
			connect() // the renewal hangs; the current credentials serve
			assert.Equal(t, 2, fake.Calls("")-before, "one renewal in the background, not one per connect")
			old, err := c.Login().Credentials(ctx)
			require.NoError(t, err)
			release()
			waitLogin(t, ctx, c.Login(), fake, old.Password)
			connect()
			assert.Equal(t, 2, fake.Calls("")-before)
		})
	}
}

// TestIAMFailedRenewal: a renewal that AWS refuses does not fail connects
// while the current credentials are valid, and is tried again a little
// later (7.5 s for 900 s credentials), not at every connect; once the
// credentials are within 15 s of their expiration, a connect gets AWS's
// error. Each failed renewal is logged (a warning), which the test waits
// for. AWS's refusal is one it does not retry (AccessDenied: a permission
// taken away), so that calls and attempts are one. Both backends.
func TestIAMFailedRenewal(t *testing.T) {
	pg, fake := iamSetup(t)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := iamCtx(t)
			defer fake.Fail("", "")
			user := fmt.Sprintf("failing%d", i)
			db, _, logs := openLogged(t, b, iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user}))
			db.SetMaxIdleConns(0)
			failed := func(n int) { // waits for n failed renewals logged
				t.Helper()
				for {
					got := 0
					for _, l := range logs.lines() {
						if strings.Contains(l, "IAM renewal failed") {
							got++
						}
					}
					if got >= n {
						require.Equal(t, n, got, "failed renewals")
						return
					}
					require.NoError(t, ctx.Err(), "%d failed renewals logged; want %d", got, n)
					time.Sleep(5 * time.Millisecond)
				}
			}
			require.NoError(t, db.PingContext(ctx))
			before := fake.Calls("")
			fake.Fail("AccessDenied", "not authorized to perform redshift:GetClusterCredentials")
			fake.Advance(t, 841*time.Second)
			require.NoError(t, db.PingContext(ctx), "the renewal fails in the background")
			failed(1)
			for range 3 {
				require.NoError(t, db.PingContext(ctx))
			}
			assert.Equal(t, 1, fake.Calls("")-before, "one failed renewal, not one per connect")
			fake.Advance(t, 8*time.Second)
			require.NoError(t, db.PingContext(ctx))
			failed(2)
			require.NoError(t, db.PingContext(ctx))
			assert.Equal(t, 2, fake.Calls("")-before, "tried again after the retry interval")
			fake.Advance(t, 40*time.Second) // 889 s
			err := db.PingContext(ctx)
			require.Error(t, err, "no usable credentials: the connect waits for a call, which fails")
			assert.Contains(t, err.Error(), "GetClusterCredentials for cluster etl-prod: AccessDenied: not authorized")
		})
	}
}

// TestIAMNextRefreshInThePast: an API answer whose NextRefreshTime is
// already past (serverless GetCredentials returns one) does not make
// every connect call the API.
func TestIAMNextRefreshInThePast(t *testing.T) {
	pg, fake := iamSetup(t)
	fake.SetNextRefresh(-time.Hour)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := iamCtx(t)
			before := fake.Calls("")
			db, err := sql.Open(b, iamForms[1].dsn(pg, map[string]string{"workgroup": fmt.Sprintf("past%d", i)}))
			require.NoError(t, err)
			defer db.Close()
			db.SetMaxIdleConns(0)
			for range 5 {
				require.NoError(t, db.PingContext(ctx))
				fake.Advance(t, 10*time.Second)
			}
			assert.Equal(t, 1, fake.Calls("")-before)
		})
	}
}

// TestIAMProcessCache: connectors of one request share the process's
// credentials, whatever the DSN form or backend: sql.Open twice, ODBC and
// URL, pgx and lib/pq make one call; IAMDisableCache (in each form's
// spelling) makes one per connector, and none per connection.
func TestIAMProcessCache(t *testing.T) {
	pg, fake := iamSetup(t)
	ctx := iamCtx(t)
	ping := func(b, dsn string) {
		t.Helper()
		db, err := sql.Open(b, dsn)
		require.NoError(t, err)
		defer db.Close()
		db.SetMaxIdleConns(0)
		for range 2 {
			require.NoError(t, db.PingContext(ctx))
		}
	}
	before := fake.Calls("")
	login := map[string]string{"cluster": "etl-prod", "user": "shared", "groups": "loaders"}
	for _, b := range backends {
		for _, f := range iamForms {
			ping(b, f.dsn(pg, login))
		}
	}
	assert.Equal(t, 1, fake.Calls("")-before, "8 connectors of one request, 16 connections: one call")

	before = fake.Calls("")
	login["nocache"] = "true"
	for _, b := range backends {
		for _, f := range iamForms {
			ping(b, f.dsn(pg, login))
		}
	}
	assert.Equal(t, 8, fake.Calls("")-before, "IAMDisableCache: one call per connector")
}

// TestIAMPgx: ParseConfig with pgx.ConnectConfig, and ParsePoolConfig with
// pgxpool at several sizes: one call per connector, whatever the pool's
// size; the user's own BeforeConnect still runs; and a pool keeps
// connecting after the credentials expire. Every wait is bounded: a pool
// whose connects hang fails within poolBound instead of hanging in
// pgxpool's Close, which waits for connects in progress.
func TestIAMPgx(t *testing.T) {
	pg, fake := iamSetup(t)
	const poolBound = 20 * time.Second
	ctx := iamCtx(t)
	dsn := iamForms[0].dsn(pg, etl)

	before := fake.Calls("")
	cfg, err := driver.ParseConfig(dsn)
	require.NoError(t, err)
	for range 3 {
		c, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		var u string
		require.NoError(t, c.QueryRow(ctx, "SELECT current_user").Scan(&u))
		assert.Equal(t, "IAM:etl", u)
		c.Close(ctx)
	}
	assert.Equal(t, 1, fake.Calls("")-before, "ParseConfig: one call for three connections")

	// newPool makes a pool whose every wait ends within poolBound.
	newPool := func(t *testing.T, pcfg *pgxpool.Config) (*pgxpool.Pool, context.Context) {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, poolBound)
		pool, err := pgxpool.NewWithConfig(pctx, pcfg)
		require.NoError(t, err)
		t.Cleanup(func() {
			cancel()
			closed := make(chan struct{})
			go func() { pool.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(poolBound):
				t.Errorf("pgxpool's Close still waits after %s: a connect in progress never ends", poolBound)
			}
		})
		return pool, pctx
	}

	fake.SetDelay(200 * time.Millisecond)
	for _, size := range []int{1, 5, 20} {
		t.Run(fmt.Sprintf("pool%d", size), func(t *testing.T) {
			before := fake.Calls("")
			user := fmt.Sprintf("pool%d", size) // a request of its own
			pcfg, err := driver.ParsePoolConfig(iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user}) +
				fmt.Sprintf(";pool_max_conns=%d", size))
			require.NoError(t, err)
			var mine sync.Map
			pcfg.BeforeConnect = func(_ context.Context, c *pgx.ConnConfig) error {
				mine.Store(c, true)
				return nil
			}
			pool, pctx := newPool(t, pcfg)
			var wg sync.WaitGroup
			conns := make([]*pgxpool.Conn, size)
			errs := make([]error, size)
			for i := range size {
				wg.Go(func() { conns[i], errs[i] = pool.Acquire(pctx) })
			}
			wg.Wait()
			for i := range size {
				require.NoError(t, errs[i])
				var u string
				require.NoError(t, conns[i].QueryRow(pctx, "SELECT current_user").Scan(&u))
				assert.Equal(t, "IAM:"+user, u)
				conns[i].Release()
			}
			assert.Equal(t, int32(size), pool.Stat().TotalConns())
			assert.Equal(t, 1, fake.Calls("")-before, "API calls for a pool of %d", size)
			n := 0
			mine.Range(func(any, any) bool { n++; return true })
			assert.Equal(t, size, n, "the user's BeforeConnect ran for each connection")
		})
	}
	fake.SetDelay(0)

	t.Run("pool renews", func(t *testing.T) {
		before := fake.Calls("")
		pcfg, err := driver.ParsePoolConfig(iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "poolrenews"}))
		require.NoError(t, err)
		pool, pctx := newPool(t, pcfg)
		var u string
		require.NoError(t, pool.QueryRow(pctx, "SELECT current_user").Scan(&u))
		fake.Advance(t, 901*time.Second) // expired: the server refuses the password
		pool.Reset()                     // new connections from now on
		require.NoError(t, pool.QueryRow(pctx, "SELECT current_user").Scan(&u))
		assert.Equal(t, "IAM:poolrenews", u)
		assert.Equal(t, 2, fake.Calls("")-before, "one new call once the credentials expired")
	})
}

// TestIAMUserBeforeConnect: a program's own stdlib BeforeConnect still
// runs, and IAM still logs in.
func TestIAMUserBeforeConnect(t *testing.T) {
	pg, _ := iamSetup(t)
	ran := false
	c, err := driver.NewConnector(iamForms[0].dsn(pg, etl), driver.WithPgxOptions(stdlib.OptionBeforeConnect(
		func(_ context.Context, cfg *pgx.ConnConfig) error {
			ran = true
			cfg.RuntimeParams["application_name"] = "mine"
			return nil
		})))
	require.NoError(t, err)
	db := sql.OpenDB(c)
	defer db.Close()
	var u, app string
	require.NoError(t, db.QueryRow("SELECT current_user, current_setting('application_name')").Scan(&u, &app))
	assert.True(t, ran)
	assert.Equal(t, "IAM:etl", u)
	assert.Equal(t, "mine", app)
}

// TestIAMServerless: a workgroup logs in through redshift-serverless
// GetCredentials (JSON 1.1), with both backends.
func TestIAMServerless(t *testing.T) {
	pg, fake := iamSetup(t)
	for i, b := range backends {
		for j, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				before := fake.Calls("GetCredentials")
				wg := fmt.Sprintf("etl-wg%d%d", i, j) // a request of its own
				_, conn := open(t, b, f.dsn(pg, map[string]string{"workgroup": wg}))
				assert.Equal(t, "IAMR:"+harness.FakeRole, currentUser(t, conn))
				assert.Equal(t, before+1, fake.Calls("GetCredentials"))
				reqs := fake.Requests()
				assert.Equal(t, wg, reqs[len(reqs)-1].Get("workgroupName"))
			})
		}
	}
}

// TestIAMGroupFederation: group_federation=true, in each form's spelling,
// logs in with GetClusterCredentialsWithIAM only, as the IAM identity's own
// user, even with a DbUser and groups given (Amazon's three drivers do);
// the call carries the cluster and the database, and no user or groups.
// Without it, a DSN without a user is refused at sql.Open.
func TestIAMGroupFederation(t *testing.T) {
	pg, fake := iamSetup(t)
	for _, b := range backends {
		for _, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				before, beforeV1 := fake.Calls(""), fake.Calls("GetClusterCredentials")
				keys := map[string]string{"cluster": "etl-prod", "user": "etl", "groups": "loaders", "federation": "true",
					"nocache": "true"} // a call per connector, to count
				c, err := driver.NewConnector(f.dsn(pg, keys))
				require.NoError(t, err)
				assert.Equal(t, "GetClusterCredentialsWithIAM", c.Login().Plan().API)
				_, conn := open(t, b, f.dsn(pg, keys))
				assert.Equal(t, "IAMR:"+harness.FakeRole, currentUser(t, conn))
				require.Equal(t, before+1, fake.Calls(""), "one call")
				assert.Equal(t, beforeV1, fake.Calls("GetClusterCredentials"), "GetClusterCredentials is not called")
				req := fake.Requests()[before]
				assert.Equal(t, "GetClusterCredentialsWithIAM", req.Get("Action"))
				assert.Equal(t, "etl-prod", req.Get("ClusterIdentifier"))
				assert.Equal(t, pg.Database, req.Get("DbName"))
				assert.Empty(t, req.Get("DbUser")+req.Get("DbGroups.DbGroup.1"))
			})
		}
	}
	_, err := sql.Open(driver.Name, iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod"}))
	assert.ErrorIs(t, err, dsnparse.ErrMissing, "no user and no group_federation")
}

// TestIAMAccessDenied: AWS's refusal reaches the program naming the API,
// the cluster, AWS's code and message and the request id, with both
// backends and pgxpool; a refusal is not cached.
func TestIAMAccessDenied(t *testing.T) {
	pg, fake := iamSetup(t)
	fake.Fail("AccessDenied", "User: arn:aws:iam::123456789012:user/etl is not authorized to perform: redshift:GetClusterCredentials")
	want := "redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: User: arn:aws:iam::123456789012:user/etl is not authorized to perform: redshift:GetClusterCredentials (request id fake-"
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			db, err := sql.Open(b, iamForms[0].dsn(pg, etl))
			require.NoError(t, err)
			defer db.Close()
			before := fake.Calls("")
			err = db.PingContext(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			var ie *iam.Error
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "AccessDenied", ie.Code)
			assert.Equal(t, "GetClusterCredentials", ie.API)
			assert.True(t, strings.HasPrefix(ie.RequestID, "fake-"), ie.RequestID)
			// Not cached: the next connect asks again.
			require.Error(t, db.PingContext(context.Background()))
			assert.Equal(t, 2, fake.Calls("")-before)
		})
	}
	pcfg, err := driver.ParsePoolConfig(iamForms[0].dsn(pg, etl))
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	require.NoError(t, err)
	defer pool.Close()
	err = pool.Ping(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)

	// A bad signature is AWS's SignatureDoesNotMatch.
	fake.Fail("", "")
	db, err := sql.Open(driver.Name, iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl",
		"key": fake.AccessKeyID, "secret": "not-the-secret-0123456789"}))
	require.NoError(t, err)
	defer db.Close()
	err = db.Ping()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GetClusterCredentials for cluster etl-prod: SignatureDoesNotMatch: ")
	assert.NotContains(t, err.Error(), "not-the-secret")
}

// TestIAMUnreachable: an endpoint that refuses connections, and one that
// never answers, give the API's error within the connect timeout.
func TestIAMUnreachable(t *testing.T) {
	pg, _ := iamSetup(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() { // accepts, never answers
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct{ name, endpoint string }{
		{"refused", fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))},
		{"silent", "http://" + silent.Addr().String()},
	} {
		for _, b := range backends {
			t.Run(tc.name+"/"+b, func(t *testing.T) {
				dsn := iamForms[0].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl", "endpoint": tc.endpoint}) + ";connect_timeout=3"
				db, err := sql.Open(b, dsn)
				require.NoError(t, err)
				defer db.Close()
				start := time.Now()
				err = db.PingContext(context.Background()) // connect_timeout=3 bounds it
				took := time.Since(start)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "redshift-ka: GetClusterCredentials for cluster etl-prod: ")
				assert.Less(t, took, 4*time.Second, "within the connect timeout")
				var ie *iam.Error
				assert.ErrorAs(t, err, &ie)
				if tc.name == "silent" {
					assert.ErrorIs(t, err, context.DeadlineExceeded)
				}
			})
		}
	}
}

// TestIAMProfile: Profile picks the keys of a profile of the shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE) and its region from the
// config file, with a session token; the environment's keys are not used.
func TestIAMProfile(t *testing.T) {
	pg, fake := iamSetup(t)
	dir := t.TempDir()
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_REGION", "")
	fake.AddKey("AKIAPROFILEETL000001", "profile-secret-0123456789", "profile-token-abcdef")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "credentials"), []byte(
		"[etl]\naws_access_key_id = AKIAPROFILEETL000001\naws_secret_access_key = profile-secret-0123456789\naws_session_token = profile-token-abcdef\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte("[profile etl]\nregion = eu-west-1\n"), 0o600))
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			c, err := driver.NewConnector(iamForms[1].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl", "profile": "etl"}))
			require.NoError(t, err)
			assert.Equal(t, "eu-west-1", c.Login().Plan().Region)
			_, conn := open(t, b, iamForms[1].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl", "profile": "etl"}))
			assert.Equal(t, "IAM:etl", currentUser(t, conn))
			reqs := fake.Requests()
			assert.Equal(t, "AKIAPROFILEETL000001", reqs[len(reqs)-1].Get(harness.FakeKeyParam))
		})
	}
	// A profile that is not there fails the first connection, naming it;
	// sql.Open and the plan need no AWS configuration (check --offline).
	before := fake.Calls("")
	db, err := sql.Open(driver.Name, iamForms[1].dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl", "profile": "nosuch"}))
	require.NoError(t, err)
	defer db.Close()
	err = db.PingContext(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GetClusterCredentials for cluster etl-prod: load the AWS configuration: failed to get shared config profile, nosuch")
	assert.Equal(t, before, fake.Calls(""), "nothing was called")
}

// TestIAMStaticKeys: keys in the DSN sign the call, session token
// included, in place of the environment's.
func TestIAMStaticKeys(t *testing.T) {
	pg, fake := iamSetup(t)
	fake.AddKey("AKIADSNKEYS000000001", "dsn-secret-0123456789abcdef", "dsn-token-0123456789")
	for _, b := range backends {
		for _, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				_, conn := open(t, b, f.dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl",
					"key": "AKIADSNKEYS000000001", "secret": "dsn-secret-0123456789abcdef", "token": "dsn-token-0123456789"}))
				assert.Equal(t, "IAM:etl", currentUser(t, conn))
				reqs := fake.Requests()
				assert.Equal(t, "AKIADSNKEYS000000001", reqs[len(reqs)-1].Get(harness.FakeKeyParam))
			})
		}
	}
}

// TestIAMODBCDataSource: an odbc.ini data source with IAM=1 logs in.
func TestIAMODBCDataSource(t *testing.T) {
	pg, fake := iamSetup(t)
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf(`[Warehouse IAM]
Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so
Server = %s
Port = %d
Database = %s
sslrootcert = %s
IAM = 1
ClusterID = etl-prod
DbUser = etl
DbGroups = loaders
Region = us-east-1
KeepAlivesIdle = 200
`, pg.Host, pg.Port, pg.Database, pg.CAFile)), 0o600))
	t.Setenv("ODBCINI", ini)
	for i, b := range backends {
		t.Run(b, func(t *testing.T) {
			before := fake.Calls("")
			_, conn := open(t, b, "DSN={Warehouse IAM}")
			assert.Equal(t, "IAM:etl", currentUser(t, conn))
			assert.Equal(t, 200*time.Second, reportOf(t, conn).Idle)
			assert.Equal(t, 1-i, fake.Calls("")-before, "one call; the second backend is served by the process cache")
		})
	}
}

// TestIAMNoSecret: the issued password, the secret access key and the
// session token show nowhere: not in logs, settings reports, printed
// connectors and DSNs, the login's credentials as printed, nor errors.
func TestIAMNoSecret(t *testing.T) {
	pg, fake := iamSetup(t)
	const secret, token = "dsn-secret-QWERTY0123456789", "dsn-token-ASDFGH0123456789"
	fake.AddKey("AKIADSNKEYS000000002", secret, token)
	for _, b := range backends {
		for _, f := range iamForms {
			t.Run(b+"/"+f.name, func(t *testing.T) {
				// Each connector calls for itself (IAMDisableCache), so
				// that each issues a password of its own, and the failures
				// below are not served from a cache.
				dsn := f.dsn(pg, map[string]string{"cluster": "etl-prod", "user": "etl",
					"key": "AKIADSNKEYS000000002", "secret": secret, "token": token, "nocache": "1"})
				_, conn, logs := openLogged(t, b, dsn)
				_, password := fake.Issued()
				var out []string
				out = append(out, logs.lines()...)
				r := reportOf(t, conn)
				js, err := json.Marshal(r)
				require.NoError(t, err)
				out = append(out, r.String(), string(js), fmt.Sprintf("%+v %#v", r, r))
				// Both backends' connectors print, and hand out, the same.
				var c interface {
					sqldriver.Connector
					Login() driver.Login
					DSN() dsnparse.DSN
				}
				if b == rkpq.Name {
					c, err = rkpq.NewConnector(dsn)
				} else {
					c, err = driver.NewConnector(dsn)
				}
				require.NoError(t, err)
				login := c.Login()
				cr, err := login.Credentials(iamCtx(t))
				require.NoError(t, err)
				crJSON, err := json.Marshal(cr)
				require.NoError(t, err)
				loginJSON, err := json.Marshal(login)
				require.NoError(t, err)
				planJSON, err := json.Marshal(login.Plan())
				require.NoError(t, err)
				out = append(out, fmt.Sprint(cr), fmt.Sprintf("%+v %#v %d %t %x", cr, cr, cr, cr, cr), string(crJSON),
					fmt.Sprint(login), fmt.Sprintf("%+v %#v %d %x", login, login, login, login), string(loginJSON), string(planJSON),
					fmt.Sprintf("%v %+v %#v", c.DSN(), c.DSN(), c.DSN().IAM))
				out = append(out, fmt.Sprintf("%v %+v %s", c, c, c))
				_, password2 := fake.Issued() // the second connector's
				// Errors: AWS refuses; the server refuses the password
				// issued (a hostile one); the DSN does not parse.
				fake.Fail("AccessDenied", "denied")
				db, err := sql.Open(b, dsn)
				require.NoError(t, err)
				err = db.PingContext(iamCtx(t))
				require.Error(t, err)
				out = append(out, err.Error())
				db.Close()
				fake.Fail("", "")
				const refused = `iam pw 'q" #;&?%={}`
				fake.SetUnknownToServer(true)
				fake.SetPassword(refused)
				db, err = sql.Open(b, dsn)
				require.NoError(t, err)
				err = db.PingContext(iamCtx(t))
				fake.SetUnknownToServer(false)
				fake.SetPassword("")
				require.Error(t, err)
				assert.Contains(t, err.Error(), "password authentication failed", "the server refuses")
				out = append(out, err.Error(), fmt.Sprintf("%+v %#v", err, err))
				db.Close()
				db, err = sql.Open(b, dsn+f.sep+"KeepAlivesIdle=nope")
				require.Error(t, err)
				assert.Nil(t, db)
				out = append(out, err.Error())
				all := strings.Join(out, "\n")
				require.NotEqual(t, password, password2)
				for _, s := range []string{password, password2, secret, token, "QWERTY", "ASDFGH", refused, "iam pw"} {
					assert.NotContains(t, all, s)
				}
				assert.Contains(t, all, "IAM:etl")
			})
		}
	}
}

// TestIAMSettingsRead: settings.Read works on an IAM connection as on any.
func TestIAMSettingsRead(t *testing.T) {
	pg, _ := iamSetup(t)
	_, conn := open(t, driver.Name, iamForms[0].dsn(pg, etl)+";KeepAlivesIdle=77")
	require.NoError(t, conn.Raw(func(dc any) error {
		r, err := settings.ReadPgx(dc.(*stdlib.Conn).Conn().PgConn())
		require.NoError(t, err)
		assert.Equal(t, 77*time.Second, r.Idle)
		return nil
	}))
}

// BenchmarkIAMConnect: a new connection (open, ping, close) with IAM
// credentials from the connector's cache costs what one with a password
// does. login=password is the superuser with its password; login=iam an
// IAM DSN whose credentials were issued once, before the loop, and are
// reused: the loop makes no API call. Both authenticate with SCRAM to the
// same server, over TLS verified as IAM's verify-ca does. Compare with
// `benchstat -col /login`.
func BenchmarkIAMConnect(b *testing.B) {
	pg := benchPostgres(b)
	fake := harness.StartAWSFake(b, pg)
	for k, v := range fake.Env(b.TempDir()) {
		b.Setenv(k, v)
	}
	fake.SetLifetime(time.Hour)
	cols := []struct{ name, dsn string }{
		{"password", pg.URL("sslmode=verify-ca&sslrootcert=" + pg.CAFile + "&" + benchKA)},
		{"iam", iamForms[1].dsn(pg, etl) + "&" + benchKA},
	}
	for _, c := range rotated(cols) {
		b.Run("login="+c.name, func(b *testing.B) {
			db, err := sql.Open(driver.Name, c.dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxIdleConns(0) // each connection is closed when released
			ctx := context.Background()
			if err := db.PingContext(ctx); err != nil {
				b.Fatal(err)
			}
			calls := fake.Calls("")
			b.ReportAllocs()
			for b.Loop() {
				if err := db.PingContext(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if n := fake.Calls("") - calls; n != 0 {
				b.Fatalf("%d API calls in the loop; want none", n)
			}
		})
	}
}

// BenchmarkIAMConnectPaired: the two columns of BenchmarkIAMConnect taking
// turns op by op in one loop, so that a busy machine slows both alike;
// it reports each one's time per connection and iam's over password's.
func BenchmarkIAMConnectPaired(b *testing.B) {
	pg := benchPostgres(b)
	fake := harness.StartAWSFake(b, pg)
	for k, v := range fake.Env(b.TempDir()) {
		b.Setenv(k, v)
	}
	fake.SetLifetime(time.Hour)
	var dbs [2]*sql.DB
	ctx := context.Background()
	for i, dsn := range []string{pg.URL("sslmode=verify-ca&sslrootcert=" + pg.CAFile + "&" + benchKA), iamForms[1].dsn(pg, etl) + "&" + benchKA} {
		db, err := sql.Open(driver.Name, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxIdleConns(0)
		if err := db.PingContext(ctx); err != nil {
			b.Fatal(err)
		}
		dbs[i] = db
	}
	calls := fake.Calls("")
	var spent [2]time.Duration
	n := 0
	for b.Loop() {
		for k := range 2 {
			i := (n + k) % 2 // alternate which goes first
			start := time.Now()
			if err := dbs[i].PingContext(ctx); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
		n++
	}
	if got := fake.Calls("") - calls; got != 0 {
		b.Fatalf("%d API calls in the loop; want none", got)
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "password-ns/conn")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "iam-ns/conn")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "iam/password")
}
