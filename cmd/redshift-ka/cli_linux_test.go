//go:build linux

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/settings"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// noSecret fails the test if the output shows the password (which holds
// a space, both quotes and #;&?%={}) raw, as any DSN form writes it, or
// any piece of it.
func noSecret(t *testing.T, pg *harness.Postgres, out string) {
	t.Helper()
	harness.NoLeak(t, pg, "the command's output", out)
}

// settingsOf reads the settings of a fresh connection with dsn, as
// settings.Read reads them from the socket.
func settingsOf(t *testing.T, dsn string) settings.Report {
	t.Helper()
	db, err := sql.Open(driver.Name, dsn)
	require.NoError(t, err)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	r, err := settings.Read(conn)
	require.NoError(t, err)
	return r
}

// TestCheckMatchesSocket: for DSNs of every form, check --json reports the
// values the kernel holds on a socket dialed with the DSN, and where each
// came from as settings.Read says; --offline resolves the same without
// connecting; the text output shows them; no output shows the password.
func TestCheckMatchesSocket(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	osv, err := sysfallback.Read()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		dsn  string
	}{
		{"url, every key", pg.URL("KeepAlivesIdle=7&KeepAlivesInterval=3&KeepAlivesCount=4&tcp_user_timeout=2500")},
		{"key=value, idle only, rest from the OS", pg.KeyValue("keepalives_idle=200")},
		{"key=value, zero means the OS", pg.KeyValue("keepalives_idle=0 keepalives_count=5")},
		{"odbc, no keys", pg.ODBC("")},
		{"odbc, keep-alive off", pg.ODBC("KeepAlive=0;")},
		{"jdbc, tcpKeepAlive and the idle", pg.JDBC("tcpKeepAlive=true&KeepAlivesIdle=9")},
		// Amazon's JDBC docs give TCPKeepAliveMinutes in minutes: 3 is 180 s.
		{"jdbc, TCPKeepAliveMinutes and loginTimeout", pg.JDBC("TCPKeepAliveMinutes=3&loginTimeout=7")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := settingsOf(t, tc.dsn)
			if strings.Contains(tc.dsn, "TCPKeepAliveMinutes=3") {
				require.Equal(t, 180*time.Second, want.Idle, "the kernel's idle of a socket dialed with the DSN")
			}
			for _, offline := range []bool{false, true} {
				args := []string{"check", "--json", tc.dsn}
				if offline {
					args = append(args, "--offline")
				}
				r := runCLI(t.Context(), "", nil, args...)
				require.Equal(t, exitOK, r.code, r.all())
				noSecret(t, pg, r.all())
				var got checkResult
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)

				assert.Equal(t, !offline, got.Connected)
				assert.Equal(t, want.KeepAlive, got.KeepAlive, "keepalive")
				assert.Equal(t, int64(want.Idle/time.Second), got.IdleSeconds, "idle_seconds")
				assert.Equal(t, int64(want.Interval/time.Second), got.IntervalSeconds, "interval_seconds")
				assert.Equal(t, want.Count, got.Count, "count")
				assert.Equal(t, int64(want.UserTimeout/time.Millisecond), got.UserTimeoutMS, "user_timeout_ms")
				assert.Equal(t, sources{
					KeepAlive:   want.KeepAliveFrom.String(),
					Idle:        want.IdleFrom.String(),
					Interval:    want.IntervalFrom.String(),
					Count:       want.CountFrom.String(),
					UserTimeout: want.UserTimeoutFrom.String(),
				}, got.Source)
				assert.Equal(t, int64(osv.Idle/time.Second), got.OS.IdleSeconds)
				assert.Equal(t, osv.CountFrom, got.OS.Source.Count)
				if want.KeepAlive {
					require.NotNil(t, got.DeadAfterSeconds)
					assert.Equal(t, want.DeadAfter().Seconds(), *got.DeadAfterSeconds)
				} else {
					assert.Nil(t, got.DeadAfterSeconds)
					assert.Contains(t, got.Warnings[0], "keep-alive is off")
				}
				if !offline {
					assert.NotZero(t, got.ServerPID)
					assert.Equal(t, fmt.Sprintf("%s:%d", pg.Host, pg.Port), got.Server)
				}
				if strings.HasPrefix(tc.name, "odbc") {
					assert.Equal(t, []ignoredKey{{"Driver", "ODBC", "read by the ODBC driver manager or Amazon's ODBC driver only"}}, got.IgnoredKeys)
					assert.Equal(t, "ODBC", got.Form)
				}
			}

			text := runCLI(t.Context(), "", nil, "check", tc.dsn)
			require.Equal(t, exitOK, text.code, text.all())
			noSecret(t, pg, text.all())
			assert.Contains(t, text.stdout, "xxxxx")
			assert.Contains(t, text.stdout, "the connection's socket, with getsockopt")
			assert.Regexp(t, fmt.Sprintf(`(?m)^idle +%s +%s`, regexp.QuoteMeta(secs(want.Idle)), regexp.QuoteMeta(want.IdleFrom.String())), text.stdout)
			assert.Regexp(t, fmt.Sprintf(`(?m)^count +%d +%s`, want.Count, regexp.QuoteMeta(want.CountFrom.String())), text.stdout)
			t.Logf("check %s:\n%s", tc.name, text.stdout)
		})
	}
}

