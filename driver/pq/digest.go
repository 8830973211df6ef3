package pq

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/lib/pq"

	"github.com/redshift-ka/redshift-ka/internal/digest"
)

// Amazon Redshift's SHA-256 digest login (authentication code 13, answered
// by Amazon's own drivers: redshift_connector core.py
// handle_AUTHENTICATION_REQUEST, JDBC ConnectionFactoryImpl
// doAuthentication) is one lib/pq does not know. Without TLS
// (sslmode=disable) the backend answers it on the socket it dials for
// lib/pq, with [digest.Conn]. With TLS it cannot: lib/pq speaks TLS
// itself, on that socket, which then carries only ciphertext.

// ErrDigestLogin is the error, wrapped, of a lib/pq connection over TLS to
// an Amazon Redshift server that asks for its SHA-256 digest login, which
// the lib/pq backend answers only with sslmode=disable. The pgx driver,
// "redshift-ka", answers it over TLS too.
var ErrDigestLogin = errors.New(`redshift-ka-pq: the server asked for Amazon Redshift's SHA-256 digest login (authentication code 13), which lib/pq cannot answer over TLS; use the pgx driver "redshift-ka"`)

// lib/pq's error for a login it does not know, with code 13
// (lib/pq conn.go (*conn).auth and internal/proto AuthCode.String).
const pqUnknownDigest = "unknown authentication response: <unknown> (13)"

// plainDigest returns what the dialer does to each socket of a connection
// of cfg: without TLS, have it answer the digest login with cfg's password;
// with TLS, nothing.
func plainDigest(cfg pq.Config) func(net.Conn) net.Conn {
	if cfg.SSLMode != pq.SSLModeDisable {
		return func(c net.Conn) net.Conn { return c }
	}
	password := cfg.Password
	return func(c net.Conn) net.Conn { return digest.NewConn(c, password) }
}

// digestRefused names the digest login, and the driver that answers it, in
// place of lib/pq's error for it; it returns other errors as they are.
func digestRefused(err error) error {
	if err == nil || !strings.Contains(err.Error(), pqUnknownDigest) {
		return err
	}
	return fmt.Errorf("%w (lib/pq: %v)", ErrDigestLogin, err)
}
