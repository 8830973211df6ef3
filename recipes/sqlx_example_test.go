//go:build linux

package recipes_test

import (
	"fmt"
	"log"
	"os"

	"github.com/jmoiron/sqlx"

	_ "github.com/redshift-ka/redshift-ka/driver"
)

type load struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	RowCount int64  `db:"row_count"`
}

// sqlx with redshift-ka: register the driver name's placeholder style
// once, then Rebind, NamedExec and Select work as with pgx.
func Example_sqlx() {
	sqlx.BindDriver("redshift-ka", sqlx.DOLLAR)
	db, err := sqlx.Connect("redshift-ka", os.Getenv("REDSHIFTKA_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	db.MustExec(`CREATE TABLE sqlx_loads (id bigint, name varchar(64), row_count bigint)`)
	defer db.MustExec(`DROP TABLE sqlx_loads`)
	_, err = db.NamedExec(`INSERT INTO sqlx_loads (id, name, row_count) VALUES (:id, :name, :row_count)`,
		[]load{{1, "orders", 1200}, {2, "events", 35}, {3, "clicks", 98000}})
	if err != nil {
		log.Fatal(err)
	}

	query := db.Rebind(`SELECT id, name, row_count FROM sqlx_loads WHERE row_count > ? ORDER BY id`)
	fmt.Println(query)
	var loads []load
	if err := db.Select(&loads, query, 100); err != nil {
		log.Fatal(err)
	}
	for _, l := range loads {
		fmt.Println(l.ID, l.Name, l.RowCount)
	}
	// Output:
	// SELECT id, name, row_count FROM sqlx_loads WHERE row_count > $1 ORDER BY id
	// 1 orders 1200
	// 3 clicks 98000
}
