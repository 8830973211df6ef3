package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/redshift-ka/redshift-ka/iam" // DSNs with IAM=1 log in through AWS IAM
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	done := make(chan int, 1)
	go func() { done <- run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv) }()
	select {
	case code := <-done:
		os.Exit(code)
	case <-ctx.Done():
	}
	// After the first Ctrl-C or SIGTERM, a second one ends the process at
	// once, without waiting for the server to confirm the cancel.
	stop()
	// run ends promptly on an interrupt at every stage (the last push of
	// metrics included); should anything hold it up (a read from a
	// device, say), the process ends anyway.
	select {
	case code := <-done:
		os.Exit(code)
	case <-time.After(cancelWait + metricsFlushWait + 2*time.Second):
		fmt.Fprintln(os.Stderr, "redshift-ka: interrupted")
		os.Exit(exitInterrupted)
	}
}
