package driver

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// Name is the name the driver registers with database/sql.
const Name = "redshift-ka"

func init() {
	sql.Register(Name, &Driver{})
}

// ErrNotRedshiftKA is returned by [Settings] for a connection that was not
// opened through redshift-ka (or not over TCP).
var ErrNotRedshiftKA = errors.New("redshift-ka: connection was not dialed by redshift-ka over TCP")

// Driver is the database/sql driver registered as "redshift-ka". It
// implements [driver.Driver] and [driver.DriverContext].
type Driver struct{}

// Open opens a new connection. database/sql calls [Driver.OpenConnector]
// instead; Open is there for callers that use the driver directly.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn, so that [sql.Open] reports a bad DSN before
// any connection is dialed.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	return NewConnector(dsn)
}

// Option configures a [Connector].
type Option func(*options)

type options struct {
	logger       *slog.Logger
	pgxOpts      []stdlib.OptionOpenDB
	notice       func(*pq.Error)
	notification func(*pq.Notification)
}

// WithLogger logs, at debug level, each connection dialed and the
// keep-alive settings asked of it. Nothing logged contains a password.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func (o *options) dialerOptions() []dialer.Option {
	if o.logger == nil {
		return nil
	}
	return []dialer.Option{dialer.WithLogger(o.logger)}
}

// WithPQNoticeHandler gives lib/pq's connections a handler of the server's
// notices (RAISE NOTICE, say). lib/pq's own ConnectorWithNoticeHandler does
// not work with a [PQConnector]: it expects its own connection type.
func WithPQNoticeHandler(h func(*pq.Error)) Option {
	return func(o *options) { o.notice = h }
}

// WithPQNotificationHandler gives lib/pq's connections a handler of
// LISTEN/NOTIFY notifications, as pq.SetNotificationHandler would.
func WithPQNotificationHandler(h func(*pq.Notification)) Option {
	return func(o *options) { o.notification = h }
}

// WithPgxOptions passes options to pgx's database/sql connector, such as
// [stdlib.OptionAfterConnect].
func WithPgxOptions(opts ...stdlib.OptionOpenDB) Option {
	return func(o *options) { o.pgxOpts = append(o.pgxOpts, opts...) }
}

// Connector opens connections for [sql.OpenDB]. It holds the parsed DSN,
// so connections are made without parsing it again.
type Connector struct {
	dsn   *dsnparse.DSN
	inner driver.Connector
}

// NewConnector parses dsn (URL, key=value or ODBC form) and returns a
// connector whose every connection, cancel requests included, is dialed
// with the DSN's keep-alive settings. A bad DSN gives a
// [*dsnparse.ParseError] or pgx's own parse error; neither contains the
// password.
func NewConnector(dsn string, opts ...Option) (*Connector, error) {
	o := newOptions(opts)
	parsed, cfg, err := pgxConfig(dsn, o)
	if err != nil {
		return nil, err
	}
	return &Connector{dsn: parsed, inner: stdlib.GetConnector(*cfg, o.pgxOpts...)}, nil
}

func newOptions(opts []Option) *options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &o
}

// prepare parses dsn and makes the dialer for its settings.
func prepare(dsn string, o *options) (*dsnparse.DSN, *dialer.Dialer, error) {
	parsed, err := dsnparse.Parse(dsn)
	if err != nil {
		return nil, nil, err
	}
	d, err := dialer.New(parsed.Config, o.dialerOptions()...)
	if err != nil {
		return nil, nil, err
	}
	return parsed, d, nil
}

// install puts the dialer in pgx's place, for connections and cancel
// requests, and tells each socket which server session it carries, so that
// a lost connection's error can name it. It refuses a connection to
// Redshift that will not be switched to text (see redshift.go).
func install(cfg *pgconn.Config, d *dialer.Dialer) {
	cfg.DialFunc = d.DialContext
	next := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if kc := dialerConn(pc.Conn()); kc != nil {
			kc.SetServerPID(pc.PID())
		}
		if err := checkTraced(ctx, pc); err != nil {
			return err
		}
		if next != nil {
			return next(ctx, pc)
		}
		return nil
	}
}

// Connect opens a connection. It is pgx's: [sql.Conn.Raw] hands back a
// [*stdlib.Conn].
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	return c.inner.Connect(ctx)
}

// Driver returns the redshift-ka driver.
func (c *Connector) Driver() driver.Driver { return &Driver{} }

// Format prints the connector, for every verb, as the DSN it hands to pgx
// with every secret masked: printing a connector never shows a password.
func (c *Connector) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "redshift-ka connector (%s)", dsnparse.Redact(c.dsn.Rest))
}

// DSN returns the parsed DSN: its form, its keep-alive settings, and the
// ODBC keys it ignored.
func (c *Connector) DSN() dsnparse.DSN { return *c.dsn }

// Settings reports the keep-alive options in force on the socket of conn,
// read from the kernel, and where each came from (a DSN key, or the OS). It
// works for connections of both drivers, "redshift-ka" and
// "redshift-ka-pq"; with pgx underneath, Report.Server names the server
// ("Amazon Redshift 1.0.122914" on Redshift).
func Settings(conn *sql.Conn) (dialer.Report, error) {
	var r dialer.Report
	err := conn.Raw(func(dc any) error {
		var kc *dialer.Conn
		server := ""
		switch c := dc.(type) {
		case *stdlib.Conn:
			kc = dialerConn(c.Conn().PgConn().Conn())
			server = ServerVersion(c.Conn().PgConn())
		case *PQConn:
			kc = c.sock
		}
		if kc == nil {
			return ErrNotRedshiftKA
		}
		var err error
		r, err = kc.Report()
		r.Server = server
		return err
	})
	return r, err
}

// dialerConn finds the redshift-ka socket under a pgx connection, through
// TLS if need be; nil if there is none (a Unix-domain socket).
func dialerConn(nc net.Conn) *dialer.Conn {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	kc, _ := nc.(*dialer.Conn)
	return kc
}

// backendError reports a DSN that pgx or lib/pq refused. Their messages
// quote the DSN and mask its password only in part (pgx keeps what follows
// an escaped quote), so the message given is the one they give for the DSN
// with every secret masked: a password does not change whether a DSN
// parses. The backend's error is not wrapped, since its text holds the
// password.
func backendError(rest string, err error, parse func(string) error) error {
	if masked := parse(dsnparse.Redact(rest)); masked != nil {
		return fmt.Errorf("redshift-ka: %s", masked)
	}
	return errors.New("redshift-ka: the driver underneath refused the DSN (its message would show the password)")
}