// TestCheckMiddleboxes: the verdicts follow idle < timeout.
func TestCheckMiddleboxes(t *testing.T) {
	for _, tc := range []struct {
		params   string
		survives []bool // AWS NAT, AWS NLB, Azure, GCP
		warnings int
	}{
		{"KeepAlivesIdle=200", []bool{true, true, true, true}, 0},
		{"KeepAlivesIdle=240", []bool{true, true, false, true}, 2},
		{"KeepAlivesIdle=350", []bool{false, false, false, true}, 4},
		{"KeepAlivesIdle=1200", []bool{false, false, false, false}, 5},
		{"keepalives=0&KeepAlivesIdle=10", []bool{false, false, false, false}, 1},
	} {
		t.Run(tc.params, func(t *testing.T) {
			r := runCLI(t.Context(), "", nil, "check", "--offline", "--json", "postgres://me:pw@db.example/dev?"+tc.params)
			require.Equal(t, exitOK, r.code, r.all())
			var got checkResult
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
			var survives []bool
			for _, m := range got.Middleboxes {
				survives = append(survives, m.Survives)
			}
			assert.Equal(t, tc.survives, survives)
			assert.Len(t, got.Warnings, tc.warnings, "%q", got.Warnings)
			if tc.warnings > 1 {
				assert.Equal(t, "to survive every middlebox listed, set KeepAlivesIdle=200 in the DSN", got.Warnings[len(got.Warnings)-1])
			}
		})
	}
}

// TestCheckBadInput: bad flags and DSNs exit 2 and say why; a server that
// is not there exits 4; neither shows the password.
func TestCheckBadInput(t *testing.T) {
	const pw = "Sup3rSecretPw"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no command", nil, nil, exitUsage, "Usage:"},
		{"unknown command", []string{"chek"}, nil, exitUsage, `unknown command "chek"`},
		{"unknown flag", []string{"check", "--nope", "postgres://h/db"}, nil, exitUsage, `unknown flag "--nope"`},
		{"no DSN", []string{"check"}, nil, exitUsage, "no DSN"},
		{"two DSNs", []string{"check", "host=h", "port=1"}, nil, exitUsage, "want one DSN"},
		{"bad key", []string{"check", "postgres://me:" + pw + "@h/db?KeepAlivesIdle=abc"}, nil, exitUsage, `KeepAlivesIdle: want whole seconds 0..32767, got "abc"`},
		// pgx's own error would show the password's tail after the quote.
		{"pgx refuses, quote in the password", []string{"check", "Server=h;SSLMode=sometimes;UID=me;PWD={" + pw + "' tailOfIt};"}, nil, exitUsage, "password=xxxxx port=5439`: failed to configure TLS (sslmode is invalid)"},
		{"@ in a URL password", []string{"check", "postgres://me:p@" + pw + ":1@h/db"}, nil, exitUsage, "%-encode it (%40"},
		{"not listening", []string{"check", "--connect-timeout", "5s", "postgres://me:" + pw + "@127.0.0.1:1/db?sslmode=disable"}, nil, exitConnect, "could not connect"},
		{"DSN from the environment", []string{"check", "--offline"}, map[string]string{dsnEnv: "postgres://me:" + pw + "@h/db?KeepAlivesIdle=5"}, exitOK, "DSN key KeepAlivesIdle"},
		{"help", []string{"help", "check"}, nil, exitOK, "--offline"},
		{"-h", []string{"exec", "-h"}, nil, exitOK, "COPY ... FROM STDIN reads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), "", tc.env, tc.args...)
			assert.Equal(t, tc.code, r.code, r.all())
			assert.Contains(t, r.all(), tc.want)
			for _, piece := range []string{pw, "tailOfIt"} {
				assert.NotContains(t, r.all(), piece)
			}
		})
	}
}

