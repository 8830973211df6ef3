package otelka_test

import (
	"context"
	"database/sql"
	"log"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/otelka"
)

// Put a lost connection's event on the span of the statement's context:
// with pgx, in the configuration; with database/sql, in each
// connection's configuration.
func ExampleTracer() {
	dsn := "postgres://etl@example.invalid:5439/dev?KeepAlivesIdle=60"
	cfg, err := driver.ParseConfig(dsn)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{}) // keep redshift-ka's
	// conn, err := pgx.ConnectConfig(ctx, cfg)

	connector, err := driver.NewConnector(dsn, driver.WithPgxOptions(
		stdlib.OptionBeforeConnect(func(_ context.Context, cfg *pgx.ConnConfig) error {
			cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{})
			return nil
		})))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
}

// Without pgx's tracer, add the event where the error is handled.
func ExampleAddLostEvent() {
	ctx := context.Background() // the job's context, which carries its span
	db, err := sql.Open("redshift-ka", "postgres://etl@example.invalid:5439/dev?KeepAlivesIdle=60")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "UNLOAD ('SELECT * FROM sales') TO 's3://bucket/sales_'")
	otelka.AddLostEvent(ctx, err)
}
