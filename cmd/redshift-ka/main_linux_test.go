//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestMain sweeps what dead runs left behind (see harness.Main), fails the
// run when it leaves a goroutine of pgx, database/sql or redshift-ka
// behind, and removes the binary the tests built.
func TestMain(m *testing.M) {
	os.Exit(harness.Main(func() int {
		code := m.Run()
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		return code
	}, 5*time.Second))
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// binary builds the command once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = harness.MkdirTempOwned(harness.CLIDirPrefix)
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "redshift-ka")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// result is one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// all is everything the command printed.
func (r result) all() string { return r.stdout + r.stderr }

// runCLI runs the command in-process with env as its environment.
func runCLI(ctx context.Context, stdin string, env map[string]string, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// readAll reads r until EOF into a buffer that can be looked at meanwhile.
type readAll struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func collect(r io.Reader) *readAll {
	c := &readAll{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			c.mu.Lock()
			c.buf.Write(b[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *readAll) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// waitFor polls cond until it holds or wait has passed.
func (c *readAll) waitFor(wait time.Duration, s string) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if strings.Contains(c.String(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
