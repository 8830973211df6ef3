//go:build linux

package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/redshift-ka/redshift-ka/driver"
)

// numeric1000 is a 1 000-row result of two NUMERIC columns.
const numeric1000 = "SELECT (g * 1.01)::numeric(12,2), (g * 3.14159)::numeric(38,10) FROM generate_series(1, 1000) AS g"

// readNumeric1000 reads numeric1000 on conn, every value into
// pgtype.Numeric.
func readNumeric1000(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, numeric1000)
	if err != nil {
		return err
	}
	defer rows.Close()
	var a, b pgtype.Numeric
	got := 0
	for rows.Next() {
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != 1000 {
		return fmt.Errorf("got %d rows, want 1000", got)
	}
	return nil
}

// BenchmarkNumeric: a NUMERIC-heavy result on PostgreSQL through pgx's own
// API, with pgx's configuration and with redshift-ka's (whose tracer
// switches Redshift connections to text and leaves PostgreSQL's binary
// NUMERIC alone): op=numeric1000 side by side (see runPaired), and
// driver=... each alone, for benchstat.
func BenchmarkNumeric(b *testing.B) {
	pg := benchPostgres(b)
	ctx := context.Background()
	connect := func(b *testing.B, ours bool) *pgx.Conn {
		cfg, err := pgx.ParseConfig(pg.URL(""))
		if ours {
			cfg, err = driver.ParseConfig(pg.URL(benchKA))
		}
		if err != nil {
			b.Fatal(err)
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close(ctx) })
		if err := readNumeric1000(ctx, conn); err != nil { // warm: the statement cache
			b.Fatal(err)
		}
		return conn
	}
	columns := []struct {
		name string
		ours bool
	}{{"pgx", false}, {"redshift-ka", true}}
	for _, c := range rotated(columns) {
		b.Run("driver="+c.name, func(b *testing.B) {
			conn := connect(b, c.ours)
			b.ReportAllocs()
			for b.Loop() {
				if err := readNumeric1000(ctx, conn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("op=numeric1000", func(b *testing.B) {
		var ops []pairedOp
		for _, c := range columns {
			conn := connect(b, c.ours)
			ops = append(ops, pairedOp{c.name, func() error { return readNumeric1000(ctx, conn) }})
		}
		runPaired(b, ops)
	})
}
