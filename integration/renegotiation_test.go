//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The large result: renegRows rows of renegWidth characters, about 4 MB.
const (
	renegRows  = 4000
	renegWidth = 1024
	renegQuery = "SELECT i, repeat(md5(i::text), 32) FROM generate_series(1, 4000) i"
	renegEvery = 512 << 10 // bytes the proxy sends between renegotiations
)

// TestRenegotiation: behind a TLS 1.2 server that renegotiates every 512
// KiB (testdata/renegproxy.c, OpenSSL), a 4 MB result reads whole through
// redshift-ka's pgx backend (database/sql, pgx, pgxpool) and its lib/pq
// backend, over several renegotiations; every 16 KiB, over about 250. Plain pgx, or a configuration
// whose Renegotiation the program set back to never, fails there with
// "tls: no renegotiation": the control.
func TestRenegotiation(t *testing.T) {
	bin := buildRenegProxy(t)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	sqlWay := func(backend string) func(string) (int, error) {
		return func(dsn string) (int, error) {
			db, err := sql.Open(backend, dsn)
			if err != nil {
				return 0, err
			}
			defer db.Close()
			return readSQL(ctx, db)
		}
	}
	pgxWay := func(change func(*pgx.ConnConfig)) func(string) (int, error) {
		return func(dsn string) (int, error) {
			cfg, err := driver.ParseConfig(dsn)
			if err != nil {
				return 0, err
			}
			if change != nil {
				change(cfg)
			}
			return readPgx(ctx, cfg)
		}
	}
	for _, tc := range []struct {
		name  string
		read  func(dsn string) (int, error)
		fail  bool // the control: pgx refuses the renegotiation
		every int  // renegEvery when 0
	}{
		{name: "database/sql", read: sqlWay(driver.Name)},
		{name: "pgx", read: pgxWay(nil)},
		{name: "pgxpool", read: func(dsn string) (int, error) {
			cfg, err := driver.ParsePoolConfig(dsn)
			if err != nil {
				return 0, err
			}
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				return 0, err
			}
			defer pool.Close()
			rows, err := pool.Query(ctx, renegQuery)
			if err != nil {
				return 0, err
			}
			return readRows(rows)
		}},
		{name: "lib/pq", read: sqlWay(rkpq.Name)},
		{name: "pgx, every 16 KiB", every: 16 << 10, read: pgxWay(nil)},
		{name: "plain pgx", fail: true, read: func(dsn string) (int, error) {
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				return 0, err
			}
			return readPgx(ctx, cfg)
		}},
		{name: "pgx, never renegotiate", fail: true, read: pgxWay(func(cfg *pgx.ConnConfig) {
			cfg.TLSConfig.Renegotiation = tls.RenegotiateNever // the program's own choice
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			every := cmp.Or(tc.every, renegEvery)
			px := startRenegProxy(t, bin, pg, "every", every)
			n, err := tc.read(px.dsn(pg))
			if tc.fail {
				require.Error(t, err)
				t.Logf("%s: %d rows, then %v", tc.name, n, err)
				assert.ErrorContains(t, err, "tls: no renegotiation")
				assert.Less(t, n, renegRows)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, renegRows, n)
			px.waitRenegotiated(t, renegRows*renegWidth/every-1)
			t.Logf("%s: %d rows, %d renegotiations", tc.name, n, px.renegotiated())
		})
	}
}

