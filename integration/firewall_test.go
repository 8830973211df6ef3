//go:build linux

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/settings"
)

// fwIdle is the firewall's idle timeout in these tests: a flow silent for
// longer is forgotten.
const fwIdle = 3 * time.Second

// ka is a keep-alive setting under test, in whole seconds.
type ka struct{ idle, interval, count int }

func (k ka) params() string {
	return fmt.Sprintf("KeepAlivesIdle=%d&KeepAlivesInterval=%d&KeepAlivesCount=%d", k.idle, k.interval, k.count)
}

func (k ka) d(n int) time.Duration { return time.Duration(n) * time.Second }

// fastKA refreshes a flow every second, well under fwIdle, and notices a
// dead path after 1 + 1 x 3 = 4 s. idle <= interval keeps the lower bound
// of the dead-peer window meaningful (see TestDeadPeer).
var fastKA = ka{idle: 1, interval: 1, count: 3}

// setup is a firewall and a PostgreSQL server behind it, which takes TLS
// (sslmode=require) and plain connections.
type setup struct {
	fw *harness.Firewall
	pg *harness.Postgres
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	fw := harness.NewFirewallT(t, fwIdle)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr, TLS: true})
	return &setup{fw: fw, pg: pg}
}

// open opens a database with driverName and one connection, dialed from the
// client namespace. Both close with the test.
func (s *setup) open(t *testing.T, driverName, dsn string) (*sql.DB, *sql.Conn) {
	t.Helper()
	var (
		db   *sql.DB
		conn *sql.Conn
	)
	require.NoError(t, s.fw.Client.Do(func() error {
		var err error
		if db, err = sql.Open(driverName, dsn); err != nil {
			return err
		}
		conn, err = db.Conn(context.Background())
		return err
	}))
	t.Cleanup(func() { conn.Close(); db.Close() })
	return db, conn
}

// inClient runs fn in the client namespace, for anything that may dial.
func (s *setup) inClient(t *testing.T, fn func() error) {
	t.Helper()
	require.NoError(t, s.fw.Client.Do(fn))
}

// timing records a measured duration beside its bounds: in the test log,
// and in the file named by REDSHIFTKA_TIMINGS (the test script prints it).
func timing(t *testing.T, what string, got, lo, hi time.Duration) {
	t.Helper()
	line := fmt.Sprintf("%s: %.2fs (bounds %.2fs..%.2fs)", what, got.Seconds(), lo.Seconds(), hi.Seconds())
	t.Log("measured " + line)
	if path := os.Getenv("REDSHIFTKA_TIMINGS"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, t.Name()+": "+line)
			f.Close()
		}
	}
	assert.GreaterOrEqual(t, got, lo, what)
	assert.LessOrEqual(t, got, hi, what)
}

type result struct {
	err     error
	elapsed time.Duration
}

// runFor runs a statement on conn with a deadline and reports how it ended.
func runFor(conn execer, bound time.Duration, query string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		start := time.Now()
		_, err := conn.ExecContext(ctx, query)
		ch <- result{err, time.Since(start)}
	}()
	return ch
}

// TestSurvival: a statement silent for 2.5x the firewall's idle timeout
// completes through redshift-ka with keep-alive under that timeout. The
// control, plain pgx with Go's 15 s idle, must not complete: if it does,
// the firewall did not drop the flow and the test proves nothing.
func TestSurvival(t *testing.T) {
	s := newSetup(t)
	sleep := fwIdle * 5 / 2
	bound := sleep + 2*fwIdle // long past the statement, short of Go's 15 s

	_, ours := s.open(t, driver.Name, s.pg.URL(fastKA.params()))
	_, plain := s.open(t, "pgx", s.pg.URL(""))
	query := fmt.Sprintf("SELECT pg_sleep(%g)", sleep.Seconds())
	oursCh, plainCh := runFor(ours, bound, query), runFor(plain, bound, query)

	r := harness.Await(t, oursCh, bound+ctxGrace, "redshift-ka's statement")
	require.NoError(t, r.err, "redshift-ka did not survive the firewall; conntrack:\n%s", s.fw.Flows())
	timing(t, "redshift-ka statement of "+sleep.String(), r.elapsed, sleep, sleep+fwIdle)

	c := harness.Await(t, plainCh, bound+ctxGrace, "the control's statement")
	require.Error(t, c.err, "control: plain pgx completed, so the firewall kept the idle flow; the test is invalid")
	assert.ErrorIs(t, c.err, context.DeadlineExceeded)
	t.Logf("control: plain pgx still waiting after %s, stopped: %v", c.elapsed.Round(time.Millisecond), c.err)
}

