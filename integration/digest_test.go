//go:build linux

package integration

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// digestFrontEnd starts a Redshift front end before pg that answers
// SSLRequest with TLS and logs pg's user in with the digest login and
// pg's (hostile) password, asking for algorithm algo.
func digestFrontEnd(t *testing.T, pg *harness.Postgres, algo int32) *frontEnd {
	t.Helper()
	cert, _, err := harness.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	return startFrontEnd(t, pg, frontEndOptions{Login: &frontEndLogin{
		Cert: &cert, DigestUser: pg.User, DigestPassword: pg.Password, Algorithm: algo,
	}})
}

// handLogin logs in to addr as user with password by a client of its own:
// TLS on SSLRequest, then the digest login written out byte by byte as
// Amazon's drivers write it (see frontend_auth_test.go). It returns the
// server's first message after the answer.
func handLogin(t *testing.T, addr, user, password string) pgproto3.BackendMessage {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, raw.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = raw.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}) // SSLRequest, 80877103
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = io.ReadFull(raw, b)
	require.NoError(t, err)
	require.Equal(t, "S", string(b), "the front end refused TLS")
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})

	fe := pgproto3.NewFrontend(conn, conn)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": user, "database": "postgres"}})
	require.NoError(t, fe.Flush())

	head := make([]byte, 9)
	_, err = io.ReadFull(conn, head)
	require.NoError(t, err)
	require.Equal(t, byte('R'), head[0])
	require.EqualValues(t, 13, binary.BigEndian.Uint32(head[5:]), "not a digest login request")
	body := make([]byte, binary.BigEndian.Uint32(head[1:5])-8)
	_, err = io.ReadFull(conn, body)
	require.NoError(t, err)
	require.EqualValues(t, 0, binary.BigEndian.Uint32(body), "algorithm")
	saltLen := binary.BigEndian.Uint32(body[4:])
	salt := body[8 : 8+saltLen]
	nonce := body[8+saltLen+4:]
	require.EqualValues(t, len(nonce), binary.BigEndian.Uint32(body[8+saltLen:]))

	inner := sha256.Sum256([]byte(password + string(salt)))
	clientNonce := strconv.FormatInt(time.Now().UnixMilli(), 10)
	digest := sha256.Sum256([]byte(string(inner[:]) + string(nonce) + clientNonce))
	answer := []byte{'d'}
	answer = binary.BigEndian.AppendUint32(answer, uint32(4+4+len(digest)+4+len(clientNonce)))
	answer = binary.BigEndian.AppendUint32(answer, uint32(len(digest)))
	answer = append(answer, digest[:]...)
	answer = binary.BigEndian.AppendUint32(answer, uint32(len(clientNonce)))
	answer = append(answer, clientNonce...)
	_, err = conn.Write(answer)
	require.NoError(t, err)
	msg, err := fe.Receive()
	require.NoError(t, err)
	return msg
}

// TestDigestFrontEnd is the control: the front end logs a hand-written
// client of the digest login in over TLS, refuses it with a wrong
// password (28P01), and plain pgx, which does not know the login, cannot
// log in.
func TestDigestFrontEnd(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := digestFrontEnd(t, pg, 0)
	addr := fe.ln.Addr().String()

	_, ok := handLogin(t, addr, pg.User, pg.Password).(*pgproto3.AuthenticationOk)
	assert.True(t, ok, "the right password was not let in")
	msg := handLogin(t, addr, pg.User, pg.Password+"x")
	e, ok := msg.(*pgproto3.ErrorResponse)
	require.True(t, ok, "a wrong password got %T", msg)
	assert.Equal(t, "28P01", e.Code)
	assert.EqualValues(t, 1, fe.opts.Login.Accepted.Load())
	assert.EqualValues(t, 1, fe.opts.Login.Refused.Load())

	_, err := pgx.Connect(context.Background(), fe.Server().URL("sslmode=require"))
	require.Error(t, err)
	t.Logf("plain pgx: %v", err)
	assert.Contains(t, err.Error(), "13")
	assert.EqualValues(t, 1, fe.opts.Login.Accepted.Load(), "plain pgx logged in")
}

// isTLS reports whether a pgx connection runs over TLS.
func isTLS(pc *pgconn.PgConn) bool {
	_, ok := pc.Conn().(*tls.Conn)
	return ok
}

