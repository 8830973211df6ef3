//go:build linux

package integration

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/settings"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// form builds a DSN of one form for a server, with extra keys.
type form struct {
	name string
	dsn  func(pg *harness.Postgres, kv [][2]string) string
}

var forms = []form{
	{"url", func(pg *harness.Postgres, kv [][2]string) string { return pg.URL(join(kv, "&")) }},
	{"keyvalue", func(pg *harness.Postgres, kv [][2]string) string { return pg.KeyValue(join(kv, " ")) }},
	{"odbc", func(pg *harness.Postgres, kv [][2]string) string { return pg.ODBC(join(kv, ";")) }},
	{"jdbc", func(pg *harness.Postgres, kv [][2]string) string { return pg.JDBC(join(jdbcSpelling(kv), "&")) }},
}

// jdbcSpelling writes libpq keys as a JDBC URL does: under the JDBC
// driver's names, and a server setting the JDBC driver does not know as
// options=-c name=value (a JDBC URL's other keys are dropped, see
// dsnparse's FormJDBC). Keys redshift-ka owns stay as they are.
func jdbcSpelling(kv [][2]string) [][2]string {
	out := make([][2]string, len(kv))
	for i, p := range kv {
		switch strings.ToLower(p[0]) {
		case "application_name":
			p[0] = "ApplicationName"
		case "connect_timeout":
			p[0] = "connectTimeout"
		case "statement_timeout":
			p = [2]string{"options", url.QueryEscape("-c statement_timeout=" + p[1])}
		}
		out[i] = p
	}
	return out
}

func join(kv [][2]string, sep string) string {
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, sep)
}

// keyFamilies are the spellings of the keys, one family per client they
// come from: index 1..4 of each spec's names are used in turn.
var keyFamilies = []struct {
	name string
	pick int // index into KeySpec.Names
}{
	{"odbc plural", 0}, {"odbc singular", 1}, {"libpq", 2}, {"redshift_connector", 3},
}

// backends are the two drivers: pgx and lib/pq underneath.
var backends = []string{driver.Name, rkpq.Name}

// backendForm is one DSN form through one backend.
type backendForm struct {
	name    string // "redshift-ka/url"
	backend string
	form
}

// everyBackendForm lists every form through every backend: the tests that
// claim per-socket behaviour run over all of them.
func everyBackendForm() []backendForm {
	var all []backendForm
	for _, b := range backends {
		for _, f := range forms {
			all = append(all, backendForm{b + "/" + f.name, b, f})
		}
	}
	return all
}

// open opens a database and one connection, closed with the test.
func open(t *testing.T, backend, dsn string) (*sql.DB, *sql.Conn) {
	t.Helper()
	db, err := sql.Open(backend, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return db, conn
}

func reportOf(t *testing.T, conn *sql.Conn) settings.Report {
	t.Helper()
	r, err := settings.Read(conn)
	require.NoError(t, err)
	return r
}

// TestPerSocketValues: for every DSN form and every spelling of the keys,
// the kernel holds on the socket exactly what the DSN asked for.
func TestPerSocketValues(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	names := func(s dsnparse.Setting, pick int) string {
		n := dsnparse.Keys()[s].Names
		return n[min(pick, len(n)-1)]
	}
	for _, f := range everyBackendForm() {
		for i, fam := range keyFamilies {
			t.Run(f.name+"/"+fam.name, func(t *testing.T) {
				idle, intvl, cnt := 100+i, 10+i, 3+i
				kv := [][2]string{
					{names(dsnparse.KeepAlive, fam.pick), "1"},
					{names(dsnparse.Idle, fam.pick), itoa(idle)},
					{names(dsnparse.Interval, fam.pick), itoa(intvl)},
					{names(dsnparse.Count, fam.pick), itoa(cnt)},
					{"tcp_user_timeout", itoa(5000 + i)},
				}
				_, conn := open(t, f.backend, f.dsn(pg, kv))
				var one int
				require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT 1").Scan(&one))
				r := reportOf(t, conn)
				assert.Equal(t, dialer.Observed{
					KeepAlive:   true,
					Idle:        time.Duration(idle) * time.Second,
					Interval:    time.Duration(intvl) * time.Second,
					Count:       cnt,
					UserTimeout: time.Duration(5000+i) * time.Millisecond,
				}, r.Observed)
				assert.Equal(t, "DSN key "+names(dsnparse.Idle, fam.pick), r.IdleFrom.String())
				assert.Equal(t, "DSN key "+names(dsnparse.Count, fam.pick), r.CountFrom.String())
			})
		}
	}
}

// TestKeepAliveOff: keepalives=0 leaves SO_KEEPALIVE off, in every form.
func TestKeepAliveOff(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			_, conn := open(t, f.backend, f.dsn(pg, [][2]string{{"keepalives", "0"}, {"KeepAlivesIdle", "30"}}))
			r := reportOf(t, conn)
			assert.False(t, r.KeepAlive)
			assert.Equal(t, "keep-alive off (DSN key keepalives)", r.String())
		})
	}
}

