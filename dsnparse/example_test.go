package dsnparse_test

import (
	"fmt"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

func ExampleParse() {
	d, err := dsnparse.Parse("Driver={Amazon Redshift (x64)};Server=warehouse.example.com;Database=dev;UID=etl;PWD={se;cret};KeepAlivesIdle=200;KeepAliveCount=5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Form, d.Config.Idle, d.Config.Count, d.Config.Ignored)
	fmt.Println(d.Rest)
	// Output:
	// ODBC 3m20s 5 [Driver]
	// host=warehouse.example.com dbname=dev user=etl password='se;cret' port=5439
}

func ExampleParse_error() {
	_, err := dsnparse.Parse("postgres://etl:secret@warehouse.example.com:5439/dev?KeepAlivesIdle=abc")
	fmt.Println(err)
	// Output:
	// redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "abc"
}
