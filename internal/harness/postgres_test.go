//go:build linux

package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
