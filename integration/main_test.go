//go:build linux

package integration

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
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
		_ = CloseAll()
		os.Exit(130)
	}()
	code := m.Run()
	signal.Stop(sig)
	close(sig)
	if code == 0 {
		// pgx closes a broken connection in the background and waits up to
		// 15 s for the server to hang up (PgConn.asyncClose); a connection
		// whose path was cut never hears it, so give that time.
		if left := leftGoroutines(20 * time.Second); left != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind after the tests:\n\n%s\n", left)
			code = 1
		}
	}
	os.Exit(code)
}

// leftGoroutines waits up to wait for goroutines that run code of pgx,
// lib/pq, database/sql or redshift-ka to end, and returns the stacks of
// those that do not.
func leftGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "integration.TestMain") || strings.Contains(g, "leftGoroutines") {
				continue
			}
			for _, mark := range []string{"github.com/jackc/", "github.com/lib/pq", "database/sql.", "redshift-ka/redshift-ka/"} {
				if strings.Contains(g, mark) {
					left = append(left, g)
					break
				}
			}
		}
		if len(left) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
