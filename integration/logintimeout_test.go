//go:build linux

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/browser"
	"github.com/redshift-ka/redshift-ka/internal/clock"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// authTimeout is the servers' authentication_timeout in these tests: the
// smallest PostgreSQL takes. The identity provider takes twice as long.
const authTimeout = time.Second

// TestIAMLoginSlowerThanAuthTimeout: an IAM login whose API answers after
// the server's authentication_timeout logs in on every path (database/sql
// through pgx and lib/pq, pgx.ConnectConfig, pgxpool): the credentials
// come before the dial, so the server never waits on them.
func TestIAMLoginSlowerThanAuthTimeout(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true,
		Settings: map[string]string{"authentication_timeout": fmt.Sprint(authTimeout.Seconds())}})
	fake := harness.StartAWSFake(t, pg)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	t.Cleanup(clock.Set(fake.Now))
	fake.SetDelay(2 * authTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := func(user string) string {
		return iamForms[1].dsn(pg, map[string]string{"cluster": "etl-prod", "user": user})
	}
	paths := map[string]func(dsn string) (string, error){
		"sql.Open": func(dsn string) (u string, err error) { return sqlUser(ctx, driver.Name, dsn) },
		"lib/pq":   func(dsn string) (u string, err error) { return sqlUser(ctx, rkpq.Name, dsn) },
		"pgx.ConnectConfig": func(dsn string) (u string, err error) {
			cfg, err := driver.ParseConfig(dsn)
			if err != nil {
				return "", err
			}
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return "", err
			}
			defer c.Close(ctx)
			return u, c.QueryRow(ctx, "SELECT current_user").Scan(&u)
		},
		"pgxpool": func(dsn string) (u string, err error) {
			cfg, err := driver.ParsePoolConfig(dsn)
			if err != nil {
				return "", err
			}
			p, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				return "", err
			}
			defer p.Close()
			return u, p.QueryRow(ctx, "SELECT current_user").Scan(&u)
		},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]string{}
	i := 0
	for name, connect := range paths {
		user := fmt.Sprintf("slow%d", i) // a request of its own: no cache hit
		i++
		wg.Go(func() {
			u, err := connect(dsn(user))
			if err != nil {
				u = err.Error()
			}
			mu.Lock()
			got[name] = u
			mu.Unlock()
		})
	}
	wg.Wait()
	for name, u := range got {
		assert.Regexp(t, `^IAM:slow\d$`, u, name)
	}
	assert.Len(t, got, len(paths))
}

// sqlUser connects with database/sql and returns the session's user.
func sqlUser(ctx context.Context, backend, dsn string) (string, error) {
	db, err := sql.Open(backend, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var u string
	return u, db.QueryRowContext(ctx, "SELECT current_user").Scan(&u)
}

// TestBrowserLoginSlowerThanAuthTimeout: a person who signs in at the
// browser after the server's authentication_timeout still logs in, with
// database/sql and pgx: the token comes before the dial.
func TestBrowserLoginSlowerThanAuthTimeout(t *testing.T) {
	r := startBrowserRig(t, "azure")
	r.fe.setAuthTimeout(authTimeout)
	slow := browser.Open
	var timers sync.WaitGroup
	browser.Open = func(ctx context.Context, u string) error {
		timers.Add(1)
		time.AfterFunc(2*authTimeout, func() { defer timers.Done(); slow(ctx, u) }) // the person takes a while
		return nil
	}
	t.Cleanup(timers.Wait)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	port := loopbackPort(t)
	viaSQL, viaPgx := browserUsers(t, ctx, r.fe.Server().URL(join(azureKeys("url", port), "&")))
	assert.Equal(t, r.pg.User, viaSQL)
	assert.Equal(t, r.pg.User, viaPgx)
	opened, _, errs := r.browser.Wait()
	assert.Equal(t, 1, opened, "one sign-in")
	assert.Empty(t, errs)
	listenerGone(t, port)
}