// TestOSFallbackInNamespace: in a network namespace whose keep-alive
// sysctls differ from Linux's defaults, absent and zero keys give the
// namespace's values, never Go's 15 s/15 s/9.
func TestOSFallbackInNamespace(t *testing.T) {
	ns := harness.NewNetnsT(t, "osfb")
	for k, v := range map[string]string{
		"net.ipv4.tcp_keepalive_time":   "1234",
		"net.ipv4.tcp_keepalive_intvl":  "56",
		"net.ipv4.tcp_keepalive_probes": "7",
	} {
		require.NoError(t, ns.Sysctl(k, v))
	}
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: ns.Name})
	host, err := sysfallback.Read()
	require.NoError(t, err)
	require.NotEqual(t, 1234*time.Second, host.Idle, "the host must differ from the namespace for this test to mean anything")

	want := dialer.Observed{KeepAlive: true, Idle: 1234 * time.Second, Interval: 56 * time.Second, Count: 7}
	for _, f := range everyBackendForm() {
		for _, tc := range []struct {
			name string
			kv   [][2]string
			want dialer.Observed
		}{
			{"absent", nil, want},
			{"zero", [][2]string{{"KeepAlivesIdle", "0"}, {"KeepAlivesInterval", "0"}, {"KeepAlivesCount", "0"}, {"tcp_user_timeout", "0"}}, want},
			{"mixed", [][2]string{{"keepalives_interval", "9"}}, dialer.Observed{KeepAlive: true, Idle: 1234 * time.Second, Interval: 9 * time.Second, Count: 7}},
		} {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				dsn := f.dsn(pg, tc.kv)
				var r settings.Report
				require.NoError(t, ns.Do(func() error {
					// Sockets made on this thread belong to the namespace,
					// and so do the sysctls read for the report.
					db, err := sql.Open(f.backend, dsn)
					if err != nil {
						return err
					}
					defer db.Close()
					conn, err := db.Conn(context.Background())
					if err != nil {
						return err
					}
					defer conn.Close()
					r, err = settings.Read(conn)
					return err
				}))
				assert.Equal(t, tc.want, r.Observed)
				assert.Equal(t, "sysctl net.ipv4.tcp_keepalive_time", r.IdleFrom.OS)
				assert.Equal(t, sysfallback.Values{
					Idle: 1234 * time.Second, Interval: 56 * time.Second, Count: 7,
					IdleFrom:     "sysctl net.ipv4.tcp_keepalive_time",
					IntervalFrom: "sysctl net.ipv4.tcp_keepalive_intvl",
					CountFrom:    "sysctl net.ipv4.tcp_keepalive_probes",
				}, r.OS)
			})
		}
	}
}

// TestOtherKeysReachTheServer: keys redshift-ka does not own arrive at pgx
// and the server; ours do not (the server would refuse them).
func TestOtherKeysReachTheServer(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			appName := "Application_Name"
			if f.form.name != "odbc" {
				appName = "application_name"
			}
			_, conn := open(t, f.backend, f.dsn(pg, [][2]string{
				{appName, "etl-" + f.form.name}, {"KeepAlivesIdle", "77"}, {"statement_timeout", "4321"},
				{"keepalives", "1"}, {"tcp_user_timeout", "9000"},
			}))
			ctx := context.Background()
			var app, st string
			require.NoError(t, conn.QueryRowContext(ctx, "SELECT current_setting('application_name'), current_setting('statement_timeout')").Scan(&app, &st))
			assert.Equal(t, "etl-"+f.form.name, app)
			assert.Equal(t, "4321ms", st)
			assert.Equal(t, 77*time.Second, reportOf(t, conn).Idle)
		})
	}
}

// TestPgxStillUnderneath: Raw hands back pgx's *stdlib.Conn; pgx's own keys
// and several hosts work.
func TestPgxStillUnderneath(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	closed := closedPort(t)
	dsn := strings.Replace(pg.URL("default_query_exec_mode=simple_protocol&KeepAlivesIdle=42"),
		pg.Host+":"+itoa(pg.Port), "127.0.0.1:"+itoa(closed)+","+pg.Host+":"+itoa(pg.Port), 1)
	_, conn := open(t, driver.Name, dsn)
	require.NoError(t, conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("Raw did not hand back *stdlib.Conn")
		}
		assert.True(t, strings.HasSuffix(sc.Conn().PgConn().Conn().RemoteAddr().String(), ":"+itoa(pg.Port)))
		return nil
	}))
	var n int
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT $1::int", 7).Scan(&n))
	assert.Equal(t, 7, n)
	assert.Equal(t, 42*time.Second, reportOf(t, conn).Idle)
}