// TestLongCopyLandsEveryRow: a server-side COPY that keeps the wire silent
// longer than the firewall's timeout lands every row, and the client hears
// so. The control, the same COPY through the same firewall on plain pgx
// (Go's 15 s idle), run at the same time, must not complete: if it does,
// the firewall kept the idle flow and the test proves nothing.
func TestLongCopyLandsEveryRow(t *testing.T) {
	s := newSetup(t)
	_, conn := s.open(t, driver.Name, s.pg.URL(fastKA.params()))
	_, plain := s.open(t, "pgx", s.pg.URL(""))
	ctx := context.Background()
	for _, table := range []string{"landed", "control"} {
		_, err := conn.ExecContext(ctx, "CREATE TABLE "+table+" (n int)")
		require.NoError(t, err)
	}
	const rows = 50000
	sleep := fwIdle * 5 / 2
	bound := sleep + 2*fwIdle // long past the COPY, short of Go's 15 s
	copyInto := func(table string) string {
		return fmt.Sprintf("COPY %s FROM PROGRAM 'sleep %g; seq 1 %d'", table, sleep.Seconds(), rows)
	}
	type copied struct {
		n   int64
		err error
	}
	run := func(c *sql.Conn, table string) <-chan copied {
		ch := make(chan copied, 1)
		go func() {
			cctx, cancel := context.WithTimeout(ctx, bound)
			defer cancel()
			res, err := c.ExecContext(cctx, copyInto(table))
			var n int64
			if err == nil {
				n, err = res.RowsAffected()
			}
			ch <- copied{n, err}
		}()
		return ch
	}
	oursCh, plainCh := run(conn, "landed"), run(plain, "control")

	r := harness.Await(t, oursCh, bound+ctxGrace, "redshift-ka's COPY")
	require.NoError(t, r.err, "conntrack:\n%s", s.fw.Flows())
	assert.EqualValues(t, rows, r.n)
	var count, sum int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT count(*), sum(n) FROM landed").Scan(&count, &sum))
	assert.EqualValues(t, rows, count)
	assert.EqualValues(t, int64(rows)*(rows+1)/2, sum)

	c := harness.Await(t, plainCh, bound+ctxGrace, "the control's COPY")
	require.Error(t, c.err, "control: plain pgx's COPY completed (%d rows), so the firewall kept the idle flow; the test is invalid", c.n)
	assert.ErrorIs(t, c.err, context.DeadlineExceeded)
	// The server ran it; the client never heard, so it cannot know.
	var landed int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT count(*) FROM control").Scan(&landed))
	t.Logf("control: plain pgx's COPY gave no answer within %s (%v); the server holds %d of its rows, which the client was never told of", bound, c.err, landed)
}

