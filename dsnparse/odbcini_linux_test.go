//go:build linux

package dsnparse

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDataSourceSystemErrors: an odbc.ini that cannot be read gives
// ErrDataSource wrapping the system's error, so that a caller can tell
// "not allowed" from "broken".
func TestDataSourceSystemErrors(t *testing.T) {
	t.Run("a read error", func(t *testing.T) {
		// /proc/self/mem stats as an empty regular file; reading it at
		// offset 0 (unmapped) fails with EIO.
		iniFiles(t, "", "", "")
		t.Setenv("ODBCINI", "/proc/self/mem")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.ErrorIs(t, err, syscall.EIO)
		assert.EqualError(t, err, "redshift-ka: DSN: cannot read /proc/self/mem: input/output error")
	})
	t.Run("a stat error", func(t *testing.T) {
		iniFiles(t, "", "", "")
		loop := filepath.Join(t.TempDir(), "loop")
		require.NoError(t, os.Symlink(loop, loop))
		t.Setenv("ODBCINI", loop)
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.ErrorIs(t, err, syscall.ELOOP)
	})
	t.Run("permission denied", func(t *testing.T) {
		if os.Geteuid() != 0 {
			checkUnreadable(t)
			return
		}
		// Root reads any file: run this test again as nobody, from a
		// copy of the test binary that nobody may run.
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o755))
		bin := filepath.Join(dir, "dsnparse.test")
		copyFile(t, os.Args[0], bin)
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			bin, "-test.run", "^TestDataSourceSystemErrors$/^permission_denied$", "-test.v", "-test.count=1")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "the test as nobody:\n%s", out)
		assert.Contains(t, string(out), "--- PASS: TestDataSourceSystemErrors/permission_denied", "it ran:\n%s", out)
	})
}

// checkUnreadable, as a user other than root: a file of mode 0 gives an
// error that matches fs.ErrPermission.
func checkUnreadable(t *testing.T) {
	e, _, _ := iniFiles(t, "[rs]\nServer=h\n", "", "")
	require.NoError(t, os.Chmod(e, 0))
	_, err := Parse("DSN=rs")
	require.ErrorIs(t, err, ErrDataSource)
	assert.ErrorIs(t, err, fs.ErrPermission)
	assert.EqualError(t, err, "redshift-ka: DSN: cannot read "+e+": permission denied")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}