// TestBadInputHostilePassword: with a password that holds a space, both
// quotes and #;&?%={}, written as each DSN form wants it, bad input,
// a server that is not there and an offline check show no piece of it,
// from the argument and from REDSHIFTKA_DSN, for check and exec.
func TestBadInputHostilePassword(t *testing.T) {
	p := &harness.Postgres{Host: "127.0.0.1", Port: 1, User: "me", Database: "db",
		Password: `5ee1c0de 'b0a7f00d" #;&?%={}deadbeef`}
	for _, f := range []struct {
		name string
		dsn  func(params ...string) string
	}{
		{"url", func(ps ...string) string { return p.URL(strings.Join(ps, "&")) }},
		{"keyvalue", func(ps ...string) string { return p.KeyValue(strings.Join(ps, " ")) }},
		{"odbc", func(ps ...string) string { return p.ODBC(strings.Join(ps, ";")) }},
		{"jdbc", func(ps ...string) string { return p.JDBC(strings.Join(ps, "&")) }},
	} {
		sslmode := "sslmode"
		if f.name == "odbc" {
			sslmode = "SSLMode"
		}
		for _, tc := range []struct {
			name string
			dsn  string
			args []string
			code int
			want string
		}{
			{"bad key", f.dsn("KeepAlivesIdle=abc"), nil, exitUsage, `KeepAlivesIdle: want whole seconds 0..32767, got "abc"`},
			{"the backend refuses", f.dsn(sslmode + "=maybe"), nil, exitUsage, "sslmode"},
			{"not listening", f.dsn("KeepAlivesIdle=5"), []string{"--connect-timeout", "5s"}, exitConnect, "could not connect"},
		} {
			for _, cmd := range [][]string{{"check"}, {"check", "--json"}, {"exec", "-c", "SELECT 1"}} {
				t.Run(f.name+"/"+tc.name+"/"+strings.Join(cmd, " "), func(t *testing.T) {
					args := append(append(append([]string{}, cmd...), tc.args...), tc.dsn)
					r := runCLI(t.Context(), "", nil, args...)
					assert.Equal(t, tc.code, r.code, r.all())
					assert.Contains(t, r.all(), tc.want)
					harness.NoLeak(t, p, "the command's output", r.all())
					r = runCLI(t.Context(), "", map[string]string{dsnEnv: tc.dsn}, append(append([]string{}, cmd...), tc.args...)...)
					assert.Equal(t, tc.code, r.code, r.all())
					harness.NoLeak(t, p, "the command's output", r.all())
				})
			}
		}
		t.Run(f.name+"/offline", func(t *testing.T) {
			for _, json := range [][]string{nil, {"--json"}} {
				r := runCLI(t.Context(), "", map[string]string{dsnEnv: f.dsn("KeepAlivesIdle=5")}, append([]string{"check", "--offline"}, json...)...)
				require.Equal(t, exitOK, r.code, r.all())
				assert.Contains(t, r.all(), "xxxxx")
				harness.NoLeak(t, p, "the command's output", r.all())
			}
		})
	}
}