// TestDigestLogin: redshift-ka logs in with the digest login over TLS,
// with the hostile password, through database/sql, ParseConfig and
// ParsePoolConfig, and without TLS through both backends; each connection
// answers it once.
func TestDigestLogin(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := digestFrontEnd(t, pg, 0)
	l := fe.opts.Login
	srv := fe.Server()
	ctx := context.Background()

	t.Run("sql.Open", func(t *testing.T) {
		before := l.Accepted.Load()
		_, conn := open(t, driver.Name, srv.URL("sslmode=require"))
		var user string
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
		assert.Equal(t, pg.User, user)
		require.NoError(t, conn.Raw(func(dc any) error {
			assert.True(t, isTLS(dc.(*stdlib.Conn).Conn().PgConn()), "not over TLS")
			return nil
		}))
		assert.Equal(t, before+1, l.Accepted.Load())
	})
	t.Run("sql.Open without TLS", func(t *testing.T) {
		before, encrypted := l.Accepted.Load(), l.Encrypted.Load()
		_, conn := open(t, driver.Name, srv.KeyValue("sslmode=disable"))
		require.NoError(t, conn.PingContext(ctx))
		assert.Equal(t, before+1, l.Accepted.Load())
		assert.Equal(t, encrypted, l.Encrypted.Load())
	})
	t.Run("lib/pq without TLS", func(t *testing.T) {
		before, encrypted := l.Accepted.Load(), l.Encrypted.Load()
		_, conn := open(t, rkpq.Name, srv.KeyValue("sslmode=disable keepalives_idle=77"))
		var user string
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
		assert.Equal(t, pg.User, user)
		assert.Equal(t, 77*time.Second, reportOf(t, conn).Idle)
		assert.Equal(t, before+1, l.Accepted.Load())
		assert.Equal(t, encrypted, l.Encrypted.Load())
	})
	t.Run("ParseConfig", func(t *testing.T) {
		before := l.Accepted.Load()
		cfg, err := driver.ParseConfig(srv.KeyValue("sslmode=require"))
		require.NoError(t, err)
		built := 0
		cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend { // a user's own
			built++
			return pgproto3.NewFrontend(r, w)
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		defer conn.Close(ctx)
		assert.True(t, isTLS(conn.PgConn()), "not over TLS")
		assert.Equal(t, 1, built, "the user's BuildFrontend")
		var one int
		require.NoError(t, conn.QueryRow(ctx, "SELECT 1").Scan(&one))
		assert.Equal(t, before+1, l.Accepted.Load())
	})
	t.Run("ParsePoolConfig", func(t *testing.T) {
		before := l.Accepted.Load()
		cfg, err := driver.ParsePoolConfig(srv.URL("sslmode=require&pool_max_conns=4"))
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		conns := make([]*pgxpool.Conn, 4)
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conns[i], errs[i] = pool.Acquire(ctx)
			}()
		}
		wg.Wait()
		pids := map[uint32]bool{}
		for i, c := range conns {
			require.NoError(t, errs[i])
			var one int
			require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
			assert.True(t, isTLS(c.Conn().PgConn()), "not over TLS")
			pids[c.Conn().PgConn().PID()] = true
		}
		for _, c := range conns {
			c.Release()
		}
		assert.Len(t, pids, 4, "four server sessions")
		assert.Equal(t, before+4, l.Accepted.Load())
	})
	assert.Zero(t, l.Refused.Load())
	assert.Positive(t, l.Encrypted.Load())
}

// TestDigestWithKeepAlive: the digest login with keep-alive keys, in a URL
// and in an odbc.ini data source: the socket under TLS holds the DSN's
// values.
func TestDigestWithKeepAlive(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := digestFrontEnd(t, pg, 0)
	srv := fe.Server()
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf(`[Digest Warehouse]
Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so
Server = %s
Port = %d
Database = %s
UID = %s
PWD = %s
SSLMode = require
KeepAlivesIdle = 200
KeepAliveInterval = 20
KeepAlivesCount = 4
`, srv.Host, srv.Port, srv.Database, srv.User, srv.Password)), 0o600))
	t.Setenv("ODBCINI", ini)
	for _, tc := range []struct{ name, dsn string }{
		{"URL", srv.URL("sslmode=require&keepalives_idle=200&keepalives_interval=20&keepalives_count=4")},
		{"odbc.ini", "DSN=Digest Warehouse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fe.opts.Login.Accepted.Load()
			_, conn := open(t, driver.Name, tc.dsn)
			r := reportOf(t, conn)
			assert.True(t, r.FromSocket)
			assert.Equal(t, 200*time.Second, r.Idle)
			assert.Equal(t, 20*time.Second, r.Interval)
			assert.Equal(t, 4, r.Count)
			assert.Equal(t, before+1, fe.opts.Login.Accepted.Load())
		})
	}
}