// TestDeadPeer: the path is cut in the middle of a long statement. The
// statement fails once the probes go unanswered. The last answered probe
// came at most idle before the cut, so the error comes within
// (DeadAfter - idle, DeadAfter] of it; the bounds are
// [DeadAfter - interval, DeadAfter + 1.5 s], which is the issue's
// [idle + interval x (count-1), idle + interval x count + 1.5 s] without
// tcp_user_timeout, and hold when idle <= interval. With tcp_user_timeout,
// Linux gives up after that timeout instead of after count probes.
func TestDeadPeer(t *testing.T) {
	s := newSetup(t)
	fast := dialer.Observed{KeepAlive: true, Idle: time.Second, Interval: time.Second, Count: 3}
	withUT := fast
	withUT.UserTimeout = 6 * time.Second
	for _, tc := range []struct {
		name    string
		backend string
		params  string
		want    dialer.Observed
		probes  int
		viaDB   bool // run the statement on the *sql.DB, where database/sql retries "bad connections"
	}{
		{"keep-alive 1/1/3", driver.Name, fastKA.params(), fast, 3, false},
		{"keep-alive 1/1/3 with tcp_user_timeout 6s", driver.Name, fastKA.params() + "&tcp_user_timeout=6000", withUT, 5, false},
		{"keep-alive 1/1/3 through *sql.DB: no retry", driver.Name, fastKA.params(), fast, 3, true},
		{"lib/pq, keep-alive 1/1/3", rkpq.Name, fastKA.params(), fast, 3, false},
		{"lib/pq, keep-alive 1/1/3 through *sql.DB", rkpq.Name, fastKA.params(), fast, 3, true},
		{"TLS, keep-alive 1/1/3", driver.Name, fastKA.params() + "&sslmode=require", fast, 3, false},
		{"TLS, keep-alive 1/1/3 through *sql.DB", driver.Name, fastKA.params() + "&sslmode=require", fast, 3, true},
		{"TLS, lib/pq, keep-alive 1/1/3", rkpq.Name, fastKA.params() + "&sslmode=require", fast, 3, false},
		{"TLS, lib/pq, keep-alive 1/1/3 through *sql.DB", rkpq.Name, fastKA.params() + "&sslmode=require", fast, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deadPeer(t, s, tc.backend, tc.params, tc.want, tc.probes, tc.viaDB)
		})
	}
}

// execer is what *sql.DB and *sql.Conn share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func deadPeer(t *testing.T, s *setup, backend, params string, want dialer.Observed, probes int, viaDB bool) {
	db, conn := s.open(t, backend, s.pg.URL(params))
	var pid uint32
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))
	r, err := settings.Read(conn)
	require.NoError(t, err)
	require.Equal(t, want, r.Observed)

	var on execer = conn
	if viaDB {
		require.NoError(t, conn.Close()) // back to the pool, where db.ExecContext finds it
		db.SetMaxOpenConns(1)
		on = db
	}
	ch := runFor(on, time.Minute, "SELECT pg_sleep(60)")
	time.Sleep(want.Idle + 1500*time.Millisecond) // a probe or two answered
	require.NoError(t, s.fw.Cut())
	cut := time.Now()
	res := harness.Await(t, ch, time.Minute+ctxGrace, "the statement on the cut path")
	elapsed := time.Since(cut)

	dead := want.DeadAfter()
	timing(t, fmt.Sprintf("dead peer noticed (DeadAfter %s)", dead), elapsed, dead-want.Interval, dead+1500*time.Millisecond)

	require.Error(t, res.err)
	var lost *dialer.ConnLostError
	require.ErrorAs(t, res.err, &lost)
	assert.ErrorIs(t, res.err, dialer.ErrConnectionLost)
	assert.ErrorIs(t, res.err, syscall.ETIMEDOUT)
	msg := res.err.Error()
	assert.Contains(t, msg, fmt.Sprintf("%d keep-alive probes went unanswered", probes))
	assert.Contains(t, msg, fmt.Sprintf("keep-alive idle %s, interval %s, count %d", want.Idle, want.Interval, want.Count))
	assert.Contains(t, msg, fmt.Sprintf("server process id %d", pid))
	harness.NoLeak(t, s.pg, "the lost connection's error", msg)
	assert.True(t, strings.HasPrefix(msg, "redshift-ka: connection to "), "the text says first that the connection was lost")
	t.Logf("the error: %v", res.err)

	if !viaDB {
		// Raw still hands back the driver's connection, now unusable.
		require.NoError(t, rawUnusable(t, conn))
		require.NoError(t, conn.Close())
		// A second statement on the same *sql.Conn fails at once with
		// database/sql's "bad connection", not a hang or a stale session.
		_, err := conn.ExecContext(context.Background(), "SELECT 1")
		assert.ErrorIs(t, err, sql.ErrConnDone)
	}

	// database/sql dropped the dead connection; with the path back, the
	// same *sql.DB works on a new one.
	require.NoError(t, s.fw.Restore())
	var newPID int
	s.inClient(t, func() error {
		return db.QueryRow("SELECT pg_backend_pid()").Scan(&newPID)
	})
	assert.NotEqual(t, int(pid), newPID)
	assert.Equal(t, 1, db.Stats().OpenConnections)
}