// TestExec: statements run one by one on one connection, with progress
// lines showing the connection's health when the output is not a terminal,
// and COPY FROM STDIN reads standard input.
func TestExec(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	dsn := pg.URL("KeepAlivesIdle=1&KeepAlivesInterval=1&KeepAlivesCount=3")
	sqlFile := filepath.Join(t.TempDir(), "load.sql")
	require.NoError(t, os.WriteFile(sqlFile, []byte(`-- load
CREATE TABLE landed (n int);
COPY landed FROM STDIN;
INSERT INTO landed SELECT generate_series(4, 5);
SELECT pg_sleep(2.6); -- silent long enough for keep-alive probes
SELECT 'a;b' AS "x;y", $$;$$ FROM landed;
`), 0o644))
	start := time.Now()
	r := runCLI(t.Context(), "1\n2\n3\n", nil, "exec", "-f", sqlFile, "--progress", "500ms", dsn)
	t.Logf("exec took %s:\n%s%s", time.Since(start).Round(time.Millisecond), r.stdout, r.stderr)
	require.Equal(t, exitOK, r.code, r.all())
	noSecret(t, pg, r.all())
	assert.Empty(t, r.stderr)
	for _, want := range []string{
		"server process id ",
		"keep-alive idle 1 s, interval 1 s, count 3: a dead path is noticed within 4 s",
		"running 5 statements from " + sqlFile,
		"statement 1 of 5 (line 2) started: CREATE TABLE landed (n int)",
		"statement 2 of 5 done in ",
		": COPY 3 (COPY landed FROM STDIN)",
		": INSERT 0 2 (",
		"statement 4 of 5 (line 5) started: SELECT pg_sleep(2.6)",
		"statement 4 of 5 running for ",
		"unanswered keep-alive probes 0 of 3",
		`: SELECT 5 (SELECT '…' AS "x;y", $$…$$ FROM landed)`,
		"done: 5 statements in ",
	} {
		assert.Contains(t, r.stdout, want)
	}
	// While pg_sleep kept the server silent, keep-alive probes were
	// answered: data arrived long ago, an acknowledgement recently.
	m := regexp.MustCompile(`last data received ([0-9.]+) s ago, last acknowledgement ([0-9.]+) s ago`).FindAllStringSubmatch(r.stdout, -1)
	require.NotEmpty(t, m)
	last := m[len(m)-1]
	data, _ := strconv.ParseFloat(last[1], 64)
	ack, _ := strconv.ParseFloat(last[2], 64)
	assert.Greater(t, data, 1.4, "the statement kept the wire silent")
	assert.Less(t, ack, 1.3, "keep-alive probes every 1 s were answered")
}

// TestExecExitStatuses: SQL error 1, bad input 2, connection lost 3 (the
// server ended the session), could not connect 4; each says what happened
// and which statements ran, and none shows the password.
func TestExecExitStatuses(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	missing := filepath.Join(t.TempDir(), "missing.sql")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"sql error", []string{"-c", "SELECT 1; SELECT * FROM nope; SELECT 3"}, exitSQL,
			[]string{`statement 2 of 3 (line 1) failed after`, `ERROR: relation "nope" does not exist (SQLSTATE 42P01) at character 15`, "statement 1 completed; statement 3 was not run"}},
		{"neither -c nor -f", nil, exitUsage, []string{"either -c SQL or -f FILE"}},
		{"both -c and -f", []string{"-c", "SELECT 1", "-f", missing}, exitUsage, []string{"either -c SQL or -f FILE"}},
		{"missing file", []string{"-f", missing}, exitUsage, []string{"cannot read the statements", "no such file"}},
		{"no statements", []string{"-c", " -- nothing\n;"}, exitUsage, []string{"-c: no SQL statements"}},
		{"unclosed literal", []string{"-c", "SELECT 1;\nSELECT 'x"}, exitUsage, []string{"-c: line 2: string literal is not closed"}},
		{"copy to stdout", []string{"-c", "COPY (SELECT 1) TO STDOUT"}, exitUsage, []string{"COPY ... TO STDOUT, which exec does not support"}},
		{"two copy from stdin", []string{"-c", "COPY a FROM STDIN; COPY b FROM STDIN"}, exitUsage, []string{"only one can read standard input"}},
		{"bad progress", []string{"-c", "SELECT 1", "--progress", "-1s"}, exitUsage, []string{"--progress -1s"}},
		{"session ended by the server", []string{"-c", "SELECT 1; SELECT pg_terminate_backend(pg_backend_pid()); SELECT 3"}, exitLost,
			[]string{"statement 2 of 3 (line 1): the connection was lost", "SQLSTATE 57P01", "look for server process id", "pg_stat_activity WHERE pid = ", "statement 1 completed; statement 3 was not run"}},
	} {
		// The password quoted, escaped or braced, in each form; from the
		// command line and from the environment.
		for _, form := range []struct{ name, dsn string }{{"url", pg.URL("")}, {"keyvalue", pg.KeyValue("")}, {"odbc", pg.ODBC("")}, {"jdbc", pg.JDBC("")}} {
			t.Run(form.name+"/"+tc.name, func(t *testing.T) {
				r := runCLI(t.Context(), "", nil, append(append([]string{"exec"}, tc.args...), form.dsn)...)
				assert.Equal(t, tc.code, r.code, r.all())
				for _, w := range tc.want {
					assert.Contains(t, r.all(), w)
				}
				noSecret(t, pg, r.all())
				r = runCLI(t.Context(), "", map[string]string{dsnEnv: form.dsn}, append([]string{"exec"}, tc.args...)...)
				assert.Equal(t, tc.code, r.code, r.all())
				noSecret(t, pg, r.all())
			})
		}
	}
	t.Run("could not connect", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "exec", "-c", "SELECT 1", "--connect-timeout", "5s",
			(&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", pg.Password), Host: "127.0.0.1:1", Path: "/postgres", RawQuery: "sslmode=disable"}).String())
		assert.Equal(t, exitConnect, r.code, r.all())
		assert.Contains(t, r.stderr, "could not connect")
		noSecret(t, pg, r.all())
	})
	t.Run("lost: pid printed is the session's", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "exec", "-c", "SELECT pg_terminate_backend(pg_backend_pid())", pg.URL(""))
		require.Equal(t, exitLost, r.code, r.all())
		pid := regexp.MustCompile(`server process id (\d+)`).FindStringSubmatch(r.stdout)
		require.Len(t, pid, 2, r.stdout)
		assert.Contains(t, r.stderr, "look for server process id "+pid[1]+" there")
	})
}

