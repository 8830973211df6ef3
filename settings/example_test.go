package settings_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"time"

	_ "github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/settings"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// What the kernel holds on a connection's socket, and where each value came
// from. It needs a server, so it is compiled but not run.
func ExampleRead() {
	db, err := sql.Open("redshift-ka",
		"postgres://etl:secret@warehouse.example.com:5439/dev?sslmode=require&KeepAlivesIdle=200&KeepAlivesCount=5")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	report, err := settings.Read(conn)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)              // keep-alive on (redshift-ka default), idle 3m20s (DSN key KeepAlivesIdle), ...
	fmt.Println(report.DeadAfter())  // how soon a dead path is noticed
	fmt.Println(report.IntervalFrom) // the OS's: the DSN left the interval out
}

// What a DSN would put on a socket, without dialing: the DSN's values, the
// OS's for the rest (here Linux's defaults; sysfallback.Read gives this
// machine's).
func ExampleResolve() {
	dsn, err := dsnparse.Parse("Server=warehouse.example.com;Database=dev;UID=etl;PWD=secret;KeepAlivesIdle=200;KeepAlivesCount=5")
	if err != nil {
		log.Fatal(err)
	}
	linux := sysfallback.Values{
		Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9,
		IdleFrom: "sysctl net.ipv4.tcp_keepalive_time", IntervalFrom: "sysctl net.ipv4.tcp_keepalive_intvl", CountFrom: "sysctl net.ipv4.tcp_keepalive_probes",
	}
	report := settings.Resolve(dsn.Config, linux)
	fmt.Println(report.Idle, report.IdleFrom)
	fmt.Println(report.Interval, report.IntervalFrom)
	fmt.Println(report.Count, report.CountFrom)
	fmt.Println("dead after", report.DeadAfter())
	// Output:
	// 3m20s DSN key KeepAlivesIdle
	// 1m15s OS sysctl net.ipv4.tcp_keepalive_intvl
	// 5 DSN key KeepAlivesCount
	// dead after 9m35s
}
