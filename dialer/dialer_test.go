package dialer

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/serverpid"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
	"github.com/redshift-ka/redshift-ka/sysfallback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeepAliveConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  dsnparse.Config
		want net.KeepAliveConfig
	}{
		{"zero value: all from the OS", dsnparse.Config{}, net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}},
		{"all set", dsnparse.Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}, net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}},
		{"idle only", dsnparse.Config{Idle: 200 * time.Second}, net.KeepAliveConfig{Enable: true, Idle: 200 * time.Second, Interval: -1, Count: -1}},
		{"count only", dsnparse.Config{Count: 5}, net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: 5}},
		{"off", dsnparse.Config{NoKeepAlive: true, Idle: time.Second}, net.KeepAliveConfig{Enable: false, Idle: -1, Interval: -1, Count: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, keepAliveConfig(tc.cfg))
		})
	}
}

// listen starts a loopback listener that accepts and holds connections
// until the test ends.
func listen(t *testing.T) string { return listenGreeting(t, nil) }

// listenGreeting is listen that writes greeting on each connection first.
func listenGreeting(t *testing.T, greeting []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if greeting != nil {
				c.Write(greeting)
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the listener's accept loop did not end within 10 s of Close")
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, cfg dsnparse.Config) *Conn {
	t.Helper()
	d, err := New(cfg, nil)
	require.NoError(t, err)
	c, err := d.DialContext(context.Background(), "tcp", listen(t))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c.(*Conn)
}

// TestDialSetsKernelOptions dials real sockets and reads the options back
// from the kernel.
func TestDialSetsKernelOptions(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux socket options")
	}
	osv, err := sysfallback.Read()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		cfg  dsnparse.Config
		want Observed
	}{
		{"all set", dsnparse.Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 2500 * time.Millisecond},
			Observed{KeepAlive: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 2500 * time.Millisecond}},
		{"zero value takes the OS values", dsnparse.Config{},
			Observed{KeepAlive: true, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count}},
		{"mixed", dsnparse.Config{Interval: 11 * time.Second},
			Observed{KeepAlive: true, Idle: osv.Idle, Interval: 11 * time.Second, Count: osv.Count}},
		{"off", dsnparse.Config{NoKeepAlive: true},
			Observed{KeepAlive: false, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count}},
		{"maxima", dsnparse.Config{Idle: 32767 * time.Second, Interval: 32767 * time.Second, Count: 127},
			Observed{KeepAlive: true, Idle: 32767 * time.Second, Interval: 32767 * time.Second, Count: 127}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, tc.cfg)
			got, err := observe(c.TCPConn)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.cfg, c.Config())
		})
	}
}

func TestUnixSocketIsDialedAsIs(t *testing.T) {
	path := t.TempDir() + "/s"
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	d, err := New(dsnparse.Config{Idle: time.Second, UserTimeout: time.Second}, nil)
	require.NoError(t, err)
	c, err := d.DialContext(context.Background(), "unix", path)
	require.NoError(t, err)
	defer c.Close()
	_, isOurs := c.(*Conn)
	assert.False(t, isOurs)
}

func TestDialErrorIsReturned(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	d, err := New(dsnparse.Config{}, nil)
	require.NoError(t, err)
	_, err = d.DialContext(context.Background(), "tcp", addr)
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
}

func TestDeadAfter(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		o    Observed
		want time.Duration
	}{
		{"off", Observed{Idle: s, Interval: s, Count: 3}, 0},
		{"idle + interval x count", Observed{KeepAlive: true, Idle: 200 * s, Interval: 20 * s, Count: 5}, 300 * s},
		{"Linux defaults", Observed{KeepAlive: true, Idle: 7200 * s, Interval: 75 * s, Count: 9}, 7875 * s},
		{"user timeout past the probes", Observed{KeepAlive: true, Idle: s, Interval: s, Count: 3, UserTimeout: 6 * s}, 6 * s},
		{"user timeout between ticks", Observed{KeepAlive: true, Idle: s, Interval: 2 * s, Count: 3, UserTimeout: 5500 * time.Millisecond}, 7 * s},
		{"user timeout under idle: one probe", Observed{KeepAlive: true, Idle: 10 * s, Interval: 2 * s, Count: 3, UserTimeout: s}, 12 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if tc.o.UserTimeout > 0 && !sockopt.UserTimeoutSupported {
				want = tc.o.Idle + time.Duration(tc.o.Count)*tc.o.Interval
			}
			assert.Equal(t, want, tc.o.DeadAfter())
		})
	}
}

