package driver

import (
	"context"
	"database/sql"
	"maps"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkTraceQueryStart: the tracer's work before a query on Redshift,
// with the args pgx's database/sql adapter passes.
func BenchmarkTraceQueryStart(b *testing.B) {
	s := startProtoServer(b, true)
	cfg, err := ParseConfig(s.URL())
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	ctx, tr := context.Background(), redshiftTracer{}
	formats := maps.Clone(sqlFormats)
	b.ReportAllocs()
	for b.Loop() {
		tr.TraceQueryStart(ctx, conn, pgx.TraceQueryStartData{SQL: "SELECT", Args: []any{formats, 7}})
	}
}

// BenchmarkTextResults: textResults on the args pgx's database/sql adapter
// passes.
func BenchmarkTextResults(b *testing.B) {
	formats := maps.Clone(sqlFormats)
	b.ReportAllocs()
	for b.Loop() {
		textResults([]any{formats, 7})
	}
}

// BenchmarkRedshiftSQLQuery: a database/sql query on Redshift (a loopback
// server), one INT4 and one DATE column.
func BenchmarkRedshiftSQLQuery(b *testing.B) {
	s := startProtoServer(b, true)
	c, err := NewConnector(s.URL())
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var n int32
	var d time.Time
	b.ReportAllocs()
	for b.Loop() {
		if err := db.QueryRow("SELECT n, d WHERE n = $1", 7).Scan(&n, &d); err != nil {
			b.Fatal(err)
		}
	}
}
