//go:build linux

package harness

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// psql runs psql with a password-less key/value connection string and sql,
// passing the password through PGPASSWORD so it never shows in arguments,
// output or failure messages. It returns the trimmed, unaligned output.
func psql(t *testing.T, pg *Postgres, conn, sql string) string {
	t.Helper()
	out, err := runPsql(t, pg.Password, conn, sql)
	require.NoError(t, err, "psql %q: %s\nserver log:\n%s", conn, out, Tail(pg.Log(), logTailLines))
	return strings.TrimSpace(out)
}

// runPsql runs psql -c sql against conn with password in PGPASSWORD.
func runPsql(t *testing.T, password, conn, sql string) (string, error) {
	t.Helper()
	path := ""
	if bin, err := PGBinDir(); err == nil && isExecutable(filepath.Join(bin, "psql")) {
		path = filepath.Join(bin, "psql")
	} else {
		path, err = exec.LookPath("psql")
		Need(t, err == nil, "needs psql")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, conn)
	cmd.Env = append(serverEnv(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// connNoPassword is a key/value connection string for pg without the password.
func connNoPassword(pg *Postgres, sslmode string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=%s", pg.Host, pg.Port, pg.User, pg.Database, sslmode)
}

func TestStartPostgres(t *testing.T) {
	pg := StartPostgresT(t, PostgresOptions{})
	require.Equal(t, "127.0.0.1", pg.Host)
	require.NotZero(t, pg.Port)
	require.Equal(t, "postgres", pg.User)
	require.Equal(t, "postgres", pg.Database)
	for _, c := range []string{" ", "'", `"`, "#", ";", "&", "?", "%", "=", "{", "}"} {
		require.Contains(t, pg.Password, c, "the password must be hostile to every DSN form")
	}
	require.Len(t, pg.Password, 3*8+len(` '" `)+len(hostileSpecials))
	require.DirExists(t, pg.Dir)
	require.FileExists(t, filepath.Join(pg.base, pidFileName))

	c, err := net.DialTimeout("tcp", net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)), 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	require.Equal(t, "1", psql(t, pg, connNoPassword(pg, "disable"), "SELECT 1"))
	// Password authentication is really on: a wrong password is refused.
	out, err := runPsql(t, "wrong", connNoPassword(pg, "disable"), "SELECT 1")
	require.Error(t, err)
	require.Contains(t, out, "password authentication failed")
	// So is the password with a piece missing: the server checks it all.
	out, err = runPsql(t, strings.Replace(pg.Password, hostileSpecials, "", 1), connNoPassword(pg, "disable"), "SELECT 1")
	require.Error(t, err)
	require.Contains(t, out, "password authentication failed")

	pid := pg.cmd.Process.Pid
	require.NoError(t, pg.Stop())
	require.NoDirExists(t, pg.Dir)
	require.NoDirExists(t, pg.base)
	require.False(t, processAlive(pid), "postgres pid %d still alive after Stop", pid)
	require.Contains(t, pg.Log(), "database system is shut down")
	require.NoError(t, pg.Stop(), "second Stop")
}

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
	require.NoError(t, <-accepted)

	// From the current namespace the address is not routed.
	_, err = net.DialTimeout("tcp", "192.0.2.2:7777", 200*time.Millisecond)
	require.Error(t, err)
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

func TestPostgresInNetns(t *testing.T) {
	ns := NewNetnsT(t, "rkpg")
	pg := StartPostgresT(t, PostgresOptions{Netns: ns.Name})
	require.Equal(t, "127.0.0.1", pg.Host)
	require.Equal(t, 5432, pg.Port)

	// The server process really lives in the namespace.
	var nsStat, procStat syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(netnsRunDir, ns.Name), &nsStat))
	require.NoError(t, syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pg.cmd.Process.Pid), &procStat))
	require.Equal(t, nsStat.Ino, procStat.Ino, "postgres is not in netns %s", ns.Name)

	// And answers the PostgreSQL protocol there: an SSLRequest gets 'N'.
	var reply byte
	require.NoError(t, ns.Do(func() error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:5432", 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			return err
		}
		req := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)
		if _, err := c.Write(req); err != nil {
			return err
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		reply = b[0]
		return nil
	}))
	require.Equal(t, byte('N'), reply)
}

