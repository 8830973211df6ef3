package settings

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// greeter accepts connections, writes "hi" on each and then keeps them
// open and silent until the test ends.
func greeter(t *testing.T) string { return listenGreeting(t, []byte("hi")) }

// TestHealthKeepAliveAnswered: on a silent connection with keep-alive idle
// 1 s, TCP_INFO shows the silence (data received long ago) and the answered
// probes (an acknowledgement within the idle time, no probe pending).
func TestHealthKeepAliveAnswered(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_INFO is Linux's")
	}
	d, err := dialer.New(dsnparse.Config{Idle: time.Second, Interval: time.Second, Count: 3}, nil)
	require.NoError(t, err)
	c, err := d.DialContext(t.Context(), "tcp", greeter(t))
	require.NoError(t, err)
	defer c.Close()
	buf := make([]byte, 2)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)

	h, err := Health(c)
	require.NoError(t, err)
	assert.Equal(t, "ESTABLISHED", h.State)
	assert.Less(t, h.SinceDataReceived, 500*time.Millisecond)
	assert.Positive(t, h.RTT, "the handshake gave a round-trip sample")

	const silent = 2500 * time.Millisecond
	time.Sleep(silent)
	h, err = Health(c)
	require.NoError(t, err)
	t.Logf("after %s of silence: %+v", silent, h)
	assert.GreaterOrEqual(t, h.SinceDataReceived, silent)
	assert.LessOrEqual(t, h.SinceAckReceived, time.Second+300*time.Millisecond, "keep-alive probes every 1 s are answered")
	assert.Zero(t, h.Probes)
	assert.Zero(t, h.Retransmits)
	assert.Zero(t, h.Unacked)
}

// TestHealthConnKinds: Health reads a redshift-ka connection, under TLS or
// not, and refuses what redshift-ka did not dial.
func TestHealthConnKinds(t *testing.T) {
	addr := greeter(t)
	plain, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer plain.Close()
	ours := dial(t, dsnparse.Config{})

	sock := filepath.Join(t.TempDir(), "s")
	ul, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ul.Close()
	unixConn, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer unixConn.Close()

	for _, tc := range []struct {
		name string
		conn net.Conn
	}{
		{"*dialer.Conn", ours},
		{"*tls.Conn over *dialer.Conn", tls.Client(ours, &tls.Config{InsecureSkipVerify: true})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Health(tc.conn)
			if runtime.GOOS != "linux" {
				assert.ErrorIs(t, err, errors.ErrUnsupported)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "ESTABLISHED", h.State)
		})
	}
	for _, tc := range []struct {
		name string
		conn net.Conn
		typ  string
	}{
		{"unix socket", unixConn, "*net.UnixConn"},
		{"TCP, not redshift-ka's", plain, "*net.TCPConn"},
		{"TLS over TCP, not redshift-ka's", tls.Client(plain, &tls.Config{InsecureSkipVerify: true}), "*net.TCPConn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Health(tc.conn)
			assert.ErrorIs(t, err, ErrNotRedshiftKA)
			assert.Contains(t, err.Error(), tc.typ)
		})
	}
	t.Run("nil", func(t *testing.T) {
		_, err := Health(nil)
		assert.ErrorIs(t, err, ErrNotRedshiftKA)
		assert.ErrorContains(t, err, "got <nil>")
	})
	t.Run("closed", func(t *testing.T) {
		c := dial(t, dsnparse.Config{})
		c.Close()
		_, err = Health(c)
		if runtime.GOOS != "linux" {
			assert.ErrorIs(t, err, errors.ErrUnsupported)
			return
		}
		assert.ErrorIs(t, err, net.ErrClosed, "redshift-ka's connection, closed: the socket is gone")
		assert.ErrorContains(t, err, "redshift-ka: read TCP_INFO: ")
	})
}
