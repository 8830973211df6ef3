//go:build linux

// Package integration proves redshift-ka against real parts: a real
// PostgreSQL server, real kernel sockets, and network namespaces with a
// kernel firewall (nftables) between client and server. It holds only
// tests; the harness they run on is internal/harness, and the
// demonstration is the program in integration/demo.
package integration

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestMain fails the run if a goroutine of the drivers or of database/sql
// is left behind once every test has cleaned up.
//
// An interrupt (Ctrl-C, or SIGTERM from a CI timeout) deletes the network
// namespaces first; the PostgreSQL servers die with the process.
func TestMain(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "integration: %v: deleting network namespaces\n", s)
		_ = harness.CloseAll()
		os.Exit(130)
	}()
	code := m.Run()
	signal.Stop(sig)
	close(sig)
	if code == 0 {
		// pgx closes a broken connection in the background and waits up to
		// 15 s for the server to hang up (PgConn.asyncClose); a connection
		// whose path was cut never hears it, so give that time.
		if left := harness.LeftGoroutines(20 * time.Second); left != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind after the tests:\n\n%s\n", left)
			code = 1
		}
	}
	os.Exit(code)
}
