package pq_test

import (
	"database/sql"
	"log"

	_ "github.com/redshift-ka/redshift-ka/driver/pq"
)

// lib/pq underneath instead of pgx: the same keys and DSN forms.
//
// It needs a server, so it is compiled but not run.
func Example() {
	db, err := sql.Open("redshift-ka-pq",
		"Driver={Amazon Redshift (x64)};Server=warehouse.example.com;Database=dev;UID=etl;PWD=secret;KeepAlivesIdle=200")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
}
