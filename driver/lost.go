package driver

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// reportLost returns an AfterNetConnect that calls next and then has pgx's
// frontend read and write through a [lostConn], which hands pgx a lost
// connection's [*dialer.ConnLostError] itself, not inside a *net.OpError
// or crypto/tls's error, for this connection only ([frontendOnce]).
func reportLost(next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		frontendOnce(c, func(r io.Reader, w io.Writer) (io.Reader, io.Writer) {
			lc := &lostConn{r: r, w: w, sock: dialerConn(conn)}
			return lc, writer{lc}
		})
		return conn, nil
	}
}

// lostConn is what pgx's frontend reads and writes through. After a
// statement sent with pgx's simple protocol (a Query message: Exec without
// arguments, so COPY and UNLOAD), pgx ignores the error of its first read
// (MultiResultReader.NextResult peeks) and, unless that error is a
// timeout, closes the connection and reports "conn closed". So there the
// first report of a loss is a timeout, which pgx skips; every other report
// is the loss itself, which pgx returns, then closing the connection.
// TestPgxPeekDropsError fails when pgx changes this.
type lostConn struct {
	r        io.Reader
	w        io.Writer
	sock     *dialer.Conn // nil over a Unix-domain socket
	simple   atomic.Bool  // the last messages written began with a Query
	reported atomic.Bool  // a loss was reported as a timeout
}

func (l *lostConn) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err == nil {
		return n, nil
	}
	lost := l.loss(err)
	if lost == nil {
		return n, err
	}
	if l.simple.Load() && l.reported.CompareAndSwap(false, true) {
		return n, lostTimeout{lost}
	}
	return n, lost
}

// writer is lostConn's write side.
type writer struct{ l *lostConn }

func (w writer) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.l.simple.Store(p[0] == 'Q')
	}
	n, err := w.l.w.Write(p)
	if err != nil {
		if lost := w.l.loss(err); lost != nil {
			err = lost
		}
	}
	return n, err
}

// loss is the loss behind err: the one err holds, or, for an error of a
// socket closed since it was lost (crypto/tls's "use of closed network
// connection" once pgx closed it), the socket's.
func (l *lostConn) loss(err error) *dialer.ConnLostError {
	var lost *dialer.ConnLostError
	if errors.As(err, &lost) {
		return lost
	}
	if l.sock != nil {
		lost, _ = l.sock.Lost().(*dialer.ConnLostError)
	}
	return lost
}

// dialerConn finds the dialer's socket under conn (a *tls.Conn, or a
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

// lostTimeout is a loss as its first report gives it: a timeout, and a
// temporary one, as a deadline is, so that crypto/tls would not keep it.
type lostTimeout struct{ *dialer.ConnLostError }

func (e lostTimeout) Timeout() bool   { return true }
func (e lostTimeout) Temporary() bool { return true }
func (e lostTimeout) Unwrap() error   { return e.ConnLostError }
