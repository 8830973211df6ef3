//go:build linux

package harness

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain deletes the network namespaces on an interrupt (Ctrl-C, or
// SIGTERM from a CI timeout); the PostgreSQL servers die with the process.
func TestMain(m *testing.M) {
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
	code := m.Run()
	signal.Stop(sig)
	close(sig)
	os.Exit(code)
}
