//go:build linux

package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// initdbLimit bounds how long initdb may run.
const initdbLimit = 2 * time.Minute

// serverUser is who runs initdb and postgres.
type serverUser struct {
	cred *syscall.Credential // nil: the current user
}

// chown gives path to the server user, when that is not the current user.
func (u serverUser) chown(path string) error {
	if u.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(u.cred.Uid), int(u.cred.Gid)); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}

// lookupServerUser returns the current user, or when root, Debian's
// "postgres" system user: initdb and postgres refuse to run as root.
func lookupServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, fmt.Errorf("harness: running as root needs the postgres system user to run the server: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("harness: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("harness: postgres gid %q: %w", u.Gid, err)
	}
	return serverUser{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

// initdb makes the cluster in p.Dir, with the superuser's password read from
// a file so it never shows on a command line.
func (p *Postgres) initdb(bin string, su serverUser) error {
	pwfile := filepath.Join(p.base, "pwfile")
	if err := writeOwned(pwfile, []byte(p.Password+"\n"), 0o600, su); err != nil {
		return err
	}
	defer os.Remove(pwfile)

	ctx, cancel := context.WithTimeout(context.Background(), initdbLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", p.Dir,
		"-U", "postgres",
		"--pwfile="+pwfile,
		"--auth-local=trust",
		"--auth-host=scram-sha-256",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync",
	)
	cmd.Dir = p.base
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: su.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: initdb: %w\n%s", err, p.redact(Tail(string(out), logTailLines)))
	}
	return nil
}

// serverEnv is the environment for initdb and postgres: ours without libpq
// and locale variables, in the C locale so logs read the same everywhere.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "LC_") || name == "LANG" || name == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// writeOwned writes a file and gives it to the server user.
func writeOwned(path string, data []byte, perm os.FileMode, su serverUser) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if err := os.Chmod(path, perm); err != nil { // in case the file existed
		return fmt.Errorf("harness: %w", err)
	}
	return su.chown(path)
}
