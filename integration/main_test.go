//go:build linux

// Package integration proves redshift-ka against real parts: a real
// PostgreSQL server, real kernel sockets, and network namespaces with a
// kernel firewall (nftables) between client and server. It holds only
// tests; the harness they run on is internal/harness, and the
// demonstration is the program in integration/demo.
package integration

import (
	"os"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestMain fails the run if a goroutine of the drivers or of database/sql
// is left behind once every test has cleaned up, and deletes the network
// namespaces on an interrupt. pgx closes a broken connection in the
// background and waits up to 15 s for the server to hang up
// (PgConn.asyncClose); a connection whose path was cut never hears it, so
// the check gives that time.
func TestMain(m *testing.M) { os.Exit(harness.Main(m.Run, 20*time.Second)) }
