package driver

import (
	"context"
	"crypto/tls"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/idptoken"
)

// Amazon Redshift's native identity-provider login, which pgx does not
// know, is answered by an [idptoken.Reader] over the server's side of each
// connection (see package internal/idptoken for the exchange and its
// sources), set up as the digest login is (digest.go).

// nativeLogin adds n's startup parameters to cfg and returns an
// AfterNetConnect that calls next (a user's, or nil) and then has the
// connection answer the server's token request with n's token, or, for a
// DSN without one, the token src gives the connection, over TLS only
// ([frontendOnce]); src is not asked without TLS. [loginFirst] asked src
// before the dial, so this is a cache hit.
func nativeLogin(cfg *pgconn.Config, n *dsnparse.Native, src backend.TokenSource, next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	for k, v := range n.StartupParams() {
		cfg.RuntimeParams[k] = v
	}
	if n.NoUser {
		cfg.User = "" // not the OS user: redshift_connector core.py sends "" for a native plugin without one
	}
	token := n.Token
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		_, encrypted := conn.(*tls.Conn) // pgconn hands over the TLS connection
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		token := token
		if src != nil && encrypted { // no sign-in for a token that would not be sent
			var err error
			if token, err = src.Token(ctx); err != nil {
				return conn, loginError{err} // pgconn closes conn
			}
		}
		frontendOnce(c, func(r io.Reader, w io.Writer) (io.Reader, io.Writer) {
			return idptoken.NewReader(r, w, token, encrypted), w
		})
		return conn, nil
	}
}

// ErrTokenWithoutTLS is the error, wrapped, of a connection whose server
// asks for the identity-provider token without TLS: the token is not sent.
var ErrTokenWithoutTLS = idptoken.ErrNoTLS
