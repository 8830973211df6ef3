package otelka_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"golang.org/x/sys/unix"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
	"github.com/redshift-ka/redshift-ka/otelka"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m.Run, 5*time.Second)) }

// open opens a database through redshift-ka, closed with the test.
func open(t testing.TB, pg *harness.Postgres) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver.Name, pg.URL(""))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// socket returns the TCP socket under conn.
func socket(t testing.TB, conn *sql.Conn) syscall.Conn {
	t.Helper()
	var sock net.Conn
	require.NoError(t, conn.Raw(func(dc any) error {
		sock = dc.(*stdlib.Conn).Conn().PgConn().Conn()
		return nil
	}))
	sc, ok := sock.(syscall.Conn)
	require.True(t, ok, "%T", sock)
	return sc
}

// tcpInfo reads TCP_INFO from sock with getsockopt.
func tcpInfo(t testing.TB, sock syscall.Conn) *unix.TCPInfo {
	t.Helper()
	rc, err := sock.SyscallConn()
	require.NoError(t, err)
	var info *unix.TCPInfo
	var infoErr error
	require.NoError(t, rc.Control(func(fd uintptr) { info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }))
	require.NoError(t, infoErr)
	return info
}

// TestGaugesAreTCPInfo: the gauges of a database's one connection are
// what getsockopt(TCP_INFO) reads on its socket just before and after the
// collection, under the attributes of the server and database.
func TestGaugesAreTCPInfo(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	r := started(t)
	db := open(t, pg)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	for range 20 { // some round trips, for an RTT
		require.NoError(t, conn.PingContext(ctx))
	}
	sock := socket(t, conn)
	// Silence long enough for the "since" gauges to be above zero.
	for deadline := time.Now().Add(5 * time.Second); tcpInfo(t, sock).Last_data_recv < 20; {
		require.True(t, time.Now().Before(deadline), "the socket stays busy")
		time.Sleep(5 * time.Millisecond)
	}

	before := tcpInfo(t, sock)
	got := collect(t, r)
	after := tcpInfo(t, sock)

	want := attribute.NewSet(
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.namespace", pg.Database),
		attribute.String("server.address", pg.Host),
		attribute.Int("server.port", pg.Port))
	between := func(name string, v1, v2 float64) {
		t.Helper()
		p := only(t, got, name)
		assert.Equal(t, want, p.attrs, name)
		assert.GreaterOrEqual(t, p.value, min(v1, v2), name)
		assert.LessOrEqual(t, p.value, max(v1, v2), name)
		t.Logf("%s = %g (getsockopt: %g, %g)", name, p.value, v1, v2)
	}
	us, ms := func(v uint32) float64 { return float64(v) / 1e6 }, func(v uint32) float64 { return float64(v) / 1e3 }
	require.NotZero(t, before.Rtt, "no RTT measured: the test shows nothing")
	between("redshift_ka.connection.rtt.max", us(before.Rtt), us(after.Rtt))
	between("redshift_ka.connection.rttvar.max", us(before.Rttvar), us(after.Rttvar))
	between("redshift_ka.connection.since_receive.max", ms(before.Last_data_recv), ms(after.Last_data_recv))
	between("redshift_ka.connection.since_send.max", ms(before.Last_data_sent), ms(after.Last_data_sent))
	between("redshift_ka.connection.probes.max", float64(before.Probes), float64(after.Probes))
	between("redshift_ka.connection.retransmits", float64(before.Total_retrans), float64(after.Total_retrans))
	between("redshift_ka.connection.count", 1, 1)
	between("redshift_ka.connection.probing.count", 0, 0)

	dials := only(t, got, "redshift_ka.connection.dials")
	assert.Equal(t, 1.0, dials.value)
	assert.Equal(t, attribute.NewSet(attribute.String("server.address", pg.Host), attribute.Int("server.port", pg.Port)), dials.attrs)
	assert.Equal(t, 1.0, only(t, got, "redshift_ka.connection.dial.duration").value)
}