func TestPostgresTLS(t *testing.T) {
	pg := StartPostgresT(t, PostgresOptions{TLS: true})
	require.NotEmpty(t, pg.CertPEM)

	fi, err := os.Stat(filepath.Join(pg.Dir, "server.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	const query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
	require.Equal(t, "t", psql(t, pg, connNoPassword(pg, "require"), query))
	require.Equal(t, "f", psql(t, pg, connNoPassword(pg, "disable"), query))

	// The certificate verifies, host name included.
	root := filepath.Join(t.TempDir(), "root.crt")
	require.NoError(t, os.WriteFile(root, pg.CertPEM, 0o600))
	require.Equal(t, "t", psql(t, pg, connNoPassword(pg, "verify-full")+" sslrootcert="+root, query))
}

func TestConnStrings(t *testing.T) {
	pg := &Postgres{Host: "127.0.0.1", Port: 6543, User: "postgres", Password: "pw", Database: "postgres"}
	tests := []struct {
		name, got, want string
	}{
		{"URL", pg.URL(""), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=disable"},
		{"URL params", pg.URL("connect_timeout=5"), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=disable&connect_timeout=5"},
		{"URL sslmode", pg.URL("sslmode=require&a=b"), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=require&a=b"},
		{"KeyValue", pg.KeyValue(""), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=disable"},
		{"KeyValue params", pg.KeyValue("keepalives_idle=30"), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=disable keepalives_idle=30"},
		{"KeyValue sslmode", pg.KeyValue("sslmode=require"), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=require"},
		{"ODBC", pg.ODBC(""), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;SSLMode=disable;"},
		{"ODBC params", pg.ODBC("KeepAlivesIdle=30;"), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;SSLMode=disable;KeepAlivesIdle=30;"},
		{"ODBC sslmode", pg.ODBC("sslMode=require;"), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;sslMode=require;"},
		{"URL IPv6", (&Postgres{Host: "::1", Port: 1, User: "u", Password: "p", Database: "d"}).URL(""), "postgres://u:p@[::1]:1/d?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}

// TestLeaks: Leaks finds the password in each form a DSN writes it and
// each distinctive piece of it, and nothing in text without it.
func TestLeaks(t *testing.T) {
	pw, err := hostilePassword()
	require.NoError(t, err)
	p := &Postgres{Host: "127.0.0.1", Port: 6543, User: "postgres", Password: pw, Database: "postgres"}
	fields := strings.Fields(pw)
	require.Len(t, fields, 3)
	for _, tc := range []struct{ name, s string }{
		{"raw", "error: " + pw + "!"},
		{"url", p.URL("")},
		{"key=value", p.KeyValue("")},
		{"odbc", p.ODBC("")},
		{"query escaped", "password=" + url.QueryEscape(pw)},
		{"first word", "near " + fields[0]},
		{"second word, cut at the quote", strings.Trim(fields[1], `'"`)},
		{"the specials", "at " + hostileSpecials},
		{"the last hex piece", "x" + strings.TrimPrefix(fields[2], hostileSpecials)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NotEmpty(t, p.Leaks(tc.s))
		})
	}
	for _, s := range []string{
		"",
		strings.ReplaceAll(p.URL(""), url.UserPassword("", pw).String()[1:], "xxxxx"),
		"host=127.0.0.1 port=6543 password=xxxxx",
	} {
		assert.Empty(t, p.Leaks(s), s)
	}
	assert.NotEmpty(t, (&Postgres{}).Leaks("anything"), "no password: a check against nothing must fail")
	assert.NotContains(t, p.redact(p.URL("")+" "+p.KeyValue("")+" "+p.ODBC("")), fields[0])
}

func TestPGBinDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PG_BINDIR", dir)
	_, err := PGBinDir()
	require.ErrorContains(t, err, "PG_BINDIR")

	for _, name := range []string{"initdb", "postgres"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
	}
	got, err := PGBinDir()
	require.NoError(t, err)
	require.Equal(t, dir, got)
}

func TestPGBinDirHighestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "13", "15", "16", "notaversion"} {
		dir := filepath.Join(root, v, "bin")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		if v == "16" {
			continue // incomplete: no server binaries
		}
		for _, name := range []string{"initdb", "postgres"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
		}
	}
	old := pgLibDir
	pgLibDir = root
	t.Cleanup(func() { pgLibDir = old })
	t.Setenv("PG_BINDIR", "")
	got, err := PGBinDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "15", "bin"), got)
}
