//go:build linux

package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process control: how long the server may take.
const (
	startTimeout = 30 * time.Second // until the server accepts connections
	stopTimeout  = 10 * time.Second // from SIGINT until SIGKILL, and after
)

// start starts postgres with args, inside p.netns if set, and waits until it
// accepts connections. On failure the server is not running.
func (p *Postgres) start(bin string, su serverUser, args []string) error {
	logFile, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	defer logFile.Close() // the server has its own copy
	if err := su.chown(p.logPath); err != nil {
		return err
	}

	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = p.base
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,            // a terminal's ^C goes to the test binary only
		Pdeathsig:  syscall.SIGQUIT, // immediate shutdown if the test binary dies
		Credential: su.cred,
	}
	if p.netns != "" {
		// The child is forked from the thread that entered the namespace.
		err = (&Netns{Name: p.netns}).Do(cmd.Start)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return fmt.Errorf("harness: start postgres: %w", err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		p.waitErr = cmd.Wait()
		close(done)
	}()
	if err := p.writePidFile(cmd.Process.Pid); err != nil {
		return errors.Join(err, p.terminate())
	}
	if err := p.waitReady(); err != nil {
		return errors.Join(err, p.terminate())
	}
	return nil
}

// waitReady waits until postmaster.pid says "ready" and a TCP connection to
// Host:Port (from inside the namespace, if any) succeeds.
func (p *Postgres) waitReady() error {
	addr := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.pidFileReady() && p.dial(addr) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("harness: postgres not accepting connections on %s after %v; log tail:\n%s",
				addr, startTimeout, Tail(p.Log(), logTailLines))
		}
		select {
		case <-p.done:
			return fmt.Errorf("harness: postgres exited while starting (%v); log tail:\n%s",
				p.waitErr, Tail(p.Log(), logTailLines))
		case <-tick.C:
		}
	}
}

// pidFileReady reports whether the server's postmaster.pid says it accepts
// connections, as pg_ctl -w checks.
func (p *Postgres) pidFileReady() bool {
	b, err := os.ReadFile(filepath.Join(p.Dir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	const pmStatusLine = 8 // LOCK_FILE_LINE_PM_STATUS, 1-based
	return len(lines) >= pmStatusLine && strings.TrimSpace(lines[pmStatusLine-1]) == "ready"
}

// dial opens and closes a TCP connection to addr from the server's namespace.
func (p *Postgres) dial(addr string) error {
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
	if p.netns == "" {
		return dial()
	}
	return (&Netns{Name: p.netns}).Do(dial)
}

// exited reports whether the server process was started and has exited.
func (p *Postgres) exited() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop shuts the server down (SIGINT, a fast shutdown; SIGKILL to its process
// group after 10 s), waits for it and removes its temporary directory. It
// does not hang: it gives up 10 s after SIGKILL. The log stays available
// from [Postgres.Log]. Calling Stop again returns the first call's result.
func (p *Postgres) Stop() error {
	p.stopOnce.Do(func() {
		err := p.terminate()
		log := p.Log()
		p.mu.Lock()
		p.logCache, p.stopped = log, true
		p.mu.Unlock()
		if rmErr := os.RemoveAll(p.base); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("harness: %w", rmErr))
		}
		p.stopErr = err
	})
	return p.stopErr
}

// terminate stops the server process, if running, and waits for it.
func (p *Postgres) terminate() error {
	if p.cmd == nil || p.exited() {
		return nil
	}
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(syscall.SIGINT) // fails only if it already exited
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the server and its backends
	timer.Reset(stopTimeout)
	select {
	case <-p.done:
		return fmt.Errorf("harness: postgres (pid %d) ignored SIGINT for %v; killed", pid, stopTimeout)
	case <-timer.C:
		return fmt.Errorf("harness: postgres (pid %d) still running %v after SIGKILL", pid, stopTimeout)
	}
}
