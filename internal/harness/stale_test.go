//go:build linux

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	pid := cmd.Process.Pid
	require.False(t, processAlive(pid), "PID %d reused at once", pid)
	return pid
}

// TestSweepStale: what a dead process left (a namespace named with its PID,
// a redshift-ka-pg-* directory whose PID file names it, a
// redshift-ka-cli-PID-* directory) goes; what a live process owns, and what
// carries no owner mark, stays.
func TestSweepStale(t *testing.T) {
	NeedRoot(t)
	// Directories only in a temporary directory of the test's own: other
	// test processes on this machine have theirs in the real one.
	t.Setenv("TMPDIR", t.TempDir())
	dead := deadPID(t)
	live := exec.Command("sleep", "60")
	require.NoError(t, live.Start())
	defer func() { live.Process.Kill(); live.Wait() }()
	livePID := live.Process.Pid

	// Namespaces, named as NewNetns names them.
	nsDead := fmt.Sprintf("rska-sweep-%d-abc123", dead)
	nsLive := fmt.Sprintf("rska-sweep-%d-abc123", livePID)
	for _, name := range []string{nsDead, nsLive} {
		_, err := runIP("netns", "add", name)
		require.NoError(t, err)
		t.Cleanup(func() { runIP("netns", "del", name) })
	}

	// PostgreSQL directories, with their PID files.
	pgDir := func(owner int) string {
		dir, err := os.MkdirTemp("", tempPrefix)
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.WriteFile(filepath.Join(dir, pidFileName), []byte(fmt.Sprintf("%d 0\n", owner)), 0o644))
		return dir
	}
	pgDead, pgLive := pgDir(dead), pgDir(livePID)
	pgNoMark, err := os.MkdirTemp("", tempPrefix)
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(pgNoMark) })

	// The command's binary directories.
	cliDir := func(pattern string) string {
		dir, err := os.MkdirTemp("", pattern)
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	cliDead := cliDir(CLIDirPrefix + strconv.Itoa(dead) + "-")
	cliLive := cliDir(CLIDirPrefix + strconv.Itoa(livePID) + "-")
	cliNoMark := cliDir(CLIDirPrefix)
	own, err := MkdirTempOwned(CLIDirPrefix)
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(own) })

	// The once-per-process sweeps ran already (Main): run them again.
	removeStaleNetns()
	cleanStale()
	removeStaleOwned(CLIDirPrefix)

	assert.NoFileExists(t, filepath.Join(netnsRunDir, nsDead), "the dead process's namespace")
	assert.FileExists(t, filepath.Join(netnsRunDir, nsLive), "a live process's namespace")
	assert.NoDirExists(t, pgDead, "the dead process's server directory")
	assert.DirExists(t, pgLive, "a live process's server directory")
	assert.DirExists(t, pgNoMark, "a server directory without a PID file (being made)")
	assert.NoDirExists(t, cliDead, "the dead process's binary directory")
	assert.DirExists(t, cliLive, "a live process's binary directory")
	assert.DirExists(t, cliNoMark, "a binary directory without an owner's PID")
	assert.DirExists(t, own, "this process's own")
}
