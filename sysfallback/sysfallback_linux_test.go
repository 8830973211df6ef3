package sysfallback

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withProcSys(t *testing.T, values map[string]string) {
	t.Helper()
	root := t.TempDir()
	for name, v := range values {
		p := filepath.Join(root, strings.ReplaceAll(name, ".", "/"))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v), 0o644))
	}
	old := procSysRoot
	procSysRoot = root
	t.Cleanup(func() { procSysRoot = old })
}

func TestReadFromProcSys(t *testing.T) {
	withProcSys(t, map[string]string{
		"net.ipv4.tcp_keepalive_time":   "1234\n",
		"net.ipv4.tcp_keepalive_intvl":  "56\n",
		"net.ipv4.tcp_keepalive_probes": "7\n",
	})
	v, err := Read()
	require.NoError(t, err)
	assert.Equal(t, Values{
		Idle: 1234 * time.Second, Interval: 56 * time.Second, Count: 7,
		IdleFrom:     "sysctl net.ipv4.tcp_keepalive_time",
		IntervalFrom: "sysctl net.ipv4.tcp_keepalive_intvl",
		CountFrom:    "sysctl net.ipv4.tcp_keepalive_probes",
	}, v)
	assert.Equal(t, 1234*time.Second+7*56*time.Second, v.DeadAfter())
	assert.Contains(t, v.String(), "count 7 (sysctl net.ipv4.tcp_keepalive_probes)")
}

func TestReadErrorsNameTheSysctl(t *testing.T) {
	withProcSys(t, map[string]string{
		"net.ipv4.tcp_keepalive_time":  "1234",
		"net.ipv4.tcp_keepalive_intvl": "x",
	})
	_, err := Read()
	require.EqualError(t, err, `redshift-ka: sysctl net.ipv4.tcp_keepalive_intvl: want a whole number, got "x"`)

	withProcSys(t, map[string]string{
		"net.ipv4.tcp_keepalive_time":  "1",
		"net.ipv4.tcp_keepalive_intvl": "2",
	})
	_, err = Read()
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "redshift-ka: read sysctl net.ipv4.tcp_keepalive_probes")
}

// TestReadMatchesSysctlCommand compares Read with what procps's sysctl
// prints for this machine.
func TestReadMatchesSysctlCommand(t *testing.T) {
	bin, err := exec.LookPath("sysctl")
	if err != nil {
		// scripts/install-deps installs procps; in CI a missing one is a failure.
		if os.Getenv("CI") == "true" || os.Getenv("REDSHIFTKA_STRICT") == "1" {
			t.Fatal("no sysctl command (Debian's procps) to compare with")
		}
		t.Skip("no sysctl command (Debian's procps) to compare with")
	}
	v, err := Read()
	require.NoError(t, err)
	for name, got := range map[string]int{
		"net.ipv4.tcp_keepalive_time":   int(v.Idle / time.Second),
		"net.ipv4.tcp_keepalive_intvl":  int(v.Interval / time.Second),
		"net.ipv4.tcp_keepalive_probes": v.Count,
	} {
		out, err := exec.Command(bin, "-n", name).Output()
		require.NoError(t, err)
		want, err := strconv.Atoi(strings.TrimSpace(string(out)))
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
}
