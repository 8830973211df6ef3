//go:build linux

package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pgLibDir is where Debian installs versioned PostgreSQL trees
// (/usr/lib/postgresql/15/bin, ...). A test seam.
var pgLibDir = "/usr/lib/postgresql"

// PGBinDir returns the directory holding the PostgreSQL server binaries
// (initdb, postgres, and usually pg_ctl and psql). It looks, in order, at:
//
//   - env PG_BINDIR, which must then hold initdb and postgres;
//   - the highest-numbered /usr/lib/postgresql/*/bin holding both (Debian);
//   - `pg_config --bindir`, then the directory of initdb, found on PATH.
func PGBinDir() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		if !hasServerBinaries(dir) {
			return "", fmt.Errorf("harness: PG_BINDIR=%q holds no initdb and postgres executables", dir)
		}
		return dir, nil
	}
	if dir := debianBinDir(); dir != "" {
		return dir, nil
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasServerBinaries(dir) {
				return dir, nil
			}
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(initdb); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("harness: no PostgreSQL server binaries (initdb, postgres) " +
		"in $PG_BINDIR, " + pgLibDir + "/*/bin or on PATH; " +
		"install Debian's postgresql package (apt-get install postgresql) or set PG_BINDIR")
}

// debianBinDir returns the bin directory of the highest PostgreSQL version
// under pgLibDir that holds the server binaries, or "".
func debianBinDir() string {
	entries, err := os.ReadDir(pgLibDir)
	if err != nil {
		return ""
	}
	type version struct {
		name  string
		parts []int
	}
	var versions []version
	for _, e := range entries {
		parts, ok := parseVersion(e.Name())
		if !ok {
			continue
		}
		versions = append(versions, version{e.Name(), parts})
	}
	sort.Slice(versions, func(i, j int) bool {
		return versionLess(versions[j].parts, versions[i].parts) // highest first
	})
	for _, v := range versions {
		dir := filepath.Join(pgLibDir, v.name, "bin")
		if hasServerBinaries(dir) {
			return dir
		}
	}
	return ""
}

// parseVersion parses "15" or "9.6" into its numeric parts.
func parseVersion(s string) ([]int, bool) {
	var parts []int
	for _, f := range strings.Split(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, false
		}
		parts = append(parts, n)
	}
	return parts, true
}

// versionLess reports whether version a sorts before version b.
func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// hasServerBinaries reports whether dir holds executable initdb and postgres.
func hasServerBinaries(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
