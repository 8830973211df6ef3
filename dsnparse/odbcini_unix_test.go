//go:build unix

package dsnparse

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDataSourceNotRegular: odbc.ini is read only when it is a regular
// file; a FIFO would block the open, /dev/zero would never end.
func TestDataSourceNotRegular(t *testing.T) {
	t.Run("a FIFO is not opened", func(t *testing.T) {
		iniFiles(t, "", "", "")
		fifo := filepath.Join(t.TempDir(), "fifo")
		require.NoError(t, syscall.Mkfifo(fifo, 0o600))
		t.Setenv("ODBCINI", fifo)
		// Opening it for reading would wait for a writer, forever.
		done := make(chan error, 1)
		go func() { _, err := Parse("DSN=rs"); done <- err }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, ErrDataSource)
			assert.EqualError(t, err, "redshift-ka: DSN: cannot read "+fifo+": not a regular file (a FIFO)")
		case <-time.After(5 * time.Second):
			// Unblock the reader so that the test ends.
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatal("Parse opened the FIFO and waited for a writer")
		}
	})
	t.Run("a device is not read", func(t *testing.T) {
		iniFiles(t, "", "", "")
		t.Setenv("ODBCINI", os.DevNull)
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: DSN: cannot read "+os.DevNull+": not a regular file (a character device)")
	})
	t.Run("/dev/zero is not read", func(t *testing.T) {
		iniFiles(t, "", "", "")
		t.Setenv("ODBCINI", "/dev/zero")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: DSN: cannot read /dev/zero: not a regular file (a character device)")
	})
}
