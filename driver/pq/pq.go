// Package pq is the redshift-ka database/sql driver with lib/pq underneath
// instead of pgx: the same keys, DSN forms and OS fallback as
// [github.com/redshift-ka/redshift-ka/driver]. Importing it registers the
// driver "redshift-ka-pq":
//
//	import _ "github.com/redshift-ka/redshift-ka/driver/pq"
//
//	db, err := sql.Open("redshift-ka-pq", dsn)
//
// It is a package of its own so that programs that use pgx do not link
// lib/pq. [sql.Conn.Raw] hands back a [*Conn]; [Conn.Conn] is lib/pq's
// connection, for lib/pq's functions that take one.
//
// Amazon Redshift's SHA-256 digest login is answered without TLS
// (sslmode=disable) only; over TLS it fails with [ErrDigestLogin] (see
// the driver package's docs).
package pq

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/redshift-ka/redshift-ka/dialer"
	rkdriver "github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/serverpid"
)

// Name is the name the driver registers with database/sql.
const Name = "redshift-ka-pq"

func init() {
	sql.Register(Name, &Driver{})
}

// Driver is the database/sql driver registered as "redshift-ka-pq".
type Driver struct{}

// Open opens a new connection; database/sql calls [Driver.OpenConnector]
// instead. Each call parses dsn anew (an IAM login's credentials come
// from the process's cache, unless IAMDisableCache: use a [Connector]
// then).
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn, so that [sql.Open] reports a bad DSN before any
// connection is dialed.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	return NewConnector(dsn)
}

// Connector opens lib/pq connections whose sockets, cancel requests
// included, are dialed with the DSN's keep-alive settings. Set its
// handlers before the first connection; lib/pq's own
// ConnectorWithNoticeHandler does not work with it, since it expects its
// own connection type.
type Connector struct {
	// NoticeHandler, if set, receives the server's notices (RAISE NOTICE,
	// say), as pq.SetNoticeHandler would arrange.
	NoticeHandler func(*pq.Error)
	// NotificationHandler, if set, receives LISTEN/NOTIFY notifications,
	// as pq.SetNotificationHandler would arrange.
	NotificationHandler func(*pq.Notification)

	dsn   *dsnparse.DSN
	cfg   pq.Config
	d     *dialer.Dialer
	login backend.Login
	// endpoint looks up where an IAM login's connections go, for a DSN
	// without a host; nil otherwise.
	endpoint backend.Endpointer
}

// Format prints the connector, for every verb, as the DSN it hands to
// lib/pq with every secret masked: printing a connector never shows a
// password.
func (c *Connector) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "redshift-ka-pq connector (%s)", dsnparse.Redact(c.dsn.Rest))
}

// NewConnector parses dsn (URL, key=value, ODBC or JDBC form). A bad DSN gives
// a [*dsnparse.ParseError] or lib/pq's own error; neither contains the
// password. Of the options, [rkdriver.WithLogger] applies; pgx's do not.
func NewConnector(dsn string, opts ...rkdriver.Option) (*Connector, error) {
	var o backend.Options
	for _, opt := range opts {
		opt(&o)
	}
	p, err := backend.Prepare(dsn, &o)
	if err != nil {
		return nil, err
	}
	if p.DSN.Native != nil {
		return nil, ErrNativeLogin
	}
	cfg, err := pq.NewConfig(p.DSN.Rest)
	if err != nil {
		return nil, backend.Refused(p.DSN.Rest, func(dsn string) error { _, err := pq.NewConfig(dsn); return err })
	}
	return &Connector{dsn: p.DSN, cfg: cfg, d: p.Dialer, login: p.Login, endpoint: p.Endpoint}, nil
}

