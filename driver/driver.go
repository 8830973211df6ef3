package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/serverpid"
)

// Name is the name the driver registers with database/sql.
const Name = "redshift-ka"

func init() {
	sql.Register(Name, &Driver{})
}

// Driver is the database/sql driver registered as "redshift-ka". It
// implements [driver.Driver] and [driver.DriverContext].
type Driver struct{}

// Open opens a new connection. database/sql calls [Driver.OpenConnector]
// instead; Open is there for callers that use the driver directly. Each
// call parses dsn anew (an IAM login's credentials come from the
// process's cache, unless IAMDisableCache: use a [Connector] then).
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

// Option configures a connector of either backend: [NewConnector],
// [ParseConfig], [ParsePoolConfig], and the lib/pq backend's.
type Option func(*backend.Options)

// WithLogger logs, at debug level, each connection dialed and the
// keep-alive settings asked of it and each DSN key dropped, and at warning
// level each connection lost, with the kernel's TCP figures, and the DSN's
// [dsnparse.Config.Warnings] when the connector is made. Nothing logged
// contains a password.
func WithLogger(l *slog.Logger) Option {
	return func(o *backend.Options) { o.Logger = l }
}

// WithPgxOptions passes options to pgx's database/sql connector, such as
// [stdlib.OptionAfterConnect]. The lib/pq backend ignores them.
func WithPgxOptions(opts ...stdlib.OptionOpenDB) Option {
	return func(o *backend.Options) { o.Pgx = append(o.Pgx, opts...) }
}

// options applies opts.
func options(opts []Option) *backend.Options {
	var o backend.Options
	for _, opt := range opts {
		opt(&o)
	}
	return &o
}

// Connector opens connections for [sql.OpenDB]. It holds the parsed DSN,
// so connections are made without parsing it again.
type Connector struct {
	dsn    *dsnparse.DSN
	login  Login
	tokens backend.TokenSource
	first  *firstLogin // nil without a login
	inner  driver.Connector
}

// NewConnector parses dsn (URL, key=value, ODBC or JDBC form) and returns a
// connector whose every connection, cancel requests included, is dialed
// with the DSN's keep-alive settings. A bad DSN gives a
// [*dsnparse.ParseError], or the message of pgx's own parse error for the
// DSN with its secrets masked; neither contains the password.
func NewConnector(dsn string, opts ...Option) (*Connector, error) {
	o := options(opts)
	p, cfg, first, err := pgxConfig(dsn, o)
	if err != nil {
		return nil, err
	}
	return &Connector{dsn: p.DSN, login: p.Login, tokens: p.Tokens, first: first, inner: stdlib.GetConnector(*cfg, o.Pgx...)}, nil
}

// install puts the dialer in pgx's place, for connections and cancel
// requests, and tells each socket which server session it carries, so that
// a lost connection's error can name it. Over TLS 1.2 it accepts the
// server's renegotiations (see renegotiate.go). It refuses a connection to
// Redshift that will not be switched to text (see redshift.go).
//
// With an IAM login, it sets the user and password of each connection in
// AfterNetConnect: pgconn calls it for every connection, whichever way
// (database/sql, pgx.ConnectConfig, pgxpool) it is made, with a
// configuration of that connection's own, before the startup message
// names the user. A user's BeforeConnect (stdlib or pgxpool) runs before
// and keeps working. In AfterNetConnect, after the IAM login's and any of
// the configuration's own, each connection is readied to answer Amazon
// Redshift's digest login with the password then set (or, for a DSN with
// a native identity-provider login, its token request), and, last, kept
// from cancelling its statement once the kernel gives up on it (see
// cancel.go).
func install(cfg *pgconn.Config, p *backend.Prepared) *firstLogin {
	cfg.DialFunc = p.DialFunc(p.Dialer.DialContext)
	first := newFirstLogin(cfg, p) // see loginfirst.go
	cfg.LookupFunc = first.lookup(p.LookupFunc(cfg.LookupFunc))
	p.VerifyEndpoint(allowRenegotiation(cfg.TLSConfig))
	for _, fb := range cfg.Fallbacks {
		p.VerifyEndpoint(allowRenegotiation(fb.TLSConfig))
	}
	if login := p.Login; login != nil {
		nextNet := cfg.AfterNetConnect
		cfg.AfterNetConnect = func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
			cr, err := login.Credentials(ctx)
			if err != nil {
				return conn, loginError{err} // pgconn closes conn
			}
			c.User, c.Password = cr.User, cr.Password
			if nextNet != nil {
				return nextNet(ctx, c, conn)
			}
			return conn, nil
		}
	}
	if n := p.DSN.Native; n != nil {
		cfg.AfterNetConnect = nativeLogin(cfg, n, p.Tokens, cfg.AfterNetConnect) // see native.go
	} else {
		cfg.AfterNetConnect = digestLogin(cfg.AfterNetConnect) // see digest.go
	}
	cfg.AfterNetConnect = reportLost(cfg.AfterNetConnect) // see lost.go
	// The Redshift check and the server pid run in both of pgconn's hooks
	// after login, ValidateConnect and AfterConnect, and the tracer sets the
	// pid too: a program that assigns one hook in place of chaining it
	// keeps the others. Only AfterConnect, ValidateConnect and the Tracer
	// all replaced lose the check.
	nextValidate := cfg.ValidateConnect
	cfg.ValidateConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if err := connected(ctx, pc, cfg.Database); err != nil {
			return err
		}
		if nextValidate != nil {
			return nextValidate(ctx, pc)
		}
		return nil
	}
	next := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if err := connected(ctx, pc, cfg.Database); err != nil {
			return err
		}
		if next != nil {
			return next(ctx, pc)
		}
		return nil
	}
	return first
}

