package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	dsn *dsnparse.DSN
	cfg pq.Config
	d   *dialer.Dialer
}

// NewPQConnector parses dsn (URL, key=value or ODBC form). A bad DSN gives
// a [*dsnparse.ParseError] or lib/pq's own error; neither contains the
// password. Of the options, [WithLogger] applies; pgx's do not.
func NewPQConnector(dsn string, opts ...Option) (*PQConnector, error) {
	parsed, d, err := prepare(dsn, newOptions(opts))
	if err != nil {
		return nil, err
	}
	cfg, err := pq.NewConfig(parsed.Rest)
	if err != nil {
		return nil, backendError(parsed.Rest, err, func(dsn string) error { _, err := pq.NewConfig(dsn); return err })
	}
	return &PQConnector{dsn: parsed, cfg: cfg, d: d}, nil
}

// Connect opens a connection. It is lib/pq's, in a [*PQConn] that knows its
// socket.
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
	return &PQConn{Conn: conn, sock: cd.freeze()}, nil
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

// PQConn is a lib/pq connection and the socket it runs on.
// [sql.Conn.Raw] hands it back; [PQConn.Conn] is lib/pq's own.
type PQConn struct {
	driver.Conn
	sock *dialer.Conn // nil over a Unix-domain socket
}

// The interfaces database/sql looks for; lib/pq implements them all.
var (
	_ driver.ConnBeginTx        = (*PQConn)(nil)
	_ driver.ConnPrepareContext = (*PQConn)(nil)
	_ driver.ExecerContext      = (*PQConn)(nil)
	_ driver.QueryerContext     = (*PQConn)(nil)
	_ driver.Pinger             = (*PQConn)(nil)
	_ driver.SessionResetter    = (*PQConn)(nil)
	_ driver.Validator          = (*PQConn)(nil)
	_ driver.NamedValueChecker  = (*PQConn)(nil)
)

// BeginTx starts a transaction.
func (c *PQConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, driver.ErrSkip
}

// PrepareContext prepares a statement.
func (c *PQConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

// ExecContext runs a statement.
func (c *PQConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// QueryContext runs a query.
func (c *PQConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// Ping checks the connection.
func (c *PQConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession is called before the connection is reused.
func (c *PQConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid reports whether the connection can be reused.
func (c *PQConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue lets lib/pq convert arguments as it does on its own.
func (c *PQConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
