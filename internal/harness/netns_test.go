//go:build linux

package harness

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNetnsDoSeesOwnSysctl(t *testing.T) {
	const key, file = "net.ipv4.tcp_keepalive_time", "/proc/sys/net/ipv4/tcp_keepalive_time"
	ns := NewNetnsT(t, "rksys")
	require.NoError(t, ns.Sysctl(key, "1234"))

	var inside []byte
	require.NoError(t, ns.Do(func() error {
		var err error
		inside, err = os.ReadFile(file)
		return err
	}))
	require.Equal(t, "1234", strings.TrimSpace(string(inside)))

	outside, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NotEqual(t, "1234", strings.TrimSpace(string(outside)))

	// The same value through ip netns exec.
	out, err := ns.Run("cat", file)
	require.NoError(t, err)
	require.Equal(t, "1234", strings.TrimSpace(out))

	// An error inside Do comes back, and the thread is back home after it.
	errBoom := errors.New("boom")
	require.ErrorIs(t, ns.Do(func() error { return errBoom }), errBoom)
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, outside, again)

	require.NoError(t, ns.Close())
	require.NoError(t, ns.Close(), "second Close")
	require.NoFileExists(t, filepath.Join(netnsRunDir, ns.Name))
}

func TestVeth(t *testing.T) {
	a := NewNetnsT(t, "rkva")
	b := NewNetnsT(t, "rkvb")
	require.NoError(t, Veth(a, "rk-a", "192.0.2.1/24", b, "rk-b", "192.0.2.2/24"))

	ln, err := listenIn(b, "192.0.2.2:7777")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			err = c.Close()
		}
		accepted <- err
	}()
	require.NoError(t, a.Do(func() error {
		c, err := net.DialTimeout("tcp", "192.0.2.2:7777", 5*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}))
	select {
	case err := <-accepted:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the listener in b accepted nothing within 10 s")
	}

	// From a namespace without the veth the address is not routed: the
	// kernel refuses the dial at once, no packet leaves.
	c := NewNetnsT(t, "rkvc")
	err = c.Do(func() error {
		conn, err := net.DialTimeout("tcp", "192.0.2.2:7777", 5*time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	})
	require.ErrorIs(t, err, syscall.ENETUNREACH)
}

// listenIn listens on addr inside ns; the socket stays in ns.
func listenIn(ns *Netns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}