// TestCopyGoesThroughConn: io.Copy from and to a Conn uses its Read and
// Write (and so its lost-connection error), not the embedded socket's.
func TestCopyGoesThroughConn(t *testing.T) {
	c := dial(t, dsnparse.Config{})
	c.lost.err.Store(&ConnLostError{Addr: "x", Cause: "test"})
	_, err := io.Copy(io.Discard, c)
	assert.ErrorIs(t, err, ErrConnectionLost)
	_, err = io.Copy(c, strings.NewReader("data"))
	assert.ErrorIs(t, err, ErrConnectionLost)
}

// TestConnLostError: every report is the same ConnLostError inside a
// *net.OpError, never a timeout, and a lost connection's address is one
// the dialer refuses.
func TestConnLostError(t *testing.T) {
	lost := &ConnLostError{Addr: "198.51.100.1:5432", Cause: "3 keep-alive probes went unanswered",
		Settings: Observed{KeepAlive: true, Idle: time.Second, Interval: time.Second, Count: 3}, ServerPID: 42}
	assert.Equal(t, "redshift-ka: connection to 198.51.100.1:5432 lost: 3 keep-alive probes went unanswered "+
		"(keep-alive idle 1s, interval 1s, count 3); the statement may have finished on the server: look for "+
		"server process id 42 (pg_stat_activity, or SYS_QUERY_HISTORY on Redshift; outcome.Of looks)", lost.Error())
	assert.ErrorIs(t, lost, ErrConnectionLost)
	assert.ErrorIs(t, lost, syscall.ETIMEDOUT)
	var ne net.Error
	assert.False(t, errors.As(error(lost), &ne), "not a net.Error by itself")

	d, err := New(dsnparse.Config{}, nil)
	require.NoError(t, err)
	c := dial(t, dsnparse.Config{})
	assert.NoError(t, c.Lost())
	addr := c.RemoteAddr()
	assert.Equal(t, "tcp", addr.Network())
	c.lost.err.Store(lost)
	var op *net.OpError
	var got *ConnLostError
	for i := range 3 {
		_, err := c.Read(make([]byte, 1))
		require.ErrorAs(t, err, &op, "lib/pq marks a connection bad on *net.OpError")
		assert.False(t, op.Timeout(), "report %d is a timeout", i+1)
		assert.False(t, op.Temporary(), "report %d is temporary: crypto/tls would not keep it", i+1)
		require.ErrorAs(t, err, &got)
		assert.Same(t, lost, got)
	}
	_, err = c.Write(make([]byte, 1))
	require.ErrorAs(t, err, &got)
	assert.Same(t, lost, c.Lost())

	// pgx dials RemoteAddr to cancel a dropped connection's statement.
	lostAddr := c.RemoteAddr()
	assert.Equal(t, LostNetwork, lostAddr.Network())
	assert.Equal(t, addr.String(), lostAddr.String())
	_, err = d.DialContext(context.Background(), lostAddr.Network(), lostAddr.String())
	assert.ErrorIs(t, err, ErrNoCancel)
	// A reconnect dials the configuration's network and passes.
	again, err := d.DialContext(context.Background(), addr.Network(), addr.String())
	require.NoError(t, err)
	again.Close()
}

// TestServerPIDIsNamed: the backends' serverpid.Set reaches the connection,
// under TLS too, and its lost-connection error names the session.
func TestServerPIDIsNamed(t *testing.T) {
	c := dial(t, dsnparse.Config{})
	serverpid.Set(tls.Client(c, &tls.Config{}), serverpid.Session{PID: 4242})
	assert.EqualValues(t, 4242, c.lost.pid.Load())
	serverpid.Set(c, serverpid.Session{PID: 42})
	assert.EqualValues(t, 42, c.lost.pid.Load())
}
