//go:build linux

package recipes_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// ent on redshift-ka's *sql.DB: entsql.OpenDB makes the driver a generated
// client takes (ent.NewClient(ent.Driver(drv))); here ent's query builder
// uses it without code generation.
func Example_ent() {
	ctx := context.Background()
	db, err := sql.Open("redshift-ka", os.Getenv("REDSHIFTKA_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	drv := entsql.OpenDB(dialect.Postgres, db) // drv.Close would close db

	if err := drv.Exec(ctx, `CREATE TABLE ent_loads (id bigint, name varchar(64), row_count bigint)`, []any{}, nil); err != nil {
		log.Fatal(err)
	}
	defer drv.Exec(ctx, `DROP TABLE ent_loads`, []any{}, nil)

	b := entsql.Dialect(dialect.Postgres)
	query, args := b.Insert("ent_loads").Columns("id", "name", "row_count").
		Values(1, "orders", 1200).Values(2, "events", 35).Values(3, "clicks", 98000).Query()
	fmt.Println(query)
	if err := drv.Exec(ctx, query, args, nil); err != nil {
		log.Fatal(err)
	}

	t := entsql.Table("ent_loads")
	query, args = b.Select(t.C("name")).From(t).Where(entsql.GT(t.C("row_count"), 100)).OrderBy(t.C("id")).Query()
	fmt.Println(query)
	var rows entsql.Rows
	if err := drv.Query(ctx, query, args, &rows); err != nil {
		log.Fatal(err)
	}
	var names []string
	if err := entsql.ScanSlice(rows, &names); err != nil {
		log.Fatal(err)
	}
	rows.Close()
	fmt.Println(names)
	// Output:
	// INSERT INTO "ent_loads" ("id", "name", "row_count") VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)
	// SELECT "ent_loads"."name" FROM "ent_loads" WHERE "ent_loads"."row_count" > $1 ORDER BY "ent_loads"."id"
	// [orders clicks]
}
