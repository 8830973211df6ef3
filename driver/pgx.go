package driver

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// ParseConfig turns dsn (URL, key=value, ODBC or JDBC form) into a pgx
// configuration for programs that use pgx directly: the keys redshift-ka
// owns are taken out, and the dialer that sets them on every socket is in
// pgx's place. Its Tracer makes connections to Amazon Redshift read
// NUMERIC and the other types its binary forms differ in as text (see the
// package docs); add a tracer of your own with
// multitracer.New(cfg.Tracer, yours), not in its place.
//
// A DSN that asks for an IAM login gets its user and password for each
// connection pgx.ConnectConfig makes, from the API or the cache (see
// [Login]), before the dial in the configuration's LookupFunc (keep it
// when adding your own), set in its AfterNetConnect, which also readies
// every connection for Amazon Redshift's digest login (see the package
// docs): keep it when adding your own. pgconn.ConnectConfig alone would
// write the IAM user and password into the configuration it is given, and
// set its BuildFrontend while it connects; use pgx.ConnectConfig, which
// copies it.
//
//	cfg, err := driver.ParseConfig(dsn)
//	conn, err := pgx.ConnectConfig(ctx, cfg)
func ParseConfig(dsn string, opts ...Option) (*pgx.ConnConfig, error) {
	_, cfg, _, err := pgxConfig(dsn, options(opts))
	return cfg, err
}

// pgxConfig parses dsn into pgx's configuration with the dialer in place.
func pgxConfig(dsn string, o *backend.Options) (*backend.Prepared, *pgx.ConnConfig, *firstLogin, error) {
	p, err := backend.Prepare(dsn, o)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := pgx.ParseConfig(p.DSN.Rest)
	if err != nil {
		return nil, nil, nil, backend.Refused(p.DSN.Rest, func(dsn string) error { _, err := pgx.ParseConfig(dsn); return err })
	}
	first := install(&cfg.Config, p)
	cfg.Tracer = redshiftTracer{}
	return p, cfg, first, nil
}

// ParsePoolConfig is [ParseConfig] for pgxpool: pool keys such as
// pool_max_conns work as with pgxpool.ParseConfig, and every pooled
// connection's socket carries the DSN's keep-alive settings, and every
// connection to Amazon Redshift reads as text what [ParseConfig]'s do.
// With an IAM login, every new pooled connection gets valid credentials,
// whatever the pool's BeforeConnect does.
//
//	cfg, err := driver.ParsePoolConfig(dsn)
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
func ParsePoolConfig(dsn string, opts ...Option) (*pgxpool.Config, error) {
	p, err := backend.Prepare(dsn, options(opts))
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(p.DSN.Rest)
	if err != nil {
		return nil, backend.Refused(p.DSN.Rest, func(dsn string) error { _, err := pgxpool.ParseConfig(dsn); return err })
	}
	install(&cfg.ConnConfig.Config, p)
	cfg.ConnConfig.Tracer = redshiftTracer{}
	return cfg, nil
}