// Connect opens a connection. It is lib/pq's, in a [*Conn] that knows its
// socket. It asks the server for its process id, one round trip, so that a
// lost connection's error can name the session (lib/pq keeps it to itself).
//
// With an IAM login, the connection logs in with the login's current
// user and password, set on a copy of the configuration; for a DSN
// without a host, a failed dial makes the next connect look the
// endpoint up again.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	cfg := c.cfg
	var endpoint string // looked up, for a DSN without a host
	if c.login != nil {
		lctx := ctx
		if cfg.ConnectTimeout > 0 { // lib/pq applies it to its dial only; the API call is part of connecting too
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
			defer cancel()
		}
		cr, err := c.login.Credentials(lctx)
		if err != nil {
			return nil, err
		}
		cfg.User, cfg.Password = cr.User, cr.Password
		if c.endpoint != nil {
			if endpoint, err = c.endpoint.Endpoint(lctx); err != nil {
				return nil, err
			}
			host, port, _ := net.SplitHostPort(endpoint)
			n, _ := strconv.Atoi(port)
			cfg.Host, cfg.Port, cfg.Multi = host, uint16(n), nil
		}
	}
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	cd := &capturingDialer{d: c.d, digest: plainDigest(cfg)}
	pc.Dialer(cd)
	conn, err := pc.Connect(ctx)
	if err != nil {
		if endpoint != "" && cd.dialFailed() {
			c.endpoint.Forget(endpoint) // looked up again at the next connect
		}
		return nil, reported(digestRefused(err))
	}
	inner, ok := conn.(pqConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("redshift-ka: lib/pq's connection (%T) lacks an interface database/sql needs", conn)
	}
	if c.NoticeHandler != nil {
		pq.SetNoticeHandler(conn, c.NoticeHandler)
	}
	if c.NotificationHandler != nil {
		pq.SetNotificationHandler(conn, c.NotificationHandler)
	}
	pqc := &Conn{pqConn: inner, sock: cd.freeze()}
	if pqc.sock != nil {
		if pid, err := serverPID(ctx, inner); err == nil {
			serverpid.Set(pqc.sock, serverpid.Session{PID: pid})
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
func (c *Connector) Driver() driver.Driver { return &Driver{} }

// DSN returns the parsed DSN.
func (c *Connector) DSN() dsnparse.DSN { return *c.dsn }

// Login returns the connector's IAM login; nil when the DSN asks for none.
func (c *Connector) Login() rkdriver.Login { return c.login }

// capturingDialer is lib/pq's dialer for one connection. It remembers the
// socket the connection was made on; lib/pq uses it again for that
// connection's cancel requests, which must not replace it.
type capturingDialer struct {
	d      *dialer.Dialer
	digest func(net.Conn) net.Conn // see digest.go
	mu     sync.Mutex
	sock   *dialer.Conn
	frozen bool
	failed bool // a dial failed before freeze
}

func (c *capturingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	addr, err := backend.ResolveAddr(ctx, addr)
	var conn net.Conn
	if err == nil {
		conn, err = c.d.DialContext(ctx, network, addr)
	}
	if err != nil {
		c.mu.Lock()
		c.failed = c.failed || !c.frozen
		c.mu.Unlock()
		return nil, err
	}
	if kc, ok := conn.(*dialer.Conn); ok {
		c.mu.Lock()
		if !c.frozen {
			c.sock = kc // with several hosts, the last one dialed is the one kept
		}
		c.mu.Unlock()
	}
	return c.digest(conn), nil
}

func (c *capturingDialer) Dial(network, addr string) (net.Conn, error) {
	return c.DialContext(context.Background(), network, addr)
}

func (c *capturingDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.DialContext(ctx, network, addr)
}

// dialFailed reports whether a dial for the connection failed.
func (c *capturingDialer) dialFailed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
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

// Conn is a lib/pq connection and the socket it runs on.
// [sql.Conn.Raw] hands it back; [Conn.Conn] is lib/pq's own.
type Conn struct {
	pqConn
	sock *dialer.Conn // nil over a Unix-domain socket
}

// Conn returns lib/pq's connection, for lib/pq's functions that take one.
func (c *Conn) Conn() driver.Conn { return c.pqConn }

// NetConn returns the connection's socket: a [*dialer.Conn], or nil over a
// Unix-domain socket. The settings package reads it.
func (c *Conn) NetConn() net.Conn {
	if c.sock == nil {
		return nil
	}
	return c.sock
}

// IsValid reports whether database/sql may reuse the connection: not once
// the kernel has ended it for want of answers.
func (c *Conn) IsValid() bool {
	return c.lost() == nil && c.pqConn.IsValid()
}

// ResetSession is called before the connection is reused.
func (c *Conn) ResetSession(ctx context.Context) error {
	if c.lost() != nil {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

func (c *Conn) lost() error {
	if c.sock == nil {
		return nil
	}
	return c.sock.Lost()
}

// ExecContext runs a statement. A lost connection's error is the
// [*dialer.ConnLostError] itself, not lib/pq's *net.OpError around it,
// so that its text comes first; so for every method below.
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.pqConn.ExecContext(ctx, query, args)
	return r, c.reported(err)
}

// QueryContext runs a query; see [Conn.ExecContext] for errors, of the
// rows' Next too.
func (c *Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.pqConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, c.reported(err)
	}
	return c.rows(r), nil
}

// PrepareContext prepares a statement, lib/pq's CopyIn included; see
// [Conn.ExecContext] for the errors of the statement and its rows.
func (c *Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.reported(err)
	}
	return &stmt{Stmt: st, c: c}, nil
}

// BeginTx starts a transaction; see [Conn.ExecContext] for the errors of
// its Commit and Rollback.
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := c.pqConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.reported(err)
	}
	return tx{t, c}, nil
}

