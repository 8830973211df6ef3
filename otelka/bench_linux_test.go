package otelka_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/otelka"
)

// BenchmarkQuery is a query's cost without otelka, and with it started
// and a reader attached, on one connection observed from its dial.
func BenchmarkQuery(b *testing.B) {
	pg := harness.StartPostgresT(b, harness.PostgresOptions{})
	for _, on := range []bool{false, true} {
		name := "otel=off"
		if on {
			name = "otel=on"
		}
		b.Run(name, func(b *testing.B) {
			if on {
				started(b)
			}
			db := open(b, pg)
			db.SetMaxOpenConns(1)
			ctx := context.Background()
			var one int
			require.NoError(b, db.QueryRowContext(ctx, "SELECT 1").Scan(&one))
			for b.Loop() {
				if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCollect is one collection with 100 open connections; ns/conn
// is its cost per connection.
func BenchmarkCollect(b *testing.B) {
	const n = 100
	pg := harness.StartPostgresT(b, harness.PostgresOptions{})
	r := started(b)
	db := open(b, pg)
	ctx := context.Background()
	for range n {
		c, err := db.Conn(ctx)
		require.NoError(b, err)
		b.Cleanup(func() { c.Close() })
	}
	var rm metricdata.ResourceMetrics
	for b.Loop() {
		if err := r.Collect(ctx, &rm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/conn")
}

// BenchmarkQueryTracer is a pgx query's cost with redshift-ka's
// configuration as it is, and with otelka's Tracer added to it, in a
// recording span.
func BenchmarkQueryTracer(b *testing.B) {
	pg := harness.StartPostgresT(b, harness.PostgresOptions{})
	tr, _ := recorder(b, true)
	ctx, span := tr.Start(context.Background(), "job")
	defer span.End()
	for _, with := range []bool{false, true} {
		name := "tracer=redshift-ka"
		if with {
			name = "tracer=redshift-ka+otelka"
		}
		b.Run(name, func(b *testing.B) {
			cfg, err := driver.ParseConfig(pg.URL(""))
			require.NoError(b, err)
			if with {
				cfg.Tracer = multitracer.New(cfg.Tracer, otelka.Tracer{})
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(b, err)
			b.Cleanup(func() { conn.Close(context.Background()) })
			var one int
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