// TestExecInterrupt: an interrupt cancels the running statement on the
// server (the server logs the cancel request), then exits 130 at once;
// with --json, the object says the statement was interrupted.
func TestExecInterrupt(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%t", asJSON), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			// Interrupt once statement 2 runs on the server: a fixed delay
			// would land in the connect on a loaded machine.
			var interrupted time.Time
			go func() {
				defer cancel()
				db, err := sql.Open(driver.Name, pg.URL(""))
				if err != nil {
					return
				}
				defer db.Close()
				for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					var n int
					if db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'`).Scan(&n) == nil && n > 0 {
						break
					}
				}
				interrupted = time.Now()
			}()
			args := []string{"exec", "-c", "SELECT 1; SELECT pg_sleep(30); SELECT 3", pg.URL("")}
			if asJSON {
				args = append(args, "--json")
			}
			r := runCLI(ctx, "", nil, args...)
			took := time.Since(interrupted)
			t.Logf("exited %s after the interrupt:\n%s%s", took.Round(time.Millisecond), r.stdout, r.stderr)
			assert.Equal(t, exitInterrupted, r.code)
			assert.Less(t, took, cancelWait, "the server confirms the cancel well within cancelWait")
			assert.Contains(t, r.stderr, "statement 2 was cancelled on the server; statement 1 completed; statement 3 was not run")
			assert.Contains(t, pg.Log(), "canceling statement due to user request")
			noSecret(t, pg, r.all())
			if asJSON {
				res := execJSON(t, r)
				require.Len(t, res.Statements, 3)
				assert.Equal(t, stmtDone, res.Statements[0].Status)
				assert.Equal(t, stmtInterrupted, res.Statements[1].Status)
				assert.Contains(t, res.Statements[1].Error, "cancelled on the server")
				assert.Equal(t, stmtNotRun, res.Statements[2].Status)
			}
		})
	}
}

// startPTY runs the command as a process on a pseudo-terminal, with the
// DSN in the environment. The process is killed when the test ends.
func startPTY(t *testing.T, dsn string, args ...string) (*exec.Cmd, *os.File, *readAll) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TERM=xterm", dsnEnv+"="+dsn)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 200})
	require.NoError(t, err)
	out := collect(ptmx)
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
		harness.Await(t, out.done, 10*time.Second, "the terminal's reader, the command killed")
	})
	return cmd, ptmx, out
}

