package driver

import (
	"context"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/redshift-ka/redshift-ka/internal/digest"
)

// Amazon Redshift's SHA-256 digest login, which pgx does not know, is
// answered by a [digest.Reader] over the server's side of each connection
// (see package internal/digest for the exchange and its sources).

// digestLogin returns an AfterNetConnect that calls next (the IAM login's,
// a user's, or nil) and then has the connection answer a digest login with
// the password the connection's configuration then holds. It leaves the
// connection pgconn uses as it is (a *tls.Conn stays one, for SCRAM's
// channel binding and for callers that look): it sets the configuration's
// BuildFrontend, which pgconn calls next, to one that puts the previous
// one back and builds the frontend with it, over a [digest.Reader]. So the
// configuration is as it was once the connection is made, and a
// BuildFrontend of the user's keeps working.
func digestLogin(next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		if c.ChannelBinding == "require" || c.RequireAuth != "" {
			// The user restricted how pgx may authenticate, and neither
			// setting has a name for the digest login: pgx refuses it
			// ("unknown authentication type: 13") without a digest of
			// the password ever being sent.
			return conn, nil
		}
		password := c.Password
		frontendOnce(c, func(r io.Reader, w io.Writer) (io.Reader, io.Writer) {
			return digest.NewReader(r, w, password), w
		})
		return conn, nil
	}
}

// frontendOnce has the next frontend pgconn builds with c, this
// connection's only, read and write through what wrap returns: it sets
// c.BuildFrontend to one that first puts the previous one (a user's, or
// pgproto3's) back.
func frontendOnce(c *pgconn.Config, wrap func(r io.Reader, w io.Writer) (io.Reader, io.Writer)) {
	build := c.BuildFrontend
	if build == nil {
		build = pgproto3.NewFrontend
	}
	c.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		c.BuildFrontend = build
		return build(wrap(r, w))
	}
}
