package settings

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// listenGreeting starts a loopback listener that writes greeting on each
// connection it accepts, then holds it open until the test ends.
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

// dial makes a redshift-ka connection with cfg to a loopback listener.
func dial(t *testing.T, cfg dsnparse.Config) *dialer.Conn {
	t.Helper()
	d, err := dialer.New(cfg, nil)
	require.NoError(t, err)
	c, err := d.DialContext(context.Background(), "tcp", listenGreeting(t, nil))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c.(*dialer.Conn)
}

// TestResolveMatchesKernel: for DSNs of every kind of setting, Resolve
// predicts what the kernel holds on a socket dialed with them.
func TestResolveMatchesKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux socket options")
	}
	osv, err := sysfallback.Read()
	require.NoError(t, err)
	for _, cfg := range []dsnparse.Config{
		{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 2500 * time.Millisecond},
		{},
		{Interval: 11 * time.Second},
		{NoKeepAlive: true, Idle: 5 * time.Second},
	} {
		r, err := read(dial(t, cfg))
		require.NoError(t, err)
		assert.True(t, r.FromSocket)
		assert.Equal(t, Resolve(cfg, osv).Observed, r.Observed, "%+v", cfg)
	}
}

// TestReadRefusesOtherDrivers: a database/sql connection of another driver
// is not ours.
func TestReadRefusesOtherDrivers(t *testing.T) {
	sql.Register("settings-test-other", otherDriver{})
	db, err := sql.Open("settings-test-other", "")
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = Read(conn)
	assert.ErrorIs(t, err, ErrNotRedshiftKA)
}

func TestReport(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux socket options")
	}
	cfg, err := dsnparse.Parse("host=h KeepAlivesIdle=9 keepalives_interval=0 tcp_user_timeout=1500")
	require.NoError(t, err)
	c := dial(t, cfg.Config)
	r, err := read(c)
	require.NoError(t, err)
	assert.True(t, r.FromSocket)
	assert.Equal(t, 9*time.Second, r.Idle)
	assert.Equal(t, r.OS.Interval, r.Interval)
	assert.Equal(t, r.OS.Count, r.Count)
	assert.Equal(t, 1500*time.Millisecond, r.UserTimeout)
	assert.Equal(t, "DSN key KeepAlivesIdle", r.IdleFrom.String())
	assert.Equal(t, "OS sysctl net.ipv4.tcp_keepalive_intvl (keepalives_interval=0)", r.IntervalFrom.String())
	assert.Equal(t, "OS sysctl net.ipv4.tcp_keepalive_probes", r.CountFrom.String())
	assert.Equal(t, "DSN key tcp_user_timeout", r.UserTimeoutFrom.String())
	assert.Equal(t, "redshift-ka default", r.KeepAliveFrom.String())
	assert.Contains(t, r.String(), "keep-alive on (redshift-ka default), idle 9s (DSN key KeepAlivesIdle)")
	// tcp_user_timeout (1.5 s) is under idle: Linux gives up at the first probe.
	assert.Equal(t, 9*time.Second+r.Interval, r.DeadAfter())

	off := dial(t, dsnparse.Config{NoKeepAlive: true, Keys: dsnparse.KeyNames{dsnparse.KeepAlive: "keepalives"}})
	r, err = read(off)
	require.NoError(t, err)
	assert.Equal(t, "keep-alive off (DSN key keepalives)", r.String())
	assert.Zero(t, r.DeadAfter())
}

func TestResolveKeepAliveOff(t *testing.T) {
	osv := sysfallback.Values{Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9,
		IdleFrom: "sysctl a", IntervalFrom: "sysctl b", CountFrom: "sysctl c"}
	cfg, err := dsnparse.Parse("host=h keepalives=0 KeepAlivesIdle=5 tcp_user_timeout=300")
	require.NoError(t, err)
	r := Resolve(cfg.Config, osv)
	assert.Equal(t, dialer.Observed{Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9, UserTimeout: 300 * time.Millisecond}, r.Observed)
	assert.Equal(t, "OS sysctl a (KeepAlivesIdle unused: keep-alive off)", r.IdleFrom.String())
	assert.Equal(t, "OS sysctl b", r.IntervalFrom.String())
	assert.Equal(t, "DSN key tcp_user_timeout", r.UserTimeoutFrom.String())
	assert.Equal(t, "DSN key keepalives", r.KeepAliveFrom.String())
}

// otherDriver is a database/sql driver that is not redshift-ka's.
type otherDriver struct{}

func (otherDriver) Open(string) (driver.Conn, error) { return otherConn{}, nil }

type otherConn struct{}

func (otherConn) Prepare(string) (driver.Stmt, error) { return nil, driver.ErrSkip }
func (otherConn) Close() error                        { return nil }
func (otherConn) Begin() (driver.Tx, error)           { return nil, driver.ErrSkip }