// wait waits up to bound for the process to exit and returns its status.
func wait(t *testing.T, cmd *exec.Cmd, bound time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(bound):
		cmd.Process.Kill()
		harness.Await(t, done, 10*time.Second, "the killed command's exit")
		t.Fatalf("still running after %s", bound)
	}
	return cmd.ProcessState.ExitCode()
}

// TestExecStatusLineOnTerminal: on a terminal, exec redraws one status line
// in place (statement n of m, elapsed time, the kernel's view of the
// connection), and clears it before printing a result.
func TestExecStatusLineOnTerminal(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	cmd, _, out := startPTY(t, pg.URL("KeepAlivesIdle=1&KeepAlivesInterval=1&KeepAlivesCount=3"),
		"exec", "-c", "SELECT pg_sleep(2.5); SELECT 2")
	code := wait(t, cmd, 20*time.Second)
	harness.Await(t, out.done, 10*time.Second, "the terminal's reader, the command exited")
	s := out.String()
	t.Logf("terminal output: %q", s)
	require.Equal(t, exitOK, code)
	noSecret(t, pg, s)
	// Redrawn in place, once a second, with the elapsed time.
	for _, tick := range []string{"0:00", "0:01", "0:02"} {
		assert.Regexp(t, `\rstatement 1 of 2 · `+tick+` · rtt [0-9.]+ ms · data [0-9.]+ s ago · ack [0-9.]+ s ago · probes 0/3 · SELECT pg_sleep\(2\.5\)\x1b\[K`, s)
	}
	// pg_sleep(2.5) takes 2.5 s and more on a loaded machine.
	assert.Regexp(t, `\r\x1b\[Kstatement 1 of 2 done in 2\.[5-9]s: SELECT 1 \(SELECT pg_sleep\(2\.5\)\)`, s)
	assert.Contains(t, s, "done: 2 statements in ")
	assert.NotContains(t, s, "running for", "no progress lines on a terminal")
}

// TestExecCtrlCOnTerminal: Ctrl-C typed on the terminal cancels the
// statement on the server and exits 130.
func TestExecCtrlCOnTerminal(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	cmd, ptmx, out := startPTY(t, pg.URL(""), "exec", "-c", "SELECT pg_sleep(30)")
	require.True(t, out.waitFor(10*time.Second, "statement 1 of 1 · 0:01"), "no status line: %q", out.String())
	_, err := ptmx.Write([]byte{3}) // Ctrl-C: the terminal sends SIGINT
	require.NoError(t, err)
	pressed := time.Now()
	code := wait(t, cmd, 15*time.Second)
	took := time.Since(pressed)
	harness.Await(t, out.done, 10*time.Second, "the terminal's reader, the command exited")
	s := out.String()
	t.Logf("exited %s after Ctrl-C: %q", took.Round(time.Millisecond), s)
	assert.Equal(t, exitInterrupted, code)
	assert.Less(t, took, 5*time.Second)
	assert.Contains(t, s, "statement 1 was cancelled on the server")
	assert.Contains(t, pg.Log(), "canceling statement due to user request")
	noSecret(t, pg, s)
	assert.NotEqual(t, syscall.SIGINT, cmd.ProcessState.Sys().(syscall.WaitStatus).Signal(), "exited by itself, not killed by the signal")
}

// execJSON reads exec --json's standard output: exactly one JSON object
// and nothing else, whose exit is the command's exit status.
func execJSON(t *testing.T, r result) execResult {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	var res execResult
	require.NoError(t, dec.Decode(&res), "stdout is not one JSON object:\n%s", r.stdout)
	rest, _ := io.ReadAll(dec.Buffered())
	require.Empty(t, strings.TrimSpace(string(rest)), "more than the object on stdout")
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "more than the object on stdout:\n%s", r.stdout)
	assert.Equal(t, r.code, res.Exit, "exit in the object")
	assert.NotNil(t, res.Statements, "statements is a list, never null")
	return res
}

