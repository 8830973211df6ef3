//go:build linux

package integration

// Benchmarks of what redshift-ka costs over the drivers it is compared
// with, side by side in one run, for benchstat:
//
//	BenchmarkSelect1/driver=...    one held connection, SELECT 1
//	BenchmarkRows1000/driver=...   one held connection, a 1 000-row result
//	BenchmarkConnect/driver=...    open, ping and close a connection
//	BenchmarkDial/driver=...       the dial alone: TCP connect and socket options
//	BenchmarkParse/form=.../impl=...      DSN parsing
//	BenchmarkConnector/form=.../impl=...  what sql.Open does with a DSN
//	BenchmarkPaired/op=...         the drivers taking turns op by op in one loop
//	BenchmarkParsePaired/form=...  the two DSN parses taking turns op by op
//
// scripts/bench runs them several times and compares the columns with
// `benchstat -col /driver` and `-col /impl`, and reports BenchmarkPaired's
// differences; BENCHMARKS.md holds the figures. Each benchmark that needs PostgreSQL starts its own throwaway
// server on loopback (no root needed) and stops it when done; without the
// server binaries it skips and says why. `go test` without -bench runs
// none of this.
//
// The columns of a benchmark run one after the other, in an order rotated
// by env REDSHIFTKA_BENCH_ROUND (scripts/bench passes its round number), so
// that no column always runs first, on a server just started.

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq" // registers "postgres"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// benchKA are the keep-alive keys the redshift-ka columns carry, the
// project's example for a cluster behind an AWS NAT gateway.
const benchKA = "KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5"

// benchDriver is one column of the comparison.
type benchDriver struct {
	// name is the sub-benchmark's driver=... value.
	name string
	// open returns the database under test; the DSN is pg's URL.
	open func(pg *harness.Postgres) (*sql.DB, error)
}

// byName opens a database through a registered database/sql driver.
func byName(driverName, params string) func(pg *harness.Postgres) (*sql.DB, error) {
	return func(pg *harness.Postgres) (*sql.DB, error) { return sql.Open(driverName, pg.URL(params)) }
}

// benchDrivers are the columns, base first: pgx's stdlib as people open
// it, redshift-ka, lib/pq, and redshift-ka over lib/pq, each with its own
// DSN handling. A column whose driver is not registered in this build is
// left out.
var benchDrivers = []benchDriver{
	{"pgx", byName("pgx", "")},
	{"redshift-ka", byName(driver.Name, benchKA)},
	{"libpq", byName("postgres", "")},
	{"redshift-ka-pq", byName("redshift-ka-pq", benchKA)},
}

// pgxParsedOnce is pgx's stdlib with the DSN parsed once, at open, as
// redshift-ka does (sql.Open("pgx", dsn) parses it again on every
// connection). Only the connect benchmarks have it: it separates the cost
// of our dialer from the cost of pgx's per-connection parse.
var pgxParsedOnce = benchDriver{"pgx-parsed-once", func(pg *harness.Postgres) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(pg.URL(""))
	if err != nil {
		return nil, err
	}
	return stdlib.OpenDB(*cfg), nil
}}

// benchPostgres starts a throwaway server on loopback for one benchmark
// function, warms it up, and stops it when the function is done.
func benchPostgres(b *testing.B) *harness.Postgres {
	b.Helper()
	// With TLS, which the IAM benchmarks need; the DSNs of the others keep
	// sslmode=disable.
	pg := harness.StartPostgresT(b, harness.PostgresOptions{TLS: true})
	// A server just started answers its first statements slower (cold
	// shared buffers and page cache); whichever column ran first would pay.
	db, err := sql.Open("pgx", pg.URL(""))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for range 200 {
		if _, err := db.ExecContext(ctx, "SELECT 1"); err != nil {
			b.Fatal(err)
		}
	}
	for range 20 {
		if _, err := db.ExecContext(ctx, rows1000); err != nil {
			b.Fatal(err)
		}
	}
	return pg
}

// rotated returns s rotated left by the round number in env
// REDSHIFTKA_BENCH_ROUND (0 when unset).
func rotated[T any](s []T) []T {
	n, _ := strconv.Atoi(os.Getenv("REDSHIFTKA_BENCH_ROUND"))
	if len(s) == 0 || n <= 0 {
		return s
	}
	k := n % len(s)
	return append(slices.Clone(s[k:]), s[:k]...)
}

