package driver

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestPgxAfterNetConnectGetsTLSConn pins what nativeLogin (native.go)
// relies on: pgconn's connectOne calls AfterNetConnect with the
// *tls.Conn it made after the server agreed to TLS, so the hook tells an
// encrypted connection from a plain one by its type. If an upgrade hands
// over another type (a wrapper), the token would never be sent and every
// native login would fail with ErrTokenWithoutTLS.
func TestPgxAfterNetConnectGetsTLSConn(t *testing.T) {
	cert, _, err := harness.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := io.ReadFull(c, make([]byte, 8)); err != nil { // SSLRequest
			return
		}
		c.Write([]byte("S"))
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc) // until the client closes
		}
	}()
	defer func() { ln.Close(); <-done }()

	cfg, err := pgconn.ParseConfig("postgres://u@" + ln.Addr().String() + "/db?sslmode=require")
	require.NoError(t, err)
	stop := errors.New("stop after AfterNetConnect")
	var got net.Conn
	cfg.AfterNetConnect = func(_ context.Context, _ *pgconn.Config, conn net.Conn) (net.Conn, error) {
		got = conn
		return conn, stop
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = pgconn.ConnectConfig(ctx, cfg)
	require.ErrorIs(t, err, stop)
	assert.IsType(t, &tls.Conn{}, got, "pgconn hands AfterNetConnect the TLS connection")
}
