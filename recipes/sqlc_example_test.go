//go:build linux

package recipes_test

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/recipes/sqlc/loads"
	"github.com/redshift-ka/redshift-ka/recipes/sqlc/loadspgx"
)

//go:embed sqlc/schema.sql
var sqlcSchema string

// sqlc's database/sql code (sqlc/loads) takes redshift-ka's *sql.DB as it
// is. The queries avoid INSERT ... RETURNING, which Redshift refuses.
func Example_sqlc() {
	ctx := context.Background()
	db, err := sql.Open("redshift-ka", os.Getenv("REDSHIFTKA_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, sqlcSchema); err != nil {
		log.Fatal(err)
	}
	defer db.ExecContext(ctx, `DROP TABLE sqlc_loads`)

	q := loads.New(db)
	for _, l := range []loads.CreateLoadParams{{ID: 1, Name: "orders", RowCount: 1200}, {ID: 2, Name: "events", RowCount: 35}} {
		if err := q.CreateLoad(ctx, l); err != nil {
			log.Fatal(err)
		}
	}
	l, err := q.GetLoad(ctx, 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Name, l.RowCount)
	deleted, err := q.DeleteLoads(ctx, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", deleted)
	// Output:
	// events 35
	// deleted 1
}

// sqlc's pgx/v5 code (sqlc/loadspgx) takes a pgxpool built from
// redshift-ka's pool configuration, every pooled socket with the DSN's
// keep-alive settings.
func Example_sqlcPgx() {
	ctx := context.Background()
	cfg, err := driver.ParsePoolConfig(os.Getenv("REDSHIFTKA_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, sqlcSchema); err != nil {
		log.Fatal(err)
	}
	defer pool.Exec(ctx, `DROP TABLE sqlc_loads`)

	q := loadspgx.New(pool)
	for _, l := range []loadspgx.CreateLoadParams{{ID: 1, Name: "orders", RowCount: 1200}, {ID: 2, Name: "events", RowCount: 35}, {ID: 3, Name: "clicks", RowCount: 98000}} {
		if err := q.CreateLoad(ctx, l); err != nil {
			log.Fatal(err)
		}
	}
	big, err := q.ListLoads(ctx, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range big {
		fmt.Println(l.ID, l.Name, l.RowCount)
	}
	// Output:
	// 1 orders 1200
	// 3 clicks 98000
}