// lines is an endless COPY source that stops at EOF once stop is closed.
type lines struct {
	stop <-chan struct{}
	n    int
}

func (l *lines) Read(p []byte) (int, error) {
	select {
	case <-l.stop:
		return 0, io.EOF
	default:
	}
	w := 0
	for w+16 < len(p) {
		w += copy(p[w:], fmt.Sprintf("%d\n", l.n))
		l.n++
	}
	return w, nil
}

// rawUnusable asserts that Raw hands back the driver's connection of a
// lost conn, closed or invalid; its error is Raw's (sql.ErrConnDone when
// database/sql closed the connection already).
func rawUnusable(t *testing.T, conn *sql.Conn) error {
	return conn.Raw(func(dc any) error {
		switch c := dc.(type) {
		case *stdlib.Conn:
			assert.True(t, c.Conn().IsClosed())
		case *rkpq.Conn:
			assert.False(t, c.IsValid())
		default:
			t.Errorf("Raw gave %T", dc)
		}
		return nil
	})
}

// TestUploadCut: a COPY FROM STDIN streams when the path is cut: pgx's
// CopyFrom and lib/pq's CopyIn, over TCP and TLS. Keep-alive cannot help
// while sent data waits for acknowledgement; tcp_user_timeout ends each
// within that timeout + 1.5 s, with the lost connection's error. The
// control, keep-alive alone, is still stuck at that bound.
func TestUploadCut(t *testing.T) {
	s := newSetup(t)
	const userTimeout = 3 * time.Second
	utParams := fastKA.params() + "&tcp_user_timeout=3000"
	_, withUT := s.open(t, driver.Name, s.pg.URL(utParams))
	_, withUTTLS := s.open(t, driver.Name, s.pg.URL(utParams+"&sslmode=require"))
	_, pqUT := s.open(t, rkpq.Name, s.pg.URL(utParams))
	_, pqUTTLS := s.open(t, rkpq.Name, s.pg.URL(utParams+"&sslmode=require"))
	_, kaOnly := s.open(t, driver.Name, s.pg.URL(fastKA.params()))
	for _, c := range []*sql.Conn{withUT, withUTTLS, pqUT, pqUTTLS, kaOnly} {
		_, err := c.ExecContext(context.Background(), "CREATE TABLE IF NOT EXISTS up (n bigint)")
		require.NoError(t, err)
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	defer stopOnce.Do(func() { close(stop) })

	bound := userTimeout + 1500*time.Millisecond
	upload := func(conn *sql.Conn) (<-chan result, net.Conn) {
		var pc *pgconn.PgConn
		require.NoError(t, conn.Raw(func(dc any) error { pc = dc.(*stdlib.Conn).Conn().PgConn(); return nil }))
		ch := make(chan result, 1)
		go func() {
			defer func() {
				// pgx v5.12 can close its cleanupDone twice when the
				// socket fails under a CopyFrom in both directions at
				// once (pgconn.go CopyFrom): a panic of pgx's, which
				// would end the whole test binary. It becomes this
				// upload's error, so the assertions below judge it.
				if p := recover(); p != nil {
					ch <- result{err: fmt.Errorf("pgx panicked in CopyFrom: %v", p)}
				}
			}()
			_, err := pc.CopyFrom(context.Background(), &lines{stop: stop}, "COPY up FROM STDIN")
			ch <- result{err: err}
		}()
		return ch, pc.Conn()
	}
	// pqUpload streams rows through lib/pq's CopyIn, a prepared statement
	// of a transaction, until a row fails.
	pqUpload := func(conn *sql.Conn) <-chan result {
		ch := make(chan result, 1)
		go func() {
			tx, err := conn.BeginTx(context.Background(), nil)
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer tx.Rollback()
			stmt, err := tx.Prepare(pq.CopyIn("up", "n"))
			for n := int64(0); err == nil; n++ {
				select {
				case <-stop:
					ch <- result{err: errors.New("stopped")}
					return
				default:
				}
				_, err = stmt.Exec(n)
			}
			ch <- result{err: err}
		}()
		return ch
	}
	uploads := []struct {
		name string
		ch   <-chan result
	}{
		{"upload", nil}, {"upload over TLS", nil}, {"lib/pq upload", nil}, {"lib/pq upload over TLS", nil},
	}
	uploads[0].ch, _ = upload(withUT)
	uploads[1].ch, _ = upload(withUTTLS)
	uploads[2].ch = pqUpload(pqUT)
	uploads[3].ch = pqUpload(pqUTTLS)
	kaCh, kaSock := upload(kaOnly)
	waitFor(t, func() bool { // all streaming
		return selectCount(t, s, "SELECT count(*) FROM pg_stat_progress_copy WHERE bytes_processed > 0") == 5
	})
	require.NoError(t, s.fw.Cut())
	cut := time.Now()

	for _, u := range uploads {
		r := harness.Await(t, u.ch, 2*bound, "the "+u.name+" with tcp_user_timeout")
		// The oldest unacknowledged data went out at the cut, give or take
		// a round trip: the kernel gives up tcp_user_timeout after it.
		timing(t, u.name+" cut noticed with tcp_user_timeout=3000", time.Since(cut), userTimeout-500*time.Millisecond, bound)
		var lost *dialer.ConnLostError
		if assert.ErrorAs(t, r.err, &lost, "%s: %v", u.name, r.err) {
			assert.Contains(t, r.err.Error(), "sent data stayed unacknowledged for tcp_user_timeout (3s)")
			// pgx puts "write failed: " before a loss it saw writing the
			// data rather than reading (pgproto3's writeError, pinned by
			// driver's TestPgxWriteErrorPrefix); which it sees first is
			// a race.
			text := strings.TrimPrefix(r.err.Error(), "write failed: ")
			assert.True(t, strings.HasPrefix(text, "redshift-ka: connection to "), "%s: %v", u.name, r.err)
		}
	}

	select {
	case r := <-kaCh:
		t.Fatalf("control: keep-alive alone ended the upload %s after the cut (%v); it should not have", time.Since(cut), r.err)
	case <-time.After(bound - time.Since(cut) + time.Second):
		t.Logf("control: keep-alive alone still uploading %s after the cut, as expected", time.Since(cut).Round(time.Millisecond))
	}
	// Let the control go: a deadline in the past ends the stuck write and
	// the read, and pgx closes the socket itself (closing it under pgx
	// races with pgx's own close).
	stopOnce.Do(func() { close(stop) })
	require.NoError(t, kaSock.SetDeadline(time.Now()))
	harness.Await(t, kaCh, ctxGrace, "the control's upload, its socket closed")
}

// TestOSFallbackSurvives: in a client namespace whose keep-alive sysctls are
// short, a DSN with no keep-alive keys survives the firewall through the
// OS values; the same DSN with keepalives=0 does not.
func TestOSFallbackSurvives(t *testing.T) {
	s := newSetup(t)
	for k, v := range map[string]string{
		"net.ipv4.tcp_keepalive_time":   "1",
		"net.ipv4.tcp_keepalive_intvl":  "1",
		"net.ipv4.tcp_keepalive_probes": "3",
	} {
		require.NoError(t, s.fw.Client.Sysctl(k, v))
	}
	sleep := fwIdle * 5 / 2
	bound := sleep + 2*fwIdle
	_, fallback := s.open(t, driver.Name, s.pg.KeyValue(""))
	_, off := s.open(t, driver.Name, s.pg.KeyValue("keepalives=0"))
	r, err := settings.Read(fallback)
	require.NoError(t, err)
	require.Equal(t, time.Second, r.Idle, "the OS value of the client namespace")

	query := fmt.Sprintf("SELECT pg_sleep(%g)", sleep.Seconds())
	fbCh, offCh := runFor(fallback, bound, query), runFor(off, bound, query)
	res := harness.Await(t, fbCh, bound+ctxGrace, "the statement with the OS fallback")
	require.NoError(t, res.err, "OS fallback did not survive; conntrack:\n%s", s.fw.Flows())
	timing(t, "statement with OS keep-alive 1/1/3", res.elapsed, sleep, sleep+fwIdle)
	c := harness.Await(t, offCh, bound+ctxGrace, "the statement with keepalives=0")
	require.Error(t, c.err, "keepalives=0 completed: the firewall kept the idle flow; the test is invalid")
	assert.ErrorIs(t, c.err, context.DeadlineExceeded)
}

// TestServerKilled: the server's backend dies mid-statement (a reset, not
// silence): the statement fails at once, long before keep-alive could have
// noticed, and the pool works again once the server is back.
func TestServerKilled(t *testing.T) {
	s := newSetup(t)
	k := ka{idle: 10, interval: 10, count: 3}
	db, conn := s.open(t, driver.Name, s.pg.URL(k.params()))
	var pid int
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))

	ch := runFor(conn, time.Minute, "SELECT pg_sleep(60)")
	waitFor(t, func() bool { return active(t, s, uint32(pid)) })
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	r := harness.Await(t, ch, time.Minute+ctxGrace, "the statement whose server was killed")
	elapsed := time.Since(killed)
	timing(t, "reset noticed", elapsed, 0, k.d(k.idle)/2)
	require.Error(t, r.err)
	assert.False(t, errors.Is(r.err, dialer.ErrConnectionLost), "a reset is not a silent path: %v", r.err)
	conn.Close()

	// The postmaster restarts after a backend crash; the pool recovers.
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		s.inClient(t, func() error {
			err = db.PingContext(context.Background())
			return nil
		})
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err, "the pool did not recover; server log:\n%s", harness.Tail(s.pg.Log(), 2000))
	var one int
	s.inClient(t, func() error { return db.QueryRow("SELECT 1").Scan(&one) })
	assert.Equal(t, 1, one)
}

