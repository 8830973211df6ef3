//go:build linux

package driver_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// TestParseConfigDialFunc: the DialFunc of ParseConfig and
// ParsePoolConfig is redshift-ka's: it dials the address given, and the
// socket holds the DSN's keep-alive values, read back from the kernel
// (pgx's own dialer would give Go's 15 s / 15 s / 9).
func TestParseConfigDialFunc(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dsn := "postgres://u:" + password + "@" + ln.Addr().String() + "/db?KeepAlivesIdle=9&keepalives_interval=7&KeepAlivesCount=4&tcp_user_timeout=2500"
	cfg, err := driver.ParseConfig(dsn)
	require.NoError(t, err)
	pcfg, err := driver.ParsePoolConfig(dsn)
	require.NoError(t, err)
	for name, dial := range map[string]func(context.Context, string, string) (net.Conn, error){
		"ParseConfig":     cfg.DialFunc,
		"ParsePoolConfig": pcfg.ConnConfig.DialFunc,
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := dial(ctx, "tcp", ln.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			select {
			case s := <-accepted:
				defer s.Close()
				assert.Equal(t, c.LocalAddr().String(), s.RemoteAddr().String(), "the dial landed on the test's listener")
			case <-ctx.Done():
				t.Fatal("the test's listener accepted nothing")
			}
			sc, ok := c.(interface {
				SyscallConn() (syscall.RawConn, error)
			})
			require.True(t, ok, "a TCP connection, got %T", c)
			got, err := sockopt.Read(sc)
			require.NoError(t, err)
			assert.Equal(t, sockopt.Values{KeepAlive: true, Idle: 9 * time.Second, Interval: 7 * time.Second, Count: 4, UserTimeout: 2500 * time.Millisecond}, got)
		})
	}
}
