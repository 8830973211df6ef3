//go:build linux

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// buildCLI builds the redshift-ka command into a directory removed with
// the test.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "redshift-ka")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/redshift-ka/redshift-ka/cmd/redshift-ka").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// syncBuffer is a buffer written by a process and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cliProcess is the command running in the client namespace.
type cliProcess struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed once it has exited
	start          time.Time
	end            time.Time
}

// startCLI runs the command in the client namespace, with the DSN in the
// environment, as a user would keep it out of the process list. It is
// killed when the test ends.
func startCLI(t *testing.T, fw *harness.Firewall, bin, dsn string, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", fw.Client.Name, bin}, args...)...)
	p.cmd.Env = append(os.Environ(), "REDSHIFTKA_DSN="+dsn)
	p.cmd.Stdin = io.LimitReader(nil, 0)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	require.NoError(t, p.cmd.Start())
	go func() {
		p.cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		harness.Await(t, p.done, 10*time.Second, "the killed command's exit")
	})
	return p
}

// wait waits up to bound for the process to exit and returns its status,
// or -1 if it is still running.
func (p *cliProcess) wait(bound time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(time.Until(p.start.Add(bound))):
		return -1
	}
}

// waitOutput polls stdout for s, up to bound.
func (p *cliProcess) waitOutput(s string, bound time.Duration) bool {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if strings.Contains(p.stdout.String(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// healthLine is one progress line's view of the connection.
type healthLine struct {
	data, ack time.Duration
	probes    int
}

var healthRE = regexp.MustCompile(`last data received ([0-9.]+) s ago, last acknowledgement ([0-9.]+) s ago, unanswered keep-alive probes (\d+) of (\d+)`)

func healthLines(out string) []healthLine {
	var hs []healthLine
	for _, m := range healthRE.FindAllStringSubmatch(out, -1) {
		data, _ := strconv.ParseFloat(m[1], 64)
		ack, _ := strconv.ParseFloat(m[2], 64)
		probes, _ := strconv.Atoi(m[3])
		hs = append(hs, healthLine{
			data:   time.Duration(data * float64(time.Second)),
			ack:    time.Duration(ack * float64(time.Second)),
			probes: probes,
		})
	}
	return hs
}

// TestCLIExecThroughFirewall runs `redshift-ka exec` in the client
// namespace behind a kernel firewall that forgets flows idle for 3 s.
//
// A statement silent for 8 s completes with keep-alive 1/1/3, and its
// progress lines show why: data last arrived long ago, acknowledgements of
// the probes recently. The control, the same statement with keepalives=0
// run at the same time, must still be waiting at the bound: if not, the
// firewall kept the idle flow and the test proves nothing.
//
// With the path cut during a long statement, exec says the connection is
// lost once the probes go unanswered, shows the probes going unanswered
// meanwhile, and names the server process id that the server says ran the
// statement; once the path is back it reconnects, asks the server what
// became of the statement (see the comment at the exit status) and exits 3.
func TestCLIExecThroughFirewall(t *testing.T) {
	const (
		fwIdle = 3 * time.Second
		sleep  = 8 * time.Second
		idle   = time.Second
		intvl  = time.Second
		count  = 3
	)
	bin := buildCLI(t)
	fw := harness.NewFirewallT(t, fwIdle)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr})
	ka := fmt.Sprintf("KeepAlivesIdle=%d&KeepAlivesInterval=%d&KeepAlivesCount=%d", idle/time.Second, intvl/time.Second, count)

	t.Run("survives", func(t *testing.T) {
		query := fmt.Sprintf("SELECT pg_sleep(%g)", sleep.Seconds())
		ours := startCLI(t, fw, bin, pg.URL(ka), "exec", "--progress", "1s", "-c", query)
		control := startCLI(t, fw, bin, pg.URL("keepalives=0"), "exec", "--progress", "1s", "-c", query)
		bound := sleep + fwIdle

		code := ours.wait(bound + 5*time.Second)
		took := ours.end.Sub(ours.start)
		out := ours.stdout.String() + ours.stderr.String()
		t.Logf("redshift-ka exec, %s, exit %d after %.2fs:\n%s", ka, code, took.Seconds(), out)
		require.Equal(t, 0, code, "conntrack:\n%s", fw.Flows())
		timing(t, "redshift-ka exec of a statement of "+sleep.String(), took, sleep, bound)
		assert.Contains(t, out, "statement 1 of 1 done in ")
		harness.NoLeak(t, pg, "exec's output", out)

		hs := healthLines(ours.stdout.String())
		require.GreaterOrEqual(t, len(hs), 5, "a progress line a second")
		var longest healthLine
		for _, h := range hs {
			assert.Zero(t, h.probes, "every probe answered")
			assert.LessOrEqual(t, h.ack, idle+500*time.Millisecond, "an acknowledgement at least every idle interval")
			if h.data > longest.data {
				longest = h
			}
		}
		assert.Greater(t, longest.data, fwIdle, "silent longer than the firewall forgives, yet alive")

		code = control.wait(bound)
		assert.Equal(t, -1, code, "control: keepalives=0 finished (exit %d), so the firewall kept the idle flow; the test is invalid:\n%s%s",
			code, control.stdout.String(), control.stderr.String())
		t.Logf("control (keepalives=0) still waiting at %s, killed; it printed:\n%s%s", bound, control.stdout.String(), control.stderr.String())
		harness.NoLeak(t, pg, "the control's output", control.stdout.String()+control.stderr.String())
	})

	t.Run("path cut", func(t *testing.T) {
		p := startCLI(t, fw, bin, pg.URL(ka), "exec", "--progress", "500ms", "-c", "SELECT 1; SELECT pg_sleep(60); SELECT 3")
		require.True(t, p.waitOutput("statement 2 of 3 (line 1) started", 10*time.Second), "no start: %s%s", p.stdout.String(), p.stderr.String())
		m := regexp.MustCompile(`server process id (\d+)`).FindStringSubmatch(p.stdout.String())
		require.Len(t, m, 2, p.stdout.String())
		pid := m[1]
		var running string
		require.NoError(t, fw.Server.Do(func() error {
			db, err := sql.Open(driver.Name, pg.URL(""))
			if err != nil {
				return err
			}
			defer db.Close()
			return db.QueryRowContext(context.Background(), "SELECT query FROM pg_stat_activity WHERE pid = $1", pid).Scan(&running)
		}))
		assert.Equal(t, "SELECT pg_sleep(60)", running, "the pid exec printed is the session running the statement")

		time.Sleep(idle + 1500*time.Millisecond) // a probe or two answered
		require.NoError(t, fw.Cut())
		cut := time.Now()
		dead := idle + count*intvl
		// Once exec says the connection is lost, the path comes back for
		// its new connection, which asks the server about the statement.
		noticed, ok := p.waitStderr("the connection was lost", dead+5*time.Second)
		require.True(t, ok, "no lost connection %s after the cut:\n%s%s", time.Since(cut), p.stdout.String(), p.stderr.String())
		require.NoError(t, fw.Restore())
		code := p.wait(time.Since(p.start) + 2*defaultConnectTimeout)
		out := p.stdout.String() + p.stderr.String()
		require.NotEqual(t, -1, code, "still running %s after the cut:\n%s", time.Since(cut), out)
		t.Logf("exec after the cut:\n%s", out)
		// pgx, closing the broken connection, would send the server a
		// cancel request for the statement (pgconn's asyncClose) on a new
		// connection, which gets through once the path is back; the
		// driver refuses that dial, so the statement runs on: exit 3,
		// still running.
		assert.Equal(t, 3, code)
		timing(t, fmt.Sprintf("path cut: redshift-ka exec said the connection was lost (DeadAfter %s)", dead), noticed.Sub(cut), dead-intvl, dead+1500*time.Millisecond)
		for _, want := range []string{
			"statement 2 of 3 (line 1): the connection was lost after",
			fmt.Sprintf("%d keep-alive probes went unanswered", count),
			"the statement is still running on the server (process " + pid + ", for ",
			"statement 1 completed; statement 3 was not run",
		} {
			assert.Contains(t, out, want)
		}
		// exec has exited, so no cancel request of its can still come:
		// the server runs the statement on.
		var state, query string
		require.NoError(t, fw.Server.Do(func() error {
			db, err := sql.Open(driver.Name, pg.URL(""))
			if err != nil {
				return err
			}
			defer db.Close()
			ctx := context.Background()
			if err := db.QueryRowContext(ctx, "SELECT state, query FROM pg_stat_activity WHERE pid = $1", pid).Scan(&state, &query); err != nil {
				return err
			}
			var ended bool
			return db.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ended)
		}))
		assert.Equal(t, "active", state, "the statement runs on after exec exits")
		assert.Equal(t, "SELECT pg_sleep(60)", query)
		harness.NoLeak(t, pg, "exec's output", out)
		most := 0
		for _, h := range healthLines(p.stdout.String()) {
			most = max(most, h.probes)
		}
		assert.GreaterOrEqual(t, most, 1, "the progress lines showed probes going unanswered")
	})

}

// defaultConnectTimeout is the command's --connect-timeout default.
const defaultConnectTimeout = 30 * time.Second

// waitStderr polls stderr for s, up to bound, and says when it saw it.
func (p *cliProcess) waitStderr(s string, bound time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if strings.Contains(p.stderr.String(), s) {
			return time.Now(), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, false
}