// TestListenLoopEnds: a LISTEN loop that waits again on a timeout, as pgx
// programs do, ends once the path is dead, over TCP and TLS, on a pgx
// connection and a pooled one: the loss is reported as a timeout once
// (the LISTEN was a simple-protocol statement; see driver/lost.go), then
// as the error, with the connection closed, so a pool drops it.
func TestListenLoopEnds(t *testing.T) {
	s := newSetup(t)
	for _, tc := range []struct {
		name   string
		params string
		pool   bool
	}{
		{"pgx", "", false},
		{"pgx over TLS", "&sslmode=require", false},
		{"pgxpool over TLS", "&sslmode=require", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listenLoopEnds(t, s, s.pg.URL(fastKA.params()+tc.params), tc.pool)
			require.NoError(t, s.fw.Restore())
		})
	}
}

func listenLoopEnds(t *testing.T, s *setup, dsn string, pooled bool) {
	ctx := context.Background()
	var (
		conn *pgx.Conn
		pool *pgxpool.Pool
		pc   *pgxpool.Conn
		err  error
	)
	if pooled {
		cfg, err := driver.ParsePoolConfig(dsn)
		require.NoError(t, err)
		// pgxpool dials on goroutines of its own: dial in the client
		// namespace there.
		dial := cfg.ConnConfig.DialFunc
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = s.fw.Client.Do(func() error { c, err = dial(ctx, network, addr); return err })
			return c, err
		}
		pool, err = pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		pc, err = pool.Acquire(ctx)
		require.NoError(t, err)
		conn = pc.Conn()
	} else {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		s.inClient(t, func() error {
			conn, err = pgx.ConnectConfig(ctx, cfg)
			return err
		})
		defer conn.Close(ctx)
	}
	pid := conn.PgConn().PID()
	_, err = conn.Exec(ctx, "LISTEN jobs")
	require.NoError(t, err)

	type outcome struct {
		err   error
		waits int
	}
	done := make(chan outcome, 1)
	go func() {
		for waits := 1; ; waits++ {
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil && pgconn.Timeout(err) && waits < 100 {
				continue // what a LISTEN loop does on a timeout
			}
			done <- outcome{err, waits}
			return
		}
	}()
	time.Sleep(fastKA.d(fastKA.idle) + 1500*time.Millisecond)
	require.NoError(t, s.fw.Cut())
	cut := time.Now()
	dead := fastKA.d(fastKA.idle) + fastKA.d(fastKA.interval)*time.Duration(fastKA.count)
	// Past dead the loop's wait in progress (a minute at most) ends.
	o := harness.Await(t, done, dead+time.Minute+ctxGrace, "the LISTEN loop")
	timing(t, "LISTEN loop ended", time.Since(cut), dead-fastKA.d(fastKA.interval), dead+1500*time.Millisecond)
	var lost *dialer.ConnLostError
	require.ErrorAs(t, o.err, &lost)
	assert.True(t, strings.HasPrefix(o.err.Error(), "redshift-ka: connection to "), "the error: %v", o.err)
	assert.LessOrEqual(t, o.waits, 2, "the loop waited again on a dead connection")
	assert.True(t, conn.IsClosed())
	if pooled {
		pc.Release()
		require.NoError(t, s.fw.Restore())
		pc, err = pool.Acquire(ctx)
		require.NoError(t, err)
		defer pc.Release()
		assert.NotEqual(t, pid, pc.Conn().PgConn().PID(), "the pool handed out the lost connection again")
		assert.Equal(t, int32(1), pool.Stat().TotalConns())
	}
}

