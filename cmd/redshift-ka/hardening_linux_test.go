//go:build linux

package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// hostilePassword has every character that a DSN form escapes or quotes.
const hostilePassword = `p a's"s #;&?%={}w`

// hostileDSNs are DSNs of every form that carry hostilePassword.
var hostileDSNs = map[string]string{
	"url":       "postgres://etl:" + url.PathEscape(hostilePassword) + "@127.0.0.1:1/dev",
	"key=value": "host=127.0.0.1 port=1 user=etl password='" + strings.ReplaceAll(hostilePassword, "'", `\'`) + "'",
	"odbc":      "Server=127.0.0.1;Port=1;UID=etl;PWD={" + strings.ReplaceAll(hostilePassword, "}", "}}") + "}",
	"jdbc":      "jdbc:redshift://127.0.0.1:1/dev?user=etl&password=" + url.QueryEscape(hostilePassword) + "&ssl=false",
}

// noHostileSecret fails the test if out shows hostilePassword, any of
// its distinctive pieces, or one of its escaped forms.
func noHostileSecret(t *testing.T, out string) {
	t.Helper()
	for _, piece := range []string{hostilePassword, "a's", `s"s`, "#;&?", "%={}w", url.PathEscape(hostilePassword), url.QueryEscape(hostilePassword), `a\'s`} {
		assert.NotContains(t, out, piece, "the output shows the password")
	}
}

// TestDSNInTheWrongPlace: a DSN given where a flag's value, a command or a
// flag's name is expected is refused with exit 2, and nothing printed shows
// its password, in any form.
func TestDSNInTheWrongPlace(t *testing.T) {
	for form, dsn := range hostileDSNs {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"as a duration", []string{"check", "--connect-timeout", dsn}, "invalid value for --connect-timeout: want a duration"},
			{"as a bool", []string{"check", "--json=" + dsn}, "invalid value for --json: want true or false"},
			{"as exec's --progress", []string{"exec", "-c", "select 1", "--progress", dsn}, "invalid value for --progress: want a duration"},
			{"as -progress=", []string{"exec", "-c", "select 1", "-progress=" + dsn}, "invalid value for -progress"},
			{"as a flag name", []string{"check", "--" + dsn}, "unknown flag"},
			{"as the command", []string{dsn}, "unknown command (not shown: it may hold a DSN)"},
			{"twice", []string{"check", dsn, dsn}, "want one DSN, got 2 arguments"},
		} {
			t.Run(form+"/"+tc.name, func(t *testing.T) {
				r := runCLI(t.Context(), "", nil, tc.args...)
				assert.Equal(t, exitUsage, r.code, r.all())
				assert.Contains(t, r.all(), tc.want)
				noHostileSecret(t, r.all())
			})
		}
	}
	// A plain word is still named.
	r := runCLI(t.Context(), "", nil, "check", "--nope")
	assert.Contains(t, r.stderr, `unknown flag "--nope"`)
	r = runCLI(t.Context(), "", nil, "exec", "-c")
	assert.Contains(t, r.stderr, "flag -c needs a value: text")
}

// TestODBCIniNotARegularFile: a data source in a FIFO or a device is
// refused at once with the file named, instead of hanging or reading
// until memory runs out.
func TestODBCIniNotARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, tc := range []struct{ file, want string }{
		{fifo, fifo + ": not a regular file (a FIFO)"},
		{"/dev/zero", "/dev/zero: not a regular file (a character device)"},
	} {
		cmd := exec.Command(binary(t), "check", "DSN=rs;PWD={"+strings.ReplaceAll(hostilePassword, "}", "}}")+"}")
		cmd.Env = append(os.Environ(), "ODBCINI="+tc.file, "HOME="+t.TempDir())
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		code := wait(t, cmd, 10*time.Second)
		assert.Equal(t, exitUsage, code, out.String())
		assert.Contains(t, out.String(), "cannot read "+tc.want)
		noHostileSecret(t, out.String())
	}
}

// TestSignalBeforeConnection: SIGTERM and SIGINT end the command with exit
// 130 at the stages before a connection exists: waiting for -f FILE (a
// FIFO nobody writes) and waiting for a server that accepted the TCP
// connection but never answers.
func TestSignalBeforeConnection(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	arrived := make(chan struct{}, 16) // one per connection accepted
	go func() {
		defer close(served)
		var accepted []net.Conn // held open, never answered
		defer func() {
			for _, c := range accepted {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c)
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
	}()
	defer func() {
		silent.Close()
		harness.Await(t, served, 10*time.Second, "the silent server's accept loop, closed")
	}()
	silentDSN := "postgres://etl:" + url.PathEscape(hostilePassword) + "@" + silent.Addr().String() + "/dev?sslmode=disable"
	fifo := filepath.Join(t.TempDir(), "statements.sql")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))

	// The command installs its signal handler first thing in main, so a
	// process seen in a stage has it: one blocked opening the FIFO, one
	// whose connection the silent server accepted.
	inFIFO := func(t *testing.T, cmd *exec.Cmd) {
		waitUntil(t, 10*time.Second, "the command blocked opening "+fifo, func() bool { return openingFIFO(cmd.Process.Pid) })
	}
	connected := func(t *testing.T, _ *exec.Cmd) {
		harness.Await(t, arrived, 10*time.Second, "a connection to the silent server")
	}
	for _, stage := range []struct {
		name   string
		args   []string
		want   string
		inside func(*testing.T, *exec.Cmd)
	}{
		{"reading -f from a FIFO", []string{"exec", "-f", fifo, silentDSN}, "interrupted while reading " + fifo, inFIFO},
		{"check connecting", []string{"check", "--connect-timeout", "0", silentDSN}, "interrupted while connecting", connected},
		{"exec connecting", []string{"exec", "-c", "select 1", "--connect-timeout", "0", silentDSN}, "interrupted while connecting", connected},
	} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(stage.name+"/"+sig.String(), func(t *testing.T) {
				cmd := exec.Command(binary(t), stage.args...)
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				for len(arrived) > 0 {
					<-arrived // an earlier command's
				}
				require.NoError(t, cmd.Start())
				stage.inside(t, cmd)
				require.NoError(t, cmd.Process.Signal(sig))
				start := time.Now()
				// The watchdog would end it after cancelWait+2s; the
				// stages themselves must end well before.
				code := wait(t, cmd, cancelWait/2)
				t.Logf("exited %s after the signal", time.Since(start).Round(time.Millisecond))
				assert.Equal(t, exitInterrupted, code, out.String())
				assert.Contains(t, out.String(), stage.want)
				noHostileSecret(t, out.String())
			})
		}
	}
}

// openingFIFO reports whether a thread of process pid waits in the
// kernel for a FIFO's writer.
func openingFIFO(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		if w := string(b); w == "wait_for_partner" || w == "fifo_open" {
			return true
		}
	}
	return false
}

// waitUntil polls cond every 10 ms, and fails the test when it is not met
// within d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// TestDSNAfterF: a DSN given as -f's file is not repeated, even with a
// password too short for the scrubber.
func TestDSNAfterF(t *testing.T) {
	for _, f := range []string{"postgres://etl:pw@host/dev", "host=h password=pw", "Server=h;UID=etl;PWD=pw"} {
		r := runCLI(t.Context(), "", map[string]string{dsnEnv: "host=127.0.0.1 port=1"}, "exec", "-f", f)
		assert.Equal(t, exitUsage, r.code, r.all())
		assert.Contains(t, r.stderr, "cannot read the statements of ")
		assert.Contains(t, r.stderr, "no such file or directory")
		assert.NotContains(t, r.all(), "pw", f)
	}
}
