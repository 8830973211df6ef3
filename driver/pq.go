package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// NamePQ is the name of the driver with lib/pq underneath.
const NamePQ = "redshift-ka-pq"

func init() {
	sql.Register(NamePQ, &PQDriver{})
}

// PQDriver is the database/sql driver registered as "redshift-ka-pq": the
// same keys, DSN forms and fallback as [Driver], with lib/pq underneath
// instead of pgx.
type PQDriver struct{}

// Open opens a new connection; database/sql calls [PQDriver.OpenConnector]
// instead.
func (d *PQDriver) Open(dsn string) (driver.Conn, error) {
	c, err := NewPQConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn, so that [sql.Open] reports a bad DSN before any
// connection is dialed.
func (d *PQDriver) OpenConnector(dsn string) (driver.Connector, error) {
	return NewPQConnector(dsn)
}

// PQConnector opens lib/pq connections whose sockets, cancel requests
// included, are dialed with the DSN's keep-alive settings.
type PQConnector struct {
	dsn  *dsnparse.DSN
	cfg  pq.Config
	d    *dialer.Dialer
	opts *options
}

// Format prints the connector, for every verb, as the DSN it hands to
// lib/pq with every secret masked: printing a connector never shows a
// password.
func (c *PQConnector) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "redshift-ka-pq connector (%s)", dsnparse.Redact(c.dsn.Rest))
}

// NewPQConnector parses dsn (URL, key=value or ODBC form). A bad DSN gives
// a [*dsnparse.ParseError] or lib/pq's own error; neither contains the
// password. Of the options, [WithLogger], [WithPQNoticeHandler] and
// [WithPQNotificationHandler] apply; pgx's do not.
func NewPQConnector(dsn string, opts ...Option) (*PQConnector, error) {
	o := newOptions(opts)
	parsed, d, err := prepare(dsn, o)
	if err != nil {
		return nil, err
	}
	cfg, err := pq.NewConfig(parsed.Rest)
	if err != nil {
		return nil, backendError(parsed.Rest, err, func(dsn string) error { _, err := pq.NewConfig(dsn); return err })
	}
	return &PQConnector{dsn: parsed, cfg: cfg, d: d, opts: o}, nil
}

// Connect opens a connection. It is lib/pq's, in a [*PQConn] that knows its
// socket. It asks the server for its process id, one round trip, so that a
// lost connection's error can name the session (lib/pq keeps it to itself).
func (c *PQConnector) Connect(ctx context.Context) (driver.Conn, error) {
	pc, err := pq.NewConnectorConfig(c.cfg)
	if err != nil {
		return nil, err
	}
	cd := &capturingDialer{d: c.d}
	pc.Dialer(cd)
	conn, err := pc.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(pqConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("redshift-ka: lib/pq's connection (%T) lacks an interface database/sql needs", conn)
	}
	if c.opts.notice != nil {
		pq.SetNoticeHandler(conn, c.opts.notice)
	}
	if c.opts.notification != nil {
		pq.SetNotificationHandler(conn, c.opts.notification)
	}
	pqc := &PQConn{pqConn: inner, sock: cd.freeze()}
	if pqc.sock != nil {
		if pid, err := serverPID(ctx, inner); err == nil {
			pqc.sock.SetServerPID(pid)
		}
	}
	return pqc, nil
}

// serverPID asks the server for the process id of the session.
func serverPID(ctx context.Context, c driver.QueryerContext) (uint32, error) {
	rows, err := c.QueryContext(ctx, "SELECT pg_backend_pid()", nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	pid, ok := v[0].(int64)
	if !ok {
		return 0, fmt.Errorf("redshift-ka: pg_backend_pid() gave %T", v[0])
	}
	return uint32(pid), nil
}

// Driver returns the redshift-ka-pq driver.
func (c *PQConnector) Driver() driver.Driver { return &PQDriver{} }

// DSN returns the parsed DSN.
func (c *PQConnector) DSN() dsnparse.DSN { return *c.dsn }

// capturingDialer is lib/pq's dialer for one connection. It remembers the
// socket the connection was made on; lib/pq uses it again for that
// connection's cancel requests, which must not replace it.
type capturingDialer struct {
	d      *dialer.Dialer
	mu     sync.Mutex
	sock   *dialer.Conn
	frozen bool
}

func (c *capturingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if kc, ok := conn.(*dialer.Conn); ok {
		c.mu.Lock()
		if !c.frozen {
			c.sock = kc // with several hosts, the last one dialed is the one kept
		}
		c.mu.Unlock()
	}
	return conn, nil
}

func (c *capturingDialer) Dial(network, addr string) (net.Conn, error) {
	return c.DialContext(context.Background(), network, addr)
}

func (c *capturingDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.DialContext(ctx, network, addr)
}

func (c *capturingDialer) freeze() *dialer.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = true
	return c.sock
}

// pqConn is what database/sql uses of a connection; lib/pq's has it all.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// PQConn is a lib/pq connection and the socket it runs on.
// [sql.Conn.Raw] hands it back; [PQConn.Conn] is lib/pq's own.
type PQConn struct {
	pqConn
	sock *dialer.Conn // nil over a Unix-domain socket
}

// Conn returns lib/pq's connection, for lib/pq's functions that take one.
func (c *PQConn) Conn() driver.Conn { return c.pqConn }

// IsValid reports whether database/sql may reuse the connection: not once
// the kernel has ended it for want of answers.
func (c *PQConn) IsValid() bool {
	return c.lost() == nil && c.pqConn.IsValid()
}

// ResetSession is called before the connection is reused.
func (c *PQConn) ResetSession(ctx context.Context) error {
	if c.lost() != nil {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

func (c *PQConn) lost() error {
	if c.sock == nil {
		return nil
	}
	return c.sock.Lost()
}
