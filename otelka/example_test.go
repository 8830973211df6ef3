package otelka_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	_ "github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/otelka"
)

// Observe the connections and the pool of a database with an SDK reader;
// a program would give a Prometheus or OTLP exporter's reader instead.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	stop, err := otelka.Start(otelka.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	db, err := sql.Open("redshift-ka", "postgres://etl@example.invalid:5439/dev?KeepAlivesIdle=60")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	stopDB, err := otelka.ObserveDB(db, "etl", otelka.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer stopDB()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Println(m.Name)
		}
	}
	// Output:
	// db.client.connection.count
	// db.client.connection.max
	// redshift_ka.pool.waits
	// redshift_ka.pool.wait_time
	// redshift_ka.pool.closed
}
