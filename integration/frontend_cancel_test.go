//go:build linux

package integration

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestFrontEndCancelStops: a cancel request the front end passes on to a
// server that never hangs up does not keep the front end from stopping.
func TestFrontEndCancelStops(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	silent, err := net.Listen("unix", filepath.Join(t.TempDir(), "silent.sock"))
	require.NoError(t, err)
	defer silent.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := silent.Accept()
		if err == nil {
			accepted <- c // held open, never answered
		}
	}()
	f := startFrontEnd(t, pg, frontEndOptions{})
	f.mu.Lock()
	f.upstream = silent.Addr().String()
	f.mu.Unlock()

	client, err := net.Dial("tcp", f.ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	buf, err := (&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}}).Encode(nil)
	require.NoError(t, err)
	_, err = client.Write(buf)
	require.NoError(t, err)
	var server net.Conn
	select {
	case server = <-accepted:
		defer server.Close()
	case <-time.After(frontEndCancelWait):
		t.Fatal("the front end did not pass the cancel request on")
	}

	stopped := make(chan struct{})
	go func() {
		f.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(frontEndCancelWait / 2):
		t.Fatal("stop waits on a cancel request the server never answered")
	}
}
