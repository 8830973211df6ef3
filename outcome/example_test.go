package outcome_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/redshift-ka/redshift-ka/dialer"
	_ "github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// After a lost connection, ask the server whether the COPY finished
// before running it again, waiting up to an hour while it runs.
func ExampleOf() {
	ctx := context.Background()
	db, err := sql.Open("redshift-ka", "host=etl.abc123.eu-west-1.redshift.amazonaws.com port=5439 dbname=dev user=etl KeepAlivesIdle=200")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	const copySQL = "COPY sales FROM 's3://bucket/sales/' IAM_ROLE default FORMAT CSV"
	_, err = db.ExecContext(ctx, copySQL)
	if !errors.Is(err, dialer.ErrConnectionLost) {
		return // done, or failed on the server with err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	st, err := outcome.Of(wctx, db, err, copySQL, true)
	if err != nil {
		fmt.Println("cannot ask the server:", err)
		return
	}
	fmt.Println(st) // the statement finished on the server at 12:04:31 UTC with success (1,234,567 rows)
	if st.State == outcome.Finished && st.Result == "success" {
		return // do not load the rows twice
	}
}
