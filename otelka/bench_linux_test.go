package otelka_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/redshift-ka/redshift-ka/internal/harness"
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