// TestTLSHandshakeCut: the path dies during the TLS handshake, as the
// server sends its certificate. The connect fails with the lost
// connection's error within the bound its settings give, on both backends,
// with connect_timeout far away.
func TestTLSHandshakeCut(t *testing.T) {
	s := newSetup(t)
	params := fastKA.params() + "&tcp_user_timeout=3000&sslmode=require&connect_timeout=60"
	want := dialer.Observed{KeepAlive: true, Idle: time.Second, Interval: time.Second, Count: 3, UserTimeout: 3 * time.Second}
	dead := want.DeadAfter()
	for _, backend := range []string{driver.Name, rkpq.Name} {
		t.Run(backend, func(t *testing.T) {
			db, err := sql.Open(backend, s.pg.URL(params))
			require.NoError(t, err)
			defer db.Close()
			require.NoError(t, s.fw.CutAtServerPacket(300)) // the server's 'S' passes, its certificate does not
			defer func() { require.NoError(t, s.fw.Restore()) }()
			ch := make(chan result, 1)
			start := time.Now()
			go func() {
				err := s.fw.Client.Do(func() error { return db.PingContext(context.Background()) })
				ch <- result{err, time.Since(start)}
			}()
			r := harness.Await(t, ch, time.Minute, "the connect through a path cut during the TLS handshake")
			timing(t, fmt.Sprintf("TLS handshake cut noticed (DeadAfter %s)", dead), r.elapsed, dead-want.Interval, dead+1500*time.Millisecond)
			var lost *dialer.ConnLostError
			require.ErrorAs(t, r.err, &lost, "the error: %v", r.err)
			assert.Contains(t, r.err.Error(), "redshift-ka: connection to "+lost.Addr+" lost")
			harness.NoLeak(t, s.pg, "the handshake's error", r.err.Error())
			t.Logf("the error: %v", r.err)
		})
	}
}