// connected tells the socket its server session and refuses a connection
// to Redshift that will not be switched to text.
func connected(ctx context.Context, pc *pgconn.PgConn, database string) error {
	serverpid.Set(pc.Conn(), session(pc, database))
	return checkTraced(ctx, pc)
}

// session is what the socket is told of pc's server session.
func session(pc *pgconn.PgConn, database string) serverpid.Session {
	system := "postgresql"
	if IsRedshift(pc) {
		system = "aws.redshift"
	}
	return serverpid.Session{PID: pc.PID(), System: system, Database: database}
}

// loginError is an IAM login's error as pgconn gets it. pgconn replaces an
// error that is a net.Error timeout (a context's deadline is one) with
// its own "timeout: context deadline exceeded", which would lose the name
// of the API that did not answer: loginError is not a net.Error, and is
// everything else its error is (errors.Is, errors.As).
type loginError struct{ err error }

func (e loginError) Error() string { return e.err.Error() }

func (e loginError) Is(target error) bool { return errors.Is(e.err, target) }

func (e loginError) As(target any) bool {
	if _, ok := target.(*net.Error); ok {
		return false
	}
	return errors.As(e.err, target)
}

// Connect opens a connection. It is pgx's: [sql.Conn.Raw] hands back a
// [*stdlib.Conn].
//
// A login (IAM, an identity provider) runs first, once per connect: its
// failure is its own error, "redshift-ka: ADFS sign-in for cluster ...",
// not pgx's connect error.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.first == nil {
		return c.inner.Connect(ctx)
	}
	ctx, cancel := context.WithCancel(ctx) // a context that ends: pgx's lookups share this login
	defer cancel()
	if err := c.first.logIn(ctx); err != nil {
		return nil, err
	}
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

// Login returns the connector's IAM login, which every connection shares;
// nil when the DSN asks for none.
func (c *Connector) Login() Login { return c.login }

// LoginSteps are the calls the connector's login makes before the server
// login, in order: an IAM login's (an identity provider's, then the
// Redshift API's), or the token source's of a native login whose DSN has
// no token (GetIdentityCenterAuthToken). Nil when there are none.
func (c *Connector) LoginSteps() []LoginStep {
	var s any = c.tokens
	if c.login != nil {
		s = c.login
	}
	if st, ok := s.(backend.Stepper); ok {
		return st.Steps()
	}
	return nil
}

// PrepareToken gets the token of a native login whose DSN has none, as a
// connection would, and keeps it in the process's cache for the
// connections that follow: a failure shows before any dial, its error a
// [LoginStepError] naming the step. It does nothing for other logins.
func (c *Connector) PrepareToken(ctx context.Context) error {
	if c.tokens == nil {
		return nil
	}
	_, err := c.tokens.Token(ctx)
	return err
}

// LoginStep is one call of a login, as [Connector.LoginSteps] lists it.
type LoginStep = backend.Step

// LoginStepError is implemented by the error of a failed login step (find
// it with errors.As): FailedStep is the [LoginStep.Name] of the step that
// failed.
type LoginStepError = backend.StepError

// Login issues, through AWS IAM, the database user and password of each
// new connection of a connector whose DSN asks for it (IAM=1, iam=true,
// jdbc:redshift:iam://), and caches them, once per process for the
// connectors that make the same call; see
// package [github.com/redshift-ka/redshift-ka/iam], which a program
// imports to use it.
type Login = backend.Login

// Credentials are the user, password and expiration a [Login] issued.
type Credentials = backend.Credentials

// LoginPlan says which API a [Login] calls, and with what.
type LoginPlan = backend.Plan

// ErrNoIAM is the error, at [sql.Open] and [NewConnector], of a DSN that
// asks for an IAM login in a program that does not import
// github.com/redshift-ka/redshift-ka/iam.
var ErrNoIAM = backend.ErrNoIAM

// ErrNoTokenSource is the error, at [sql.Open] and [NewConnector], of a
// DSN whose identity-provider plugin gets its token at connect time
// (IdpTokenAuthPlugin with AWS credentials, the browser plugins) in a
// program that does not import github.com/redshift-ka/redshift-ka/iam.
var ErrNoTokenSource = backend.ErrNoTokenSource