// TestExecJSON: with --json, standard output carries one JSON object when
// exec ends, whatever the exit status, and the text lines go to standard
// error; no statement text and no password in it, even where the
// server's error message quotes the password (JSON escapes its quote).
func TestExecJSON(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	dsn := pg.URL("")
	require.NotContains(t, pg.Password, "$", "the password is quoted as $q$...$q$ below")
	quotesPassword := "SELECT $q$" + pg.Password + "$q$::int"
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		statuses []string
		check    func(t *testing.T, res execResult)
	}{
		{"success", []string{"-c", "SELECT generate_series(1, 3); CREATE TEMP TABLE t (n int); INSERT INTO t VALUES (1), (2)", dsn}, exitOK,
			[]string{stmtDone, stmtDone, stmtDone}, func(t *testing.T, res execResult) {
				assert.Equal(t, "SELECT 3", res.Statements[0].Tag)
				assert.EqualValues(t, 3, *res.Statements[0].Rows)
				assert.Equal(t, "CREATE TABLE", res.Statements[1].Tag)
				assert.EqualValues(t, 0, *res.Statements[1].Rows)
				assert.Equal(t, "INSERT 0 2", res.Statements[2].Tag)
				assert.EqualValues(t, 2, *res.Statements[2].Rows)
				assert.Empty(t, res.Error)
			}},
		{"sql error", []string{"-c", "SELECT 1;\nSELECT * FROM nope; SELECT 3", dsn}, exitSQL,
			[]string{stmtDone, stmtFailed, stmtNotRun}, func(t *testing.T, res execResult) {
				assert.Equal(t, 2, res.Statements[1].Line)
				assert.Contains(t, res.Statements[1].Error, `relation "nope" does not exist (SQLSTATE 42P01)`)
				assert.Empty(t, res.Error, "the statement holds the reason")
			}},
		{"error quoting the password", []string{"-c", quotesPassword, dsn}, exitSQL,
			[]string{stmtFailed}, func(t *testing.T, res execResult) {
				assert.Contains(t, res.Statements[0].Error, `invalid input syntax for type integer: "xxxxx"`)
			}},
		{"session ended by the server", []string{"-c", "SELECT 1; SELECT pg_terminate_backend(pg_backend_pid()); SELECT 3", dsn}, exitLost,
			[]string{stmtDone, stmtLost, stmtNotRun}, func(t *testing.T, res execResult) {
				assert.Contains(t, res.Statements[1].Error, "SQLSTATE 57P01")
				assert.Nil(t, res.Outcome, "the server said it ended the session: nothing to ask")
			}},
		{"no statements", []string{"-c", " -- nothing\n;", dsn}, exitUsage, nil, func(t *testing.T, res execResult) {
			assert.Contains(t, res.Error, "-c: no SQL statements")
			assert.Empty(t, res.Server)
		}},
		{"could not connect", []string{"-c", "SELECT 1", "--connect-timeout", "5s",
			(&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", pg.Password), Host: "127.0.0.1:1", Path: "/postgres", RawQuery: "sslmode=disable"}).String()},
			exitConnect, nil, func(t *testing.T, res execResult) {
				assert.Contains(t, res.Error, "could not connect")
				assert.Contains(t, res.DSN, "127.0.0.1:1")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), "", nil, append([]string{"exec", "--json"}, tc.args...)...)
			t.Logf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			require.Equal(t, tc.code, r.code)
			res := execJSON(t, r)
			var statuses []string
			for i, s := range res.Statements {
				assert.Equal(t, i+1, s.N)
				statuses = append(statuses, s.Status)
			}
			assert.Equal(t, tc.statuses, statuses)
			if tc.code != exitUsage {
				assert.Contains(t, res.DSN, "xxxxx", "the DSN, masked")
			}
			if tc.statuses != nil {
				assert.NotZero(t, res.ServerPID)
				assert.Contains(t, r.stderr, fmt.Sprintf("server process id %d", res.ServerPID), "the text lines go to stderr")
				assert.NotEmpty(t, res.ServerVersion)
				assert.False(t, res.Redshift)
			}
			assert.NotContains(t, r.stdout, "SELECT 1;", "no statement text")
			assert.NotContains(t, r.stdout, "generate_series", "no statement text")
			tc.check(t, res)
			noSecret(t, pg, r.all())
		})
	}
	t.Run("bad flag: nothing on stdout", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "exec", "--json", "--wait", "soon", "-c", "SELECT 1", dsn)
		assert.Equal(t, exitUsage, r.code)
		assert.Empty(t, r.stdout)
	})
}