// available leaves out the redshift-ka-pq column when no driver of that
// name is registered.
func available(drivers []benchDriver) []benchDriver {
	registered := sql.Drivers()
	return slices.DeleteFunc(slices.Clone(drivers), func(d benchDriver) bool {
		return d.name == "redshift-ka-pq" && !slices.Contains(registered, d.name)
	})
}

// runDrivers runs fn as a sub-benchmark driver=NAME for each driver, with
// its database opened and closed around it.
func runDrivers(b *testing.B, pg *harness.Postgres, drivers []benchDriver, fn func(b *testing.B, db *sql.DB)) {
	b.Helper()
	for _, d := range rotated(available(drivers)) {
		b.Run("driver="+d.name, func(b *testing.B) {
			db, err := d.open(pg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			fn(b, db)
		})
	}
}

// heldConn returns one connection of db, used once so that its setup (and
// pgx's statement cache) is done before timing, and closed with b.
func heldConn(b *testing.B, db *sql.DB, warm func(*sql.Conn) error) *sql.Conn {
	b.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	if err := warm(conn); err != nil {
		b.Fatal(err)
	}
	return conn
}

// BenchmarkSelect1: one statement on one held connection, through
// database/sql. pgx and redshift-ka run the same pgx code on the same kind
// of socket; the difference should be noise.
func BenchmarkSelect1(b *testing.B) {
	pg := benchPostgres(b)
	runDrivers(b, pg, benchDrivers, func(b *testing.B, db *sql.DB) {
		ctx := context.Background()
		var n int
		query := func(c *sql.Conn) error { return c.QueryRowContext(ctx, "SELECT 1").Scan(&n) }
		conn := heldConn(b, db, query)
		b.ReportAllocs()
		for b.Loop() {
			if err := query(conn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rows1000 is a 1 000-row result of an integer and a short text.
const rows1000 = "SELECT g, 'row number ' || g FROM generate_series(1, 1000) AS g"

// readRows1000 reads the 1 000-row result on c, every row scanned.
func readRows1000(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, rows1000)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		n    int64
		text string
		got  int
	)
	for rows.Next() {
		if err := rows.Scan(&n, &text); err != nil {
			return err
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != 1000 {
		return fmt.Errorf("got %d rows, want 1000", got)
	}
	return nil
}

// BenchmarkRows1000: a 1 000-row result read through database/sql on one
// held connection.
func BenchmarkRows1000(b *testing.B) {
	pg := benchPostgres(b)
	runDrivers(b, pg, benchDrivers, func(b *testing.B, db *sql.DB) {
		ctx := context.Background()
		read := func(c *sql.Conn) error { return readRows1000(ctx, c) }
		conn := heldConn(b, db, read)
		b.ReportAllocs()
		for b.Loop() {
			if err := read(conn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConnect: a new connection per operation (TCP, startup, SCRAM
// authentication, a ping, close), through database/sql with no idle
// connections kept, so every PingContext dials.
func BenchmarkConnect(b *testing.B) {
	pg := benchPostgres(b)
	drivers := slices.Insert(slices.Clone(benchDrivers), 1, pgxParsedOnce)
	runDrivers(b, pg, drivers, func(b *testing.B, db *sql.DB) {
		ctx := context.Background()
		db.SetMaxIdleConns(0) // each connection is closed when released
		if err := db.PingContext(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := db.PingContext(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDial: the part of a new connection that is ours, alone: a TCP
// connect on loopback with the keep-alive options set, then a close.
// driver=pgx is Go's net.Dialer with its defaults, as pgx and lib/pq dial
// (SO_KEEPALIVE and 15 s / 15 s / 9 set); driver=redshift-ka is our dialer
// with the keys of the other benchmarks; driver=redshift-ka-os is our
// dialer with no keys (SO_KEEPALIVE only, the rest left to the OS). The
// client closes with SO_LINGER 0 (a reset), the same for all, so that
// thousands of dials leave no TIME_WAIT behind to run out of ports.
func BenchmarkDial(b *testing.B) {
	addr := benchListener(b)
	for _, d := range rotated(benchDialers(b)) {
		b.Run("driver="+d.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := dialClose(ctx, d.dial, addr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchListener accepts and closes connections on loopback until b ends,
// and returns its address.
func benchListener(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	b.Cleanup(func() { ln.Close(); harness.Await(b, accepted, 10*time.Second, "the closed listener's accept loop") })
	return ln.Addr().String()
}

// benchDialer is one column of the dial benchmarks.
type benchDialer struct {
	name string
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// benchDialers are Go's dialer with its defaults, as pgx and lib/pq dial,
// and ours with and without keys.
func benchDialers(b *testing.B) []benchDialer {
	b.Helper()
	ours := func(cfg dsnparse.Config) func(context.Context, string, string) (net.Conn, error) {
		d, err := dialer.New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		return d.DialContext
	}
	var goDefault net.Dialer
	return []benchDialer{
		{"pgx", goDefault.DialContext},
		{"redshift-ka", ours(dsnparse.Config{Idle: 200 * time.Second, Interval: 20 * time.Second, Count: 5})},
		{"redshift-ka-os", ours(dsnparse.Config{})},
	}
}

// dialClose dials addr and closes the connection with a reset.
func dialClose(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), addr string) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	tc, ok := c.(interface{ SetLinger(int) error })
	if !ok {
		return fmt.Errorf("%T has no SetLinger", c)
	}
	return tc.SetLinger(0)
}

// benchDSNs are realistic DSNs for a Redshift cluster in each form, with
// keep-alive keys; nothing is dialed.
var benchDSNs = []struct{ form, dsn string }{
	{"url", "postgres://etl:s3cret@examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/dev" +
		"?sslmode=require&application_name=loader&KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5"},
	{"keyvalue", "host=examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com port=5439 dbname=dev " +
		"user=etl password=s3cret sslmode=require application_name=loader " +
		"keepalives_idle=200 keepalives_interval=20 keepalives_count=5"},
	{"odbc", "Driver={Amazon Redshift (x64)};Server=examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com;" +
		"Port=5439;Database=dev;UID=etl;PWD=s3cret;SSLMode=require;" +
		"KeepAlivesIdle=200;KeepAlivesInterval=20;KeepAlivesCount=5"},
	{"jdbc", "jdbc:redshift://examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/dev" +
		"?user=etl&password=s3cret&sslmode=require&ApplicationName=loader&KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5"},
}

// pgxDSN is what a pgx user would hand pgx for the same server: the DSN
// without our keys. For the ODBC and JDBC forms, which pgx cannot read, it
// is the key=value DSN redshift-ka converts it to.
func pgxDSN(b *testing.B, dsn string) string {
	b.Helper()
	parsed, err := dsnparse.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	return parsed.Rest
}

// impl is one column of the parse benchmarks: op runs once per iteration.
type impl struct {
	name string
	op   func() error
}

// runImpls runs each impl as a sub-benchmark impl=NAME, in rotated order.
func runImpls(b *testing.B, impls []impl) {
	b.Helper()
	for _, im := range rotated(impls) {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := im.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// parseOps are the parse benchmarks' ops for one DSN: pgx's parse of the
// DSN less our keys, and ours then pgx's of what we hand on.
func parseOps(b *testing.B, dsn string) (pgxOnly, ours func() error) {
	rest := pgxDSN(b, dsn)
	pgxOnly = func() error {
		_, err := pgx.ParseConfig(rest)
		return err
	}
	ours = func() error {
		parsed, err := dsnparse.Parse(dsn)
		if err != nil {
			return err
		}
		_, err = pgx.ParseConfig(parsed.Rest)
		return err
	}
	return pgxOnly, ours
}

// BenchmarkParse: redshift-ka's parse plus pgx's (what redshift-ka does at
// sql.Open) against pgx's alone, per DSN form; impl=redshift-ka is our
// parse on its own.
func BenchmarkParse(b *testing.B) {
	for _, f := range benchDSNs {
		b.Run("form="+f.form, func(b *testing.B) {
			pgxOnly, ours := parseOps(b, f.dsn)
			runImpls(b, []impl{
				{"pgx", pgxOnly},
				{"redshift-ka+pgx", ours},
				{"redshift-ka", func() error {
					_, err := dsnparse.Parse(f.dsn)
					return err
				}},
			})
		})
	}
}

// BenchmarkParsePaired is BenchmarkParse's comparison with the two
// columns taking turns op by op (see runPaired): pgx.ParseConfig alone,
// and redshift-ka's parse plus pgx's. About 40 % of pgx's time goes to
// stat(2) calls (it looks for client certificates and a Unix-socket
// directory), whose cost drifts with whatever else the machine does;
// alternating shares the drift.
func BenchmarkParsePaired(b *testing.B) {
	for _, f := range benchDSNs {
		b.Run("form="+f.form, func(b *testing.B) {
			pgxOnly, ours := parseOps(b, f.dsn)
			runPaired(b, []pairedOp{{"pgx", pgxOnly}, {"redshift-ka+pgx", ours}})
		})
	}
}

// BenchmarkConnector: what sql.Open does with the DSN.
// impl=redshift-ka+pgx is redshift-ka's driver.NewConnector (our parse,
// pgx's parse, the dialer, pgx's connector); impl=pgx is pgx parsing the
// DSN into a connector. pgx's own sql.Open("pgx", dsn) parses nothing at
// open and parses the DSN again on every new connection instead.
func BenchmarkConnector(b *testing.B) {
	for _, f := range benchDSNs {
		b.Run("form="+f.form, func(b *testing.B) {
			rest := pgxDSN(b, f.dsn)
			runImpls(b, []impl{
				{"pgx", func() error {
					cfg, err := pgx.ParseConfig(rest)
					if err != nil {
						return err
					}
					_ = stdlib.GetConnector(*cfg)
					return nil
				}},
				{"redshift-ka+pgx", func() error {
					_, err := driver.NewConnector(f.dsn)
					return err
				}},
			})
		})
	}
}

// pairedOp is one column of BenchmarkPaired.
type pairedOp struct {
	name string
	op   func() error
}

// runPaired runs every op once per iteration, one after the other (who
// goes first rotates), and reports each op's median time as NAME-ns/op and
// its difference from the first op's as NAME-vs-FIRST-%. Neighbours in
// time share whatever else the machine was doing, so the comparison holds
// on a machine too noisy for separate benchmarks to resolve a few percent.
func runPaired(b *testing.B, ops []pairedOp) {
	b.Helper()
	times := make([][]time.Duration, len(ops))
	i := 0
	for b.Loop() {
		for k := range ops {
			j := (i + k) % len(ops)
			start := time.Now()
			if err := ops[j].op(); err != nil {
				b.Fatalf("%s: %v", ops[j].name, err)
			}
			times[j] = append(times[j], time.Since(start))
		}
		i++
	}
	median := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64((s[(len(s)-1)/2] + s[len(s)/2]) / 2)
	}
	base := median(times[0])
	b.ReportMetric(base, ops[0].name+"-ns/op")
	for j := 1; j < len(ops); j++ {
		m := median(times[j])
		b.ReportMetric(m, ops[j].name+"-ns/op")
		b.ReportMetric(100*(m/base-1), ops[j].name+"-vs-"+ops[0].name+"-%")
	}
}

// BenchmarkPaired compares the drivers op by op in one loop (see
// runPaired): op=select1 and op=rows1000 on held connections, op=connect
// (open, ping, close), op=dial (our dialer against Go's, as in
// BenchmarkDial). scripts/bench runs it with a fixed count for connect.
func BenchmarkPaired(b *testing.B) {
	pg := benchPostgres(b)
	ctx := context.Background()
	open := func(b *testing.B, d benchDriver) *sql.DB {
		db, err := d.open(pg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	drivers := available(benchDrivers)
	held := func(b *testing.B, q func(*sql.Conn) error) []pairedOp {
		var ops []pairedOp
		for _, d := range drivers {
			conn := heldConn(b, open(b, d), q)
			ops = append(ops, pairedOp{d.name, func() error { return q(conn) }})
		}
		return ops
	}
	b.Run("op=select1", func(b *testing.B) {
		var n int
		runPaired(b, held(b, func(c *sql.Conn) error { return c.QueryRowContext(ctx, "SELECT 1").Scan(&n) }))
	})
	b.Run("op=rows1000", func(b *testing.B) {
		runPaired(b, held(b, func(c *sql.Conn) error { return readRows1000(ctx, c) }))
	})
	b.Run("op=connect", func(b *testing.B) {
		var ops []pairedOp
		for _, d := range slices.Insert(slices.Clone(drivers), 2, pgxParsedOnce) {
			db := open(b, d)
			db.SetMaxIdleConns(0)
			ops = append(ops, pairedOp{d.name, func() error { return db.PingContext(ctx) }})
		}
		runPaired(b, ops)
	})
	b.Run("op=dial", func(b *testing.B) {
		addr := benchListener(b)
		var ops []pairedOp
		for _, d := range benchDialers(b) {
			ops = append(ops, pairedOp{d.name, func() error { return dialClose(ctx, d.dial, addr) }})
		}
		runPaired(b, ops)
	})
}