// Ping checks the connection; see [Conn.ExecContext] for errors.
func (c *Conn) Ping(ctx context.Context) error {
	return c.reported(c.pqConn.Ping(ctx))
}

// reported is err, or the loss of the connection, whatever lib/pq made
// of it: a *net.OpError around it, or driver.ErrBadConn when its COPY
// reader saw the loss first.
func (c *Conn) reported(err error) error {
	if err == nil || err == io.EOF { // the rows' end: no allocation per row
		return err
	}
	if lost := c.lost(); lost != nil {
		return lost
	}
	return reported(err)
}

// pqRows is what database/sql uses of lib/pq's rows.
type pqRows interface {
	driver.Rows
	driver.RowsNextResultSet
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypePrecisionScale
}

// rows are lib/pq's, with a lost connection's error reported as
// [Conn.ExecContext] reports it.
type rows struct {
	pqRows
	c *Conn
}

func (c *Conn) rows(r driver.Rows) driver.Rows {
	if pr, ok := r.(pqRows); ok {
		return rows{pr, c}
	}
	return r
}

func (r rows) Next(dest []driver.Value) error { return r.c.reported(r.pqRows.Next(dest)) }

func (r rows) NextResultSet() error { return r.c.reported(r.pqRows.NextResultSet()) }

// stmt is lib/pq's prepared statement (or CopyIn, which has no context
// methods), its errors reported as [Conn.ExecContext] reports them.
type stmt struct {
	driver.Stmt
	c *Conn
}

func (s *stmt) Close() error { return s.c.reported(s.Stmt.Close()) }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if sc, ok := s.Stmt.(driver.StmtExecContext); ok {
		r, err := sc.ExecContext(ctx, args)
		return r, s.c.reported(err)
	}
	v, err := values(ctx, args)
	if err != nil {
		return nil, err
	}
	r, err := s.Stmt.Exec(v) // CopyIn has no ExecContext
	return r, s.c.reported(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	var (
		r   driver.Rows
		err error
	)
	if sc, ok := s.Stmt.(driver.StmtQueryContext); ok {
		r, err = sc.QueryContext(ctx, args)
	} else if v, verr := values(ctx, args); verr != nil {
		return nil, verr
	} else {
		r, err = s.Stmt.Query(v) // CopyIn has no QueryContext
	}
	if err != nil {
		return nil, s.c.reported(err)
	}
	return s.c.rows(r), nil
}

// values is what database/sql hands a statement without context methods:
// the values, no names, nothing once ctx is done.
func values(ctx context.Context, args []driver.NamedValue) ([]driver.Value, error) {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("sql: driver does not support the use of Named Parameters")
		}
		v[i] = a.Value
	}
	return v, ctx.Err()
}

// tx is lib/pq's transaction, its errors reported as [Conn.ExecContext]
// reports them.
type tx struct {
	driver.Tx
	c *Conn
}

func (t tx) Commit() error { return t.c.reported(t.Tx.Commit()) }

func (t tx) Rollback() error { return t.c.reported(t.Tx.Rollback()) }

// reported is err, or the loss it holds.
func reported(err error) error {
	if err == nil || err == io.EOF { // the rows' end: no allocation per row
		return err
	}
	var lost *dialer.ConnLostError
	if errors.As(err, &lost) {
		return lost
	}
	return err
}