// TestSeriesPerServer: 200 connections to one server make one series per
// instrument, whose count is 200; once they are closed, the count is 0.
func TestSeriesPerServer(t *testing.T) {
	const n = 200
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Settings: map[string]string{"max_connections": strconv.Itoa(n + 20)}})
	r := started(t)
	db := open(t, pg)
	ctx := context.Background()
	conns := make([]*sql.Conn, n)
	for i := range conns {
		var err error
		conns[i], err = db.Conn(ctx)
		require.NoError(t, err, "connection %d", i)
		require.NoError(t, conns[i].PingContext(ctx))
	}
	got := collect(t, r)
	for _, name := range []string{"redshift_ka.connection.rtt.max", "redshift_ka.connection.rttvar.max",
		"redshift_ka.connection.since_receive.max", "redshift_ka.connection.since_send.max",
		"redshift_ka.connection.probes.max", "redshift_ka.connection.probing.count", "redshift_ka.connection.retransmits",
		"redshift_ka.connection.dials", "redshift_ka.connection.dial.duration"} {
		only(t, got, name)
	}
	assert.Equal(t, float64(n), only(t, got, "redshift_ka.connection.count").value)
	assert.Equal(t, float64(n), only(t, got, "redshift_ka.connection.dials").value)
	db.SetMaxIdleConns(0) // so that Close closes them
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	require.Zero(t, db.Stats().OpenConnections)
	got = collect(t, r)
	assert.Empty(t, got["redshift_ka.connection.count"], "closed connections are not reported")
	assert.Len(t, got["redshift_ka.connection.retransmits"], 1, "the counter of a server stays")
}

// TestClosedDuringCollection: a connection closed through the driver
// while the collection reads TCP_INFO is left out, and the driver and the
// other connection go on.
func TestClosedDuringCollection(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	r := started(t)
	db := open(t, pg)
	ctx := context.Background()
	gone, err := db.Conn(ctx)
	require.NoError(t, err)
	defer gone.Close()
	kept, err := db.Conn(ctx)
	require.NoError(t, err)
	defer kept.Close()

	var once sync.Once
	restore := otelka.SetTCPInfo(func(c syscall.Conn) (sockopt.Info, error) {
		once.Do(func() {
			require.NoError(t, gone.Raw(func(dc any) error { return dc.(*stdlib.Conn).Close() }))
		})
		return sockopt.TCPInfo(c)
	})
	defer restore()
	got := collect(t, r)
	assert.Equal(t, 1.0, only(t, got, "redshift_ka.connection.count").value)
	assert.NoError(t, kept.PingContext(ctx))
	assert.Error(t, gone.PingContext(ctx))
	assert.NoError(t, db.PingContext(ctx))
}

// panicking is a MeterProvider whose counters and histograms panic.
type panicking struct{ noop.MeterProvider }

func (panicking) Meter(string, ...metric.MeterOption) metric.Meter { return panicMeter{} }

type panicMeter struct{ noop.Meter }

func (panicMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return panicCounter{}, nil
}

func (panicMeter) Float64Histogram(string, ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return panicHistogram{}, nil
}

type panicCounter struct{ noop.Int64Counter }

func (panicCounter) Add(context.Context, int64, ...metric.AddOption) { panic("provider") }

type panicHistogram struct{ noop.Float64Histogram }

func (panicHistogram) Record(context.Context, float64, ...metric.RecordOption) { panic("provider") }

// TestPanickingProvider: a provider that panics on every dial and close
// affects neither the connections nor the statements.
func TestPanickingProvider(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	stop, err := otelka.Start(otelka.WithMeterProvider(panicking{}))
	require.NoError(t, err)
	defer stop()
	db := open(t, pg)
	db.SetMaxIdleConns(0)
	for range 3 {
		var one int
		require.NoError(t, db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one))
	}
	var failed *net.OpError
	db2, _ := sql.Open(driver.Name, "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	defer db2.Close()
	require.ErrorAs(t, db2.Ping(), &failed, "a refused dial reaches the caller")
}

// TestObserveDB: the pool's connections by state and its limit, as
// database/sql counts them, until stop.
func TestObserveDB(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	db := open(t, pg)
	db.SetMaxOpenConns(5)
	stop, err := otelka.ObserveDB(db, "etl", otelka.WithMeterProvider(mp))
	require.NoError(t, err)
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	require.NoError(t, conns[2].Close()) // idle in the pool
	defer conns[0].Close()
	defer conns[1].Close()

	got := collect(t, r)
	pool := attribute.String("db.client.connection.pool.name", "etl")
	assert.Equal(t, 2.0, with(got, "db.client.connection.count", attribute.String("db.client.connection.state", "used")))
	assert.Equal(t, 1.0, with(got, "db.client.connection.count", attribute.String("db.client.connection.state", "idle")))
	assert.Equal(t, 5.0, with(got, "db.client.connection.max", pool))
	assert.Len(t, got["db.client.connection.count"], 2)
	stop()
	assert.Empty(t, collect(t, r)["db.client.connection.count"], "stopped")
}

