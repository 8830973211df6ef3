package driver

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// errNoCancel is what the dial of pgx's cancel request for a lost
// connection's statement returns; pgx drops it (see keepStatement).
var errNoCancel = errors.New("redshift-ka: no cancel request for the statement of a lost connection: it may still finish on the server")

// keepStatement returns an AfterNetConnect that calls next and then keeps
// pgx from cancelling the statement of a connection the kernel gave up
// on. When pgx drops a broken connection (pgconn's asyncClose) it dials
// the server again, through the configuration's DialFunc, and sends a
// cancel request for the statement. For a connection lost to a dead path
// that is the wrong thing to do: the server does not know the client has
// gone, and a COPY or UNLOAD it would have finished is cancelled as soon
// as a new connection gets through (a NAT gateway that forgot the old
// flow lets new ones pass). libpq, lib/pq and Amazon's drivers send none.
// So the connection's own configuration (pgx.ConnectConfig copies it for
// each connection) gets a DialFunc that refuses the first dial to the
// server's address once the connection is lost, which is that cancel
// request's; every other dial passes. A cancel for a statement on a
// connection that is not lost (a context cancelled, Ctrl-C) is sent as
// before.
func keepStatement(next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		kc := dialerConn(conn)
		if kc == nil || c.DialFunc == nil {
			return conn, nil // not our socket: pgx's behaviour stays
		}
		dial, addr := c.DialFunc, kc.RemoteAddr().String()
		var refused atomic.Bool
		c.DialFunc = func(ctx context.Context, network, address string) (net.Conn, error) {
			if address == addr && kc.Lost() != nil && refused.CompareAndSwap(false, true) {
				return nil, errNoCancel
			}
			return dial(ctx, network, address)
		}
		return conn, nil
	}
}

// dialerConn finds the dialer's connection under conn (a *tls.Conn, or a
// wrapper with a NetConn method); nil if there is none.
func dialerConn(conn net.Conn) *dialer.Conn {
	for range 8 { // a bound, against a wrapper that returns itself
		if kc, ok := conn.(*dialer.Conn); ok {
			return kc
		}
		u, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		conn = u.NetConn()
	}
	return nil
}
