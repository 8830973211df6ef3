package otelka_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	_ "github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/otelka"
)

// Serve the metrics to Prometheus: the exporter is the MeterProvider's
// reader, and its registry's handler is what Prometheus scrapes (here
// read once with httptest; a program serves it at /metrics).
func Example_prometheus() {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
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
	db.SetMaxOpenConns(4)
	stopDB, err := otelka.ObserveDB(db, "etl", otelka.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer stopDB()

	// http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "db_client_") || strings.HasPrefix(line, "redshift_ka_") {
			fmt.Println(line)
		}
	}
	// Output:
	// db_client_connection_count{db_client_connection_pool_name="etl",db_client_connection_state="idle"} 0
	// db_client_connection_count{db_client_connection_pool_name="etl",db_client_connection_state="used"} 0
	// db_client_connection_max{db_client_connection_pool_name="etl"} 4
	// redshift_ka_pool_closed_total{db_client_connection_pool_name="etl",redshift_ka_pool_close_reason="max_idle"} 0
	// redshift_ka_pool_closed_total{db_client_connection_pool_name="etl",redshift_ka_pool_close_reason="max_idle_time"} 0
	// redshift_ka_pool_closed_total{db_client_connection_pool_name="etl",redshift_ka_pool_close_reason="max_lifetime"} 0
	// redshift_ka_pool_wait_time_seconds_total{db_client_connection_pool_name="etl"} 0
	// redshift_ka_pool_waits_total{db_client_connection_pool_name="etl"} 0
}