// TestRenegotiationBadServer: on the pgx backend, a server that
// renegotiates without end and sends nothing else ends the query at its
// context's deadline; one that answers the client's hello with garbage
// ends it at once with a TLS error, on both backends. No panic, and the
// client hangs up. lib/pq against the endless renegotiation is
// TestRenegotiationLoopLibPQ.
func TestRenegotiationBadServer(t *testing.T) {
	bin := buildRenegProxy(t)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	const deadline = 2 * time.Second
	for _, mode := range []string{"loop", "garbage"} {
		for _, way := range []string{"database/sql", "pgx", "lib/pq"} {
			if mode == "loop" && way == "lib/pq" {
				continue
			}
			t.Run(mode+"/"+way, func(t *testing.T) {
				px := startRenegProxy(t, bin, pg, mode, 64<<10)
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				var err error
				switch way {
				case "pgx":
					var cfg *pgx.ConnConfig
					cfg, err = driver.ParseConfig(px.dsn(pg))
					require.NoError(t, err)
					_, err = readPgx(ctx, cfg)
				default:
					backend := map[string]string{"database/sql": driver.Name, "lib/pq": rkpq.Name}[way]
					db, oerr := sql.Open(backend, px.dsn(pg))
					require.NoError(t, oerr)
					defer db.Close()
					_, err = readSQL(ctx, db)
					if way == "lib/pq" {
						db.Close() // lib/pq's failed connection waits in the pool until then
					}
				}
				took := time.Since(start)
				t.Logf("%s: after %v and %d renegotiations: %v", way, took.Round(time.Millisecond), px.renegotiated(), err)
				require.Error(t, err)
				assert.Less(t, took, deadline+ctxGrace)
				switch mode {
				case "loop":
					assert.GreaterOrEqual(t, px.renegotiated(), 2, "the proxy renegotiated again and again")
					assert.ErrorIs(t, err, context.DeadlineExceeded)
				case "garbage":
					assert.Less(t, took, deadline, "a TLS error, before the deadline")
					assert.ErrorContains(t, err, "tls: bad record MAC", "the garbage is read as a record under the current keys")
				}
				// The client hung up: the proxy's side of the connection ended.
				waitFor(t, func() bool { return strings.Contains(px.stderr(), "closed: ") })
			})
		}
	}
}

// TestRenegotiationLoopLibPQ pins a limit of lib/pq: at its context's
// deadline it sends a cancel request and reads on, so a server that
// renegotiates without end keeps the read going; it ends, with an error,
// once the server is gone. When lib/pq bounds the read, this fails.
func TestRenegotiationLoopLibPQ(t *testing.T) {
	bin := buildRenegProxy(t)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	px := startRenegProxy(t, bin, pg, "loop", 64<<10)
	db, err := sql.Open(rkpq.Name, px.dsn(pg))
	require.NoError(t, err)
	defer db.Close()
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := readSQL(ctx, db); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("lib/pq's read ended at its context's deadline (%v): test it as TestRenegotiationBadServer does", err)
	case <-time.After(deadline + ctxGrace):
	}
	n := px.renegotiated()
	px.stop()
	err = harness.Await(t, done, ctxGrace, "lib/pq's read once the server is gone")
	t.Logf("lib/pq: %d renegotiations past the deadline, then, with the server gone: %v", n, err)
	require.Error(t, err)
}

// readPgx connects with cfg and reads the large result.
func readPgx(ctx context.Context, cfg *pgx.ConnConfig) (int, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, renegQuery)
	if err != nil {
		return 0, err
	}
	return readRows(rows)
}

// readRows reads the large result from pgx's rows, checking each row.
func readRows(rows pgx.Rows) (int, error) {
	defer rows.Close()
	return checkRows(rows)
}

