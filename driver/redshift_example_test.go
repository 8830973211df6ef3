package driver_test

import (
	"context"
	"log"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/redshift-ka/redshift-ka/driver"
)

// A tracer of your own goes next to redshift-ka's, which keeps Amazon
// Redshift's NUMERIC read as text; put in its place, connecting to
// Redshift fails with ErrNoRedshiftTracer.
//
// It needs a server, so it is compiled but not run.
func ExampleParseConfig_tracer() {
	cfg, err := driver.ParseConfig("postgres://etl@warehouse.example.com:5439/dev?KeepAlivesIdle=200")
	if err != nil {
		log.Fatal(err)
	}
	mine := &tracelog.TraceLog{Logger: tracelog.LoggerFunc(func(ctx context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
		log.Println(msg, data)
	}), LogLevel: tracelog.LogLevelInfo}
	cfg.Tracer = multitracer.New(cfg.Tracer, mine)
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(context.Background())
}