// TestCancelRequestUsesTheDialer: pgx's cancel request dials through
// redshift-ka, and cancels the statement on the server.
func TestCancelRequestUsesTheDialer(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	db, conn, logs := openLogged(t, driver.Name, pg.KeyValue("KeepAlivesIdle=33"))
	var pc *pgconn.PgConn
	require.NoError(t, conn.Raw(func(dc any) error { pc = dc.(*stdlib.Conn).Conn().PgConn(); return nil }))
	require.Len(t, logs.lines(), 1)

	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(context.Background(), "SELECT pg_sleep(30)")
		done <- err
	}()
	// Wait until the statement runs, as the server sees it.
	waitFor(t, func() bool {
		var n int
		_ = db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'").Scan(&n)
		return n == 1
	})
	before := len(logs.lines())
	require.NoError(t, pc.CancelRequest(context.Background()))
	err := harness.Await(t, done, 10*time.Second, "the cancelled statement")
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "57014", pgErr.Code) // query_canceled
	lines := logs.lines()
	require.Len(t, lines, before+1, "the cancel request was dialed by redshift-ka: %v", lines)
	for _, l := range lines {
		assert.Contains(t, l, "keepalive=on, idle 33s")
		harness.NoLeak(t, pg, "a log line", l)
	}
}

// TestContextCancelStillCancels: a statement whose context ends is
// cancelled on the server, though the driver keeps pgx from cancelling
// the statement of a lost connection (driver/cancel.go): the connection
// is not lost, so pgx's cancel request goes out. Without it pg_sleep(30)
// would run on for 30 s: PostgreSQL does not notice a closed client while
// a statement sleeps.
func TestContextCancelStillCancels(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	db, conn := open(t, driver.Name, pg.KeyValue("KeepAlivesIdle=33"))
	var pid int
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, "SELECT pg_sleep(30)")
		done <- err
	}()
	running := func() bool {
		var n int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query = 'SELECT pg_sleep(30)' AND state = 'active'", pid).Scan(&n))
		return n == 1
	}
	waitFor(t, running)
	cancel()
	err := harness.Await(t, done, 10*time.Second, "the statement whose context ended")
	require.ErrorIs(t, err, context.Canceled)
	waitFor(t, func() bool { return !running() })
}

// TestTLSRequire: sslmode=require against a self-signed server; the
// settings are read through the TLS layer.
func TestTLSRequire(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{TLS: true})
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			sslmode := "sslmode"
			if f.form.name == "odbc" {
				sslmode = "SSLMode"
			}
			_, conn := open(t, f.backend, f.dsn(pg, [][2]string{{sslmode, "require"}, {"KeepAliveCount", "4"}}))
			var ssl bool
			require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl))
			assert.True(t, ssl)
			assert.Equal(t, 4, reportOf(t, conn).Count)
		})
	}
}

// TestBadInputFailsAtOpen: a bad value fails at sql.Open, and the message
// has no password. (driver's TestBadDSNDialsNothing shows no dial is made.)
func TestBadInputFailsAtOpen(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			db, err := sql.Open(f.backend, f.dsn(pg, [][2]string{{"KeepAlivesIdle", "1.5"}}))
			require.EqualError(t, err, `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "1.5"`)
			assert.Nil(t, db)
			db, err = sql.Open(f.backend, f.dsn(pg, [][2]string{{"keepalives_count", "200"}}))
			assert.Nil(t, db)
			var pe *dsnparse.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "keepalives_count", pe.Key)
			assert.ErrorIs(t, err, dsnparse.ErrRange)
			harness.NoLeak(t, pg, "the error", err.Error())
		})
	}
}

// openLogged opens a database through backend with a logger of its dials,
// and one connection; both close with the test.
func openLogged(t *testing.T, backend, dsn string) (*sql.DB, *sql.Conn, *recorder) {
	t.Helper()
	logs := &recorder{}
	var (
		c   sqldriver.Connector
		err error
	)
	if backend == rkpq.Name {
		c, err = rkpq.NewConnector(dsn, driver.WithLogger(slog.New(logs)))
	} else {
		c, err = driver.NewConnector(dsn, driver.WithLogger(slog.New(logs)))
	}
	require.NoError(t, err)
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return db, conn, logs
}

// recorder is a slog handler that keeps each record as one line.
type recorder struct {
	mu  sync.Mutex
	out []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	r.mu.Lock()
	r.out = append(r.out, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.out...)
}

func itoa(n int) string { return strconv.Itoa(n) }

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// ctxGrace is how long past its context's deadline a call may take to
// return: pgx and lib/pq return at once, and a loaded machine adds some.
const ctxGrace = 10 * time.Second

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10 s")
}
