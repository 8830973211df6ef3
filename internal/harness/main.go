//go:build linux

package harness

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs a test binary's tests (pass m.Run) and returns the exit code
// for os.Exit. First it sweeps what earlier runs that died (a -timeout
// panic, a kill) left behind: see [SweepStale]. An interrupt (Ctrl-C, or
// SIGTERM from a CI timeout) deletes the network namespaces first and exits
// 130; the PostgreSQL servers die with the process. With leakWait > 0, a
// run that passed fails if a goroutine of the drivers or of database/sql is
// still there after leakWait.
func Main(run func() int, leakWait time.Duration) int {
	SweepStale()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "harness: %v: deleting network namespaces\n", s)
		_ = CloseAll()
		os.Exit(130)
	}()
	code := run()
	signal.Stop(sig)
	close(sig)
	if code == 0 && leakWait > 0 {
		if left := LeftGoroutines(leakWait); left != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind after the tests:\n\n%s\n", left)
			code = 1
		}
	}
	return code
}