// TestObservePool: a pgxpool's connections by state and its limit.
func TestObservePool(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	cfg, err := driver.ParsePoolConfig(pg.URL("pool_max_conns=4"))
	require.NoError(t, err)
	ctx := context.Background()
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer p.Close()
	stop, err := otelka.ObservePool(p, "etl", otelka.WithMeterProvider(mp))
	require.NoError(t, err)
	defer stop()
	a, err := p.Acquire(ctx)
	require.NoError(t, err)
	b, err := p.Acquire(ctx)
	require.NoError(t, err)
	b.Release()
	defer a.Release()

	got := collect(t, r)
	assert.Equal(t, 1.0, with(got, "db.client.connection.count", attribute.String("db.client.connection.state", "used")))
	assert.Equal(t, 1.0, with(got, "db.client.connection.count", attribute.String("db.client.connection.state", "idle")))
	assert.Equal(t, 4.0, with(got, "db.client.connection.max", attribute.String("db.client.connection.pool.name", "etl")))
}

// blocking is a MeterProvider whose instruments block until release is
// closed; the callback registered with it is handed to the test.
type blocking struct {
	noop.MeterProvider
	release  chan struct{}
	callback chan metric.Callback
}

func (b blocking) Meter(string, ...metric.MeterOption) metric.Meter { return blockMeter{b: b} }

type blockMeter struct {
	noop.Meter
	b blocking
}

func (m blockMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return blockCounter{b: m.b}, nil
}

func (m blockMeter) Float64Histogram(string, ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return blockHistogram{b: m.b}, nil
}

func (m blockMeter) RegisterCallback(f metric.Callback, _ ...metric.Observable) (metric.Registration, error) {
	m.b.callback <- f
	return noop.Registration{}, nil
}

type blockCounter struct {
	noop.Int64Counter
	b blocking
}

func (c blockCounter) Add(context.Context, int64, ...metric.AddOption) { <-c.b.release }

type blockHistogram struct {
	noop.Float64Histogram
	b blocking
}

func (h blockHistogram) Record(context.Context, float64, ...metric.RecordOption) { <-h.b.release }

type blockObserver struct {
	noop.Observer
	b blocking
}

func (o blockObserver) ObserveInt64(metric.Int64Observable, int64, ...metric.ObserveOption) {
	<-o.b.release
}

func (o blockObserver) ObserveFloat64(metric.Float64Observable, float64, ...metric.ObserveOption) {
	<-o.b.release
}

// TestBlockingProvider: a provider that blocks, in a collection and in any
// instrument, delays neither the connections nor the statements (a dial, a
// refused dial, a close), and the collection ends once it answers.
func TestBlockingProvider(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	b := blocking{release: make(chan struct{}), callback: make(chan metric.Callback, 1)}
	release := sync.OnceFunc(func() { close(b.release) })
	t.Cleanup(release) // a failed assertion leaves nothing blocked
	stop, err := otelka.Start(otelka.WithMeterProvider(b))
	require.NoError(t, err)
	defer stop()
	db := open(t, pg)
	db.SetMaxIdleConns(0)
	db2, err := sql.Open(driver.Name, "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	defer db2.Close()

	collect := harness.Await(t, b.callback, 5*time.Second, "the callback registered")
	var one int
	first := make(chan error, 1)
	go func() { first <- db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one) }()
	require.NoError(t, harness.Await(t, first, 20*time.Second, "a statement, for a connection to collect"))
	collected := make(chan error, 1)
	go func() { collected <- collect(context.Background(), blockObserver{b: b}) }()

	done := make(chan error, 1)
	go func() {
		for range 3 {
			if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
				done <- err
				return
			}
		}
		done <- db2.Ping()
	}()
	var failed *net.OpError
	require.ErrorAs(t, harness.Await(t, done, 20*time.Second, "statements while the provider blocks"), &failed,
		"three statements, then a refused dial, reach the caller")
	release()
	require.NoError(t, harness.Await(t, collected, 20*time.Second, "the collection, once the provider answers"))
}

// TestNoTCPInfo: where TCP_INFO cannot be read (macOS, Windows: the
// stub's errors.ErrUnsupported), a server's connections are counted and
// every figure read from TCP_INFO is left out, never reported as zero.
func TestNoTCPInfo(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	restore := otelka.SetTCPInfo(func(syscall.Conn) (sockopt.Info, error) {
		return sockopt.Info{}, fmt.Errorf("reading TCP_INFO on plan9: %w", errors.ErrUnsupported)
	})
	defer restore()
	r := started(t)
	db := open(t, pg)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.PingContext(context.Background()))

	got := collect(t, r)
	assert.Equal(t, 1.0, only(t, got, "redshift_ka.connection.count").value)
	for _, name := range []string{"redshift_ka.connection.probing.count", "redshift_ka.connection.probes.max",
		"redshift_ka.connection.rtt.max", "redshift_ka.connection.rttvar.max", "redshift_ka.connection.since_receive.max",
		"redshift_ka.connection.since_send.max", "redshift_ka.connection.retransmits"} {
		assert.Empty(t, got[name], "%s is not reported without TCP_INFO", name)
	}
}