// TestDigestRefusals: a wrong password fails with the server's 28P01 on
// pgx, and on lib/pq without TLS; lib/pq over TLS, where it cannot answer
// the login, fails with redshift-ka's error naming the login and the pgx
// driver, right password or wrong; an algorithm other than SHA-256 is
// refused. No error shows either password.
func TestDigestRefusals(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := digestFrontEnd(t, pg, 0)
	right := fe.Server()
	wrong := harness.Postgres{Host: right.Host, Port: right.Port, User: right.User, Database: right.Database,
		Password: "w" + right.Password} // another hostile password
	ctx := context.Background()
	noLeak := func(t *testing.T, err error) {
		t.Helper()
		harness.NoLeak(t, right, "the error", err.Error())
		harness.NoLeak(t, &wrong, "the error", err.Error())
	}

	t.Run("pgx wrong password", func(t *testing.T) {
		before := fe.opts.Login.Refused.Load()
		db, err := sql.Open(driver.Name, wrong.URL("sslmode=require"))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		t.Logf("pgx: %v", err)
		var pe *pgconn.PgError
		require.True(t, errors.As(err, &pe), "not the server's error: %v", err)
		assert.Equal(t, "28P01", pe.Code)
		assert.Equal(t, before+1, fe.opts.Login.Refused.Load())
		noLeak(t, err)
	})
	t.Run("lib/pq wrong password", func(t *testing.T) {
		before := fe.opts.Login.Refused.Load()
		db, err := sql.Open(rkpq.Name, wrong.KeyValue("sslmode=disable"))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		t.Logf("lib/pq: %v", err)
		var pe *pq.Error
		require.True(t, errors.As(err, &pe), "not the server's error: %v", err)
		assert.EqualValues(t, "28P01", pe.Code)
		assert.Equal(t, before+1, fe.opts.Login.Refused.Load())
		noLeak(t, err)
	})
	for _, p := range []*harness.Postgres{right, &wrong} {
		name := "lib/pq over TLS right password"
		if p == &wrong {
			name = "lib/pq over TLS wrong password"
		}
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open(rkpq.Name, p.KeyValue("sslmode=require"))
			require.NoError(t, err)
			defer db.Close()
			err = db.PingContext(ctx)
			require.Error(t, err)
			t.Logf("lib/pq: %v", err)
			assert.ErrorIs(t, err, rkpq.ErrDigestLogin)
			assert.Contains(t, err.Error(), `use the pgx driver "redshift-ka"`)
			noLeak(t, err)
		})
	}

	t.Run("algorithm 1", func(t *testing.T) {
		fe1 := digestFrontEnd(t, pg, 1)
		db, err := sql.Open(driver.Name, fe1.Server().URL("sslmode=require"))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(ctx)
		require.Error(t, err)
		t.Logf("algorithm 1: %v", err)
		assert.Contains(t, err.Error(), "other than SHA-256 (0)")
		assert.Contains(t, err.Error(), "got algorithm 1")
		assert.Zero(t, fe1.opts.Login.Accepted.Load()+fe1.opts.Login.Refused.Load(), "answered anyway")
		noLeak(t, err)
	})
}

// TestDigestIAM: a password issued by an IAM login answers the digest
// login: the IAM login's AfterNetConnect runs first, and the answer uses
// what it set.
func TestDigestIAM(t *testing.T) {
	pg, fake := iamSetup(t)
	issued := "iam " + pg.Password // hostile, and not the DSN's (it has none)
	fake.SetPassword(issued)
	cert, _, err := harness.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	fe := startFrontEnd(t, pg, frontEndOptions{Login: &frontEndLogin{Cert: &cert, DigestUser: "IAM:etl", DigestPassword: issued}})
	srv := fe.Server()
	dsn := fmt.Sprintf("postgres://%s:%d/%s?sslmode=require&iam=true&cluster_identifier=etl-prod&db_user=etl", srv.Host, srv.Port, srv.Database)
	ctx := context.Background()

	_, conn := open(t, driver.Name, dsn)
	assert.Equal(t, "IAM:etl", currentUser(t, conn))
	cfg, err := driver.ParseConfig(dsn)
	require.NoError(t, err)
	pc, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer pc.Close(ctx)
	assert.True(t, isTLS(pc.PgConn()))
	assert.EqualValues(t, 2, fe.opts.Login.Accepted.Load())
	assert.Zero(t, fe.opts.Login.Refused.Load())
}
