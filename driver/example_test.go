package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/settings"
)

// The common use: open by name with the DSN you already have, keep-alive
// keys included.
//
// It needs a server, so it is compiled but not run.
func Example() {
	db, err := sql.Open("redshift-ka",
		"postgres://etl:secret@warehouse.example.com:5439/dev?sslmode=require&KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5")
	if err != nil {
		log.Fatal(err) // a bad key fails here, before any dial
	}
	defer db.Close()

	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	report, err := settings.Read(conn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report) // what the kernel holds on the socket, and why
	if _, err := conn.ExecContext(ctx, "COPY sales FROM 's3://bucket/sales' IAM_ROLE default"); err != nil {
		log.Fatal(err)
	}
}

// A connector, for options such as a logger of each dial.
//
// It needs a server, so it is compiled but not run.
func ExampleNewConnector() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := driver.NewConnector(
		"host=warehouse.example.com port=5439 dbname=dev user=etl keepalives_idle=200",
		driver.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
}

// An odbc.ini data source, read from $ODBCINI, ~/.odbc.ini or
// /etc/odbc.ini; keys in the string override the file's.
//
// It needs a server, so it is compiled but not run.
func Example_odbcDataSource() {
	db, err := sql.Open("redshift-ka", "DSN=Redshift;KeepAlivesIdle=120")
	if err != nil {
		log.Fatal(err) // names the files searched if there is no [Redshift]
	}
	defer db.Close()
}

// pgx without database/sql.
//
// It needs a server, so it is compiled but not run.
func ExampleParseConfig() {
	cfg, err := driver.ParseConfig("postgres://etl@warehouse.example.com:5439/dev?KeepAlivesIdle=200")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	report, err := settings.ReadPgx(conn.PgConn())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)
}

// pgxpool: every pooled connection's socket carries the settings.
//
// It needs a server, so it is compiled but not run.
func ExampleParsePoolConfig() {
	cfg, err := driver.ParsePoolConfig("postgres://etl@warehouse.example.com:5439/dev?pool_max_conns=8&KeepAlivesIdle=200")
	if err != nil {
		log.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
}
