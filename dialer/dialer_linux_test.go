package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// need skips the test with reason unless ok, or fails it when env CI is
// "true" or REDSHIFTKA_STRICT is "1", so that CI cannot pass by skipping
// (as harness.Need does).
func need(t *testing.T, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" || os.Getenv("REDSHIFTKA_STRICT") == "1" {
		t.Fatalf("required for CI: %s", reason)
	}
	t.Skip(reason)
}

// goDefaults is what Go's dialer sets when asked for nothing: 15 s, 15 s, 9.
var goDefaults = Observed{KeepAlive: true, Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}

// inFreshNetns runs fn on an OS thread moved into a new network namespace
// whose loopback is up and whose keep-alive sysctls are set to sysctls
// (name under /proc/sys/net/ipv4 -> value). Sockets fn makes, and the
// sysctls it reads, are the namespace's. The thread is never given back to
// the Go runtime: it ends with fn's goroutine. Needs root.
func inFreshNetns(t *testing.T, sysctls map[string]string, fn func() error) {
	t.Helper()
	need(t, os.Geteuid() == 0, "needs root (a new network namespace)")
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		done <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("unshare CLONE_NEWNET: %w", err)
			}
			if err := loopbackUp(); err != nil {
				return err
			}
			for name, v := range sysctls {
				if err := os.WriteFile(filepath.Join("/proc/sys/net/ipv4", name), []byte(v), 0); err != nil {
					return fmt.Errorf("sysctl %s: %w", name, err)
				}
			}
			return fn()
		}()
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the function in a fresh network namespace did not return within a minute")
	}
}

// loopbackUp brings "lo" up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// TestGoDefaultsAreNotUsed: in a network namespace whose keep-alive sysctls
// (1234 s, 56 s, 7) differ from Go's defaults (15 s, 15 s, 9) in all three,
// a plain net.Dialer gets Go's defaults and ours gets the namespace's
// values, idle, interval and count each, read back from the kernel.
func TestGoDefaultsAreNotUsed(t *testing.T) {
	var plain, ours Observed
	var osv sysfallback.Values
	inFreshNetns(t, map[string]string{
		"tcp_keepalive_time":   "1234",
		"tcp_keepalive_intvl":  "56",
		"tcp_keepalive_probes": "7",
	}, func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		if osv, err = sysfallback.Read(); err != nil {
			return err
		}
		pc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer pc.Close()
		if plain, err = observe(pc.(*net.TCPConn)); err != nil {
			return err
		}
		d, err := New(dsnparse.Config{}, nil)
		if err != nil {
			return err
		}
		oc, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer oc.Close()
		ours, err = observe(oc.(*Conn).TCPConn)
		return err
	})

	require.Equal(t, goDefaults, plain, "Go's defaults changed; the contrast below proves less")
	// The namespace's values are what we set, and differ from Go's in each
	// of the three, so equality below cannot come from Go.
	require.Equal(t, 1234*time.Second, osv.Idle)
	require.Equal(t, 56*time.Second, osv.Interval)
	require.Equal(t, 7, osv.Count)
	require.NotEqual(t, goDefaults.Idle, osv.Idle)
	require.NotEqual(t, goDefaults.Interval, osv.Interval)
	require.NotEqual(t, goDefaults.Count, osv.Count)

	assert.Equal(t, Observed{KeepAlive: true, Idle: osv.Idle, Interval: osv.Interval, Count: osv.Count}, ours,
		"a zero Config leaves the OS values (of the namespace) in force, never Go's")
}

// socketFDs lists this process's file descriptors that are sockets.
func socketFDs(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fds := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(link, "socket:") {
			fds[e.Name()+" "+link] = true
		}
	}
	return fds
}

// TestSocketOptionErrorsAreReturned: an option the kernel refuses (a count
// over Linux's 127) fails the dial with the kernel's error, and the socket
// is closed: the server sees the connection end at once, and the process
// holds no new socket.
func TestSocketOptionErrorsAreReturned(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()

	d, err := New(dsnparse.Config{Count: 500}, nil)
	require.NoError(t, err)
	before := socketFDs(t)
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	assert.Nil(t, c)
	require.ErrorIs(t, err, syscall.EINVAL)
	assert.Contains(t, err.Error(), "redshift-ka: set keep-alive options on the connection to 127.0.0.1:")

	// The connection was made, then closed: the server reads EOF, not
	// silence until the deadline.
	var server net.Conn
	select {
	case server = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the dial never reached the listener")
	}
	defer server.Close()
	require.NoError(t, server.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err = server.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the client socket was left open")
	assert.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the client socket was left open")

	var left []string
	for fd := range socketFDs(t) {
		if !before[fd] && !strings.HasPrefix(fd, fdOf(t, server)+" ") {
			left = append(left, fd)
		}
	}
	assert.Empty(t, left, "sockets the failed dial left open")
}

// fdOf returns the file descriptor number of c, as /proc/self/fd names it.
func fdOf(t *testing.T, c net.Conn) string {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	var fd uintptr
	require.NoError(t, rc.Control(func(f uintptr) { fd = f }))
	return fmt.Sprint(fd)
}

// TestLossKindAndTCP: a loss carries the cause the kernel's counts give
// and the TCP_INFO read when it was noticed.
func TestLossKindAndTCP(t *testing.T) {
	c := dial(t, dsnparse.Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4})
	err := c.check("read", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ETIMEDOUT)})
	var lost *ConnLostError
	require.ErrorAs(t, err, &lost)
	assert.Equal(t, "timeout", lost.Kind, "no probe, no data: the kernel's timeout, cause not told")
	require.NotNil(t, lost.TCP)
	assert.Equal(t, "ESTABLISHED", lost.TCP.State)
	assert.Positive(t, lost.TCP.RTT, "the handshake measured a round trip")
	assert.Zero(t, lost.TCP.Probes)
}

// TestLossCause: the kind of a loss, from what TCP_INFO counted and the
// options in force.
func TestLossCause(t *testing.T) {
	ut := Observed{KeepAlive: true, UserTimeout: 5 * time.Second}
	for _, tc := range []struct {
		name string
		info TCPSnapshot
		s    Observed
		want string
	}{
		{"probes unanswered", TCPSnapshot{State: "CLOSE", Probes: 3}, Observed{KeepAlive: true}, "keepalive_timeout"},
		{"probes with user timeout, no data", TCPSnapshot{State: "CLOSE", Probes: 2}, ut, "keepalive_timeout"},
		{"data pending, user timeout", TCPSnapshot{State: "CLOSE", Probes: 2, Pending: true}, ut, "user_timeout"},
		{"retransmits, user timeout", TCPSnapshot{State: "CLOSE", Retransmits: 4}, ut, "user_timeout"},
		{"retransmits, no user timeout", TCPSnapshot{State: "CLOSE", Retransmits: 15}, Observed{}, "retransmission_timeout"},
		{"nothing counted", TCPSnapshot{}, Observed{}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, lossCause(tc.info, tc.s))
		})
	}
}
