//go:build linux

package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Stale directories: how a later process finds what a dead one left.
const (
	// tempPrefix starts the name of every temporary directory StartPostgres
	// makes, so stale ones can be found (and `pgrep -f` finds servers).
	tempPrefix = "redshift-ka-pg-"
	// pidFileName names the file in that directory holding the PIDs of the
	// process that made it and of the server it started.
	pidFileName = "redshift-ka-pg.pid"
)

var cleanStaleOnce sync.Once

// CLIDirPrefix starts the name of a temporary directory a test makes for
// the command's binary, followed by the PID of the test process and a
// '-': [MkdirTempOwned] makes one, and [SweepStale] removes it once that
// process is gone.
const CLIDirPrefix = "redshift-ka-cli-"

// MkdirTempOwned makes a temporary directory named prefix + this process's
// PID + "-" + random, which [SweepStale] removes once this process is gone.
func MkdirTempOwned(prefix string) (string, error) {
	return os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-")
}

// SweepStale removes what test processes that died without cleaning up
// left behind, each by the mark of the process that owns it, never by
// name alone, since other test processes may be running: the network
// namespaces named with a PID that is gone ([NewNetns]), the
// redshift-ka-pg-* directories whose PID file names an owner that is gone
// (with the server still running from one), and the redshift-ka-cli-PID-*
// directories of [MkdirTempOwned] whose PID is gone. What has no mark is
// left alone. [StartPostgres] and [NewNetns] sweep too, once per process.
func SweepStale() {
	staleOnce.Do(removeStaleNetns)
	cleanStaleOnce.Do(cleanStale)
	removeStaleOwned(CLIDirPrefix)
}

// ownedName matches the rest of a name of MkdirTempOwned after its
// prefix: the PID, a '-', and os.MkdirTemp's random digits.
var ownedName = regexp.MustCompile(`^([0-9]+)-[0-9]+$`)

// removeStaleOwned removes the temporary directories prefix+PID-* of
// MkdirTempOwned whose process is gone.
func removeStaleOwned(prefix string) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		m := ownedName.FindStringSubmatch(strings.TrimPrefix(filepath.Base(dir), prefix))
		if m == nil {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err == nil && pid > 0 && pid != os.Getpid() && !processAlive(pid) {
			_ = os.RemoveAll(dir)
		}
	}
}

// writePidFile records, in the temporary directory, this process's PID and
// the server's (0 before it starts), so that cleanStale can tell an
// abandoned directory from one in use.
func (p *Postgres) writePidFile(serverPID int) error {
	data := fmt.Sprintf("%d %d\n", os.Getpid(), serverPID)
	if err := os.WriteFile(filepath.Join(p.base, pidFileName), []byte(data), 0o644); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// cleanStale removes what earlier test processes that died without calling
// Stop left behind: for each redshift-ka-pg-* temporary directory whose
// owning process is gone, it kills the server still running from it and
// removes the directory. Best effort; directories without a PID file, or
// whose owner is alive, are left alone.
func cleanStale() {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, pidFileName))
		if err != nil {
			continue
		}
		var owner, server int
		if _, err := fmt.Sscan(string(b), &owner, &server); err != nil || owner <= 0 {
			continue
		}
		if owner == os.Getpid() || processAlive(owner) {
			continue
		}
		if server > 0 && processAlive(server) && cmdlineContains(server, dir) {
			killGroup(server)
		}
		_ = os.RemoveAll(dir)
	}
}

// killGroup asks the process group pgid to quit, then kills it after 5 s.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGQUIT)
	for range 50 {
		if !processAlive(pgid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// processAlive reports whether a process with this PID exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// cmdlineContains reports whether process pid's command line contains s, to
// avoid killing an unrelated process that reused a PID.
func cmdlineContains(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte(s))
}