// readSQL reads the large result through database/sql, on a *sql.DB or
// a *sql.Conn.
func readSQL(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (int, error) {
	rows, err := db.QueryContext(ctx, renegQuery)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	return checkRows(rows)
}

// checkRows reads the large result from pgx's or database/sql's rows,
// checking each row, and returns how many it read.
func checkRows(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) (int, error) {
	n := 0
	for rows.Next() {
		var i int
		var s string
		if err := rows.Scan(&i, &s); err != nil {
			return n, err
		}
		if i != n+1 || len(s) != renegWidth {
			return n, fmt.Errorf("row %d: got i=%d and %d characters", n+1, i, len(s))
		}
		n++
	}
	return n, rows.Err()
}

// buildRenegProxy compiles testdata/renegproxy.c with gcc against OpenSSL's
// libssl into a temporary directory.
func buildRenegProxy(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("gcc")
	harness.Need(t, err == nil, "needs gcc to build testdata/renegproxy.c (scripts/install-deps installs it)")
	_, err = os.Stat("/usr/include/openssl/ssl.h")
	harness.Need(t, err == nil, "needs OpenSSL's headers, libssl-dev, to build testdata/renegproxy.c (scripts/install-deps installs it)")
	bin := filepath.Join(t.TempDir(), "renegproxy")
	out, err := exec.Command("gcc", "-O2", "-Wall", "-Werror", "-o", bin, "testdata/renegproxy.c", "-lssl", "-lcrypto").CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// renegProxy is testdata/renegproxy.c running in front of a test server,
// stopped with the test.
type renegProxy struct {
	host string
	port int
	ca   string // its certificate, for sslrootcert
	stop func() // kills it and its children

	mu  sync.Mutex
	log bytes.Buffer // its stderr
}

// Write collects the proxy's stderr.
func (p *renegProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

// startRenegProxy starts the proxy in mode, renegotiating after every
// bytes sent to the client, in front of pg, on 127.0.0.1.
func startRenegProxy(t *testing.T, bin string, pg *harness.Postgres, mode string, every int) *renegProxy {
	t.Helper()
	return startRenegProxyIn(t, bin, pg, mode, every, nil, "127.0.0.1")
}

// startRenegProxyIn is startRenegProxy listening on host (an IPv4
// address) inside network namespace ns, or this process's when nil.
func startRenegProxyIn(t *testing.T, bin string, pg *harness.Postgres, mode string, every int, ns *harness.Netns, host string) *renegProxy {
	t.Helper()
	cert, certPEM, err := harness.SelfSignedCert(host)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	dir := t.TempDir()
	p := &renegProxy{host: host, ca: filepath.Join(dir, "cert.pem")}
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(p.ca, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))

	cmd := exec.Command(bin, p.ca, keyFile, pg.Host, strconv.Itoa(pg.Port), mode, strconv.Itoa(every), "0", host)
	cmd.Stderr = p
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	if ns != nil {
		require.NoError(t, ns.Do(cmd.Start)) // forked from the thread inside ns
	} else {
		require.NoError(t, cmd.Start())
	}
	p.stop = sync.OnceFunc(func() {
		cmd.Process.Kill() // its children die with it (PR_SET_PDEATHSIG)
		cmd.Wait()
	})
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("renegproxy's stderr:\n%s", harness.Tail(p.stderr(), 20))
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	port := harness.Await(t, line, 10*time.Second, "renegproxy's port")
	p.port, err = strconv.Atoi(strings.TrimSpace(port))
	require.NoError(t, err, "renegproxy's port %q; stderr: %s", port, p.stderr())
	return p
}

// dsn is a URL for pg through the proxy, verifying the proxy's certificate.
func (p *renegProxy) dsn(pg *harness.Postgres) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(pg.User, pg.Password),
		Host:     net.JoinHostPort(p.host, strconv.Itoa(p.port)),
		Path:     "/" + pg.Database,
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {p.ca}}.Encode(),
	}
	return u.String()
}

func (p *renegProxy) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// renegotiated is how many renegotiations the proxy completed so far.
func (p *renegProxy) renegotiated() int {
	return strings.Count(p.stderr(), "renegotiated ")
}

// waitRenegotiated waits, bounded, for the proxy's report of at least n
// renegotiations: it writes each before it relays more, but its stderr
// reaches the test through a pipe.
func (p *renegProxy) waitRenegotiated(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); p.renegotiated() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy reported %d renegotiations within 10 s, want %d or more", p.renegotiated(), n)
		}
	}
}
