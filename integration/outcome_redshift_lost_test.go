//go:build linux

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// lostSleep is the statement the Redshift tests lose: longer than any of
// them runs, so that it still runs upstream whatever the tests' rows say.
const lostSleep = "pg_sleep(120)"

// historyRow is a row the test writes into the emulated SYS_QUERY_HISTORY
// for a session, and loaded, if not 0, the SYS_LOAD_HISTORY row of a COPY.
type historyRow struct {
	status   string // success, failed, canceled, running
	typ      string // SELECT, COPY
	msg      string
	returned int64
	loaded   int64
}

// writeHistory writes r as the statement query of session pid, started at
// start, ended at end unless it runs, as query id id.
func writeHistory(t *testing.T, up *pgx.Conn, id int64, pid uint32, query string, r historyRow, start, end time.Time) {
	t.Helper()
	ctx := context.Background()
	var ended any = end
	if r.status == "running" {
		ended = nil
	}
	_, err := up.Exec(ctx, `INSERT INTO redshift.sys_query_history (user_id, query_id, session_id, query_type, status, start_time, end_time, error_message, returned_rows, query_text)
		VALUES (100, $1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, int64(pid), r.typ, r.status, start, ended, r.msg, r.returned, query)
	require.NoError(t, err)
	if r.loaded != 0 {
		_, err = up.Exec(ctx, `INSERT INTO redshift.sys_load_history (user_id, query_id, session_id, status, table_name, start_time, end_time, loaded_rows)
			VALUES (100, $1, $2, 'completed', 'sales', $3, $4, $5)`, id, int64(pid), start, end, r.loaded)
		require.NoError(t, err)
	}
}

// awaitRunning waits, bounded, until the upstream server runs query in a
// session (of process pid, if not 0): the statement has left the client
// before the path is cut.
func awaitRunning(t *testing.T, up *pgx.Conn, pid uint32, query string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		require.NoError(t, up.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE query = $1 AND state = 'active' AND ($2 = 0 OR pid = $2)", query, int64(pid)).Scan(&n))
		if n == 1 {
			return
		}
		require.True(t, time.Now().Before(deadline), "%q (process %d) not running upstream after 10 s", query, pid)
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitAcked waits, bounded, until no TCP connection in ns has data the
// peer has not acknowledged. A statement just sent may wait up to the
// peer's delayed-ACK time (200 ms) for its acknowledgement: a path cut
// before it comes leaves the data in flight, and then keep-alive does not
// run (the retransmissions do, for about 15 minutes unless
// tcp_user_timeout is set), so the tests cut only once it has come.
func awaitAcked(t *testing.T, ns *harness.Netns) {
	t.Helper()
	require.NoError(t, acked(ns))
}

// acked is awaitAcked for a goroutine: it returns what went wrong.
func acked(ns *harness.Netns) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := ns.Run("ss", "-tnH", "state", "established")
		if err != nil {
			return err
		}
		inFlight := false
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[1] != "0" {
				inFlight = true
			}
		}
		if !inFlight {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("data unacknowledged after 5 s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cutPath cuts every path through fw and says when; restore brings them
// back, and the test's end does if it has not.
func cutPath(t *testing.T, fw *harness.Firewall) (cut time.Time, restore func()) {
	t.Helper()
	require.NoError(t, fw.Cut())
	cut = time.Now()
	restored := false
	restore = func() {
		if !restored {
			restored = true
			require.NoError(t, fw.Restore())
		}
	}
	t.Cleanup(restore)
	return cut, restore
}

// waitAllStderr polls the processes' stderr for s, up to bound, and says
// when it saw it in each (zero where it did not).
func waitAllStderr(ps []*cliProcess, s string, bound time.Duration) []time.Time {
	seen := make([]time.Time, len(ps))
	deadline := time.Now().Add(bound)
	for left := len(ps); left > 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, p := range ps {
			if seen[i].IsZero() && strings.Contains(p.stderr.String(), s) {
				seen[i], left = time.Now(), left-1
			}
		}
	}
	return seen
}

// TestCLIExecRedshiftLost runs `redshift-ka exec` in the client namespace
// against the Redshift front end behind the kernel firewall, thirteen at
// once (each case but the waited one also with --json, whose object must
// say the same), each a statement that runs for minutes. The path is cut; each
// says the connection was lost once keep-alive 1/1/3 gives up; the path
// comes back; each reconnects and reads what the test wrote in the
// emulated SYS_QUERY_HISTORY (and SYS_LOAD_HISTORY) for the server
// process id it printed, and exits with the status the answer calls for:
// finished with success, with the rows returned or, for a COPY, loaded
// (5); failed, with the message (6); cancelled (6); still running (3);
// running, then finished with success while --wait polls (5, within a
// poll of the change); no row (3, unknown).
//
// The rows are the test's: what the server did with the statement upstream
// does not matter here.
func TestCLIExecRedshiftLost(t *testing.T) {
	const wait = 30 * time.Second // exec --wait; the test ends the wait long before
	bin := buildCLI(t)
	fw := harness.NewFirewallT(t, fwIdle)
	pg, up := startRedshiftUpstream(t)
	fe := startFrontEnd(t, pg, frontEndOptions{Netns: fw.Server})
	dsn := fe.Server().URL(fastKA.params())

	type tc struct {
		name string
		row  *historyRow // nil: no row
		args []string
		code int
		want []string
		json bool // --json: the answer is read from the object on stdout
	}
	cases := []tc{
		{"success", &historyRow{status: "success", typ: "SELECT", returned: 42}, nil, 5,
			[]string{"with success (42 rows)"}, false},
		{"copy", &historyRow{status: "success", typ: "COPY", loaded: 1234567}, nil, 5,
			[]string{"with success (1,234,567 rows)"}, false},
		{"failed", &historyRow{status: "failed", typ: "SELECT", msg: "Query (4242) cancelled by WLM abort action of Query Monitoring Rule \"too_long\"."}, nil, 6,
			[]string{`, failed: Query (4242) cancelled by WLM abort action of Query Monitoring Rule "too_long".`}, false},
		{"cancelled", &historyRow{status: "canceled", typ: "SELECT"}, nil, 6,
			[]string{"the statement was cancelled on the server at "}, false},
		{"running", &historyRow{status: "running", typ: "SELECT"}, nil, 3,
			[]string{"the statement is still running on the server (process "}, false},
		{"waited", &historyRow{status: "running", typ: "SELECT", returned: 7}, []string{"--wait", wait.String()}, 5,
			[]string{"; waiting up to " + wait.String() + " for it to end", "with success (7 rows)"}, false},
		{"no row", nil, nil, 3,
			[]string{"what became of the statement is unknown (process ", "SYS_QUERY_HISTORY has no statement of session ",
				"the statement may have finished on the server. Before running it again, look for server process id "}, false},
	}
	for _, c := range slices.Clone(cases) {
		if c.name != "waited" {
			c.name, c.json, c.args = c.name+", json", true, append(c.args, "--json")
			cases = append(cases, c)
		}
	}
	ps := make([]*cliProcess, len(cases))
	queries := make([]string, len(cases))
	for i, c := range cases {
		queries[i] = fmt.Sprintf("SELECT %s, '%s'", lostSleep, c.name)
		ps[i] = startCLI(t, fw, bin, dsn, append([]string{"exec", "-c", queries[i]}, c.args...)...)
	}
	pids := make([]uint32, len(cases))
	for i, p := range ps {
		started := waitAny(p, "statement 1 of 1 (line 1) started", 10*time.Second)
		require.True(t, started, "%s: no start: %s%s", cases[i].name, p.stdout.String(), p.stderr.String())
		m := serverPIDRE.FindStringSubmatch(p.stdout.String() + p.stderr.String())
		require.Len(t, m, 2, p.stdout.String()+p.stderr.String())
		pid, err := strconv.ParseUint(m[1], 10, 32)
		require.NoError(t, err)
		pids[i] = uint32(pid)
		assert.Contains(t, p.stdout.String()+p.stderr.String(), "version Amazon Redshift "+redshiftPadbVersion, "exec sees Redshift")
		// The pid exec printed is the upstream session running the statement.
		awaitRunning(t, up, pids[i], queries[i])
	}
	awaitAcked(t, fw.Client)
	start := time.Now().UTC().Truncate(time.Microsecond)
	end := start.Add(2 * time.Second)
	for i, c := range cases {
		if c.row != nil {
			writeHistory(t, up, int64(i+1), pids[i], queries[i], *c.row, start, end)
		}
	}

	cut, restore := cutPath(t, fw)
	dead := fastKA.d(fastKA.idle + fastKA.interval*fastKA.count)
	noticed := waitAllStderr(ps, "the connection was lost", dead+5*time.Second)
	for i, at := range noticed {
		require.False(t, at.IsZero(), "%s: no lost connection %s after the cut:\n%s%s", cases[i].name, time.Since(cut), ps[i].stdout.String(), ps[i].stderr.String())
		timing(t, fmt.Sprintf("Redshift front end, path cut: exec %q said the connection was lost (DeadAfter %s)", cases[i].name, dead),
			at.Sub(cut), dead-fastKA.d(fastKA.interval), dead+1500*time.Millisecond)
	}
	restore()

	// The waited one polls while its row says running; then it ends.
	wi := slices.IndexFunc(cases, func(c tc) bool { return c.name == "waited" })
	w := ps[wi]
	_, ok := w.waitStderr("waiting up to", 2*defaultConnectTimeout)
	require.True(t, ok, "waited: no wait:\n%s%s", w.stdout.String(), w.stderr.String())
	select {
	case <-w.done:
		t.Fatalf("waited: exec ended while the row still said running:\n%s%s", w.stdout.String(), w.stderr.String())
	default:
	}
	_, err := up.Exec(context.Background(), "UPDATE redshift.sys_query_history SET status = 'success', end_time = $1 WHERE session_id = $2",
		time.Now().UTC(), int64(pids[wi]))
	require.NoError(t, err)
	updated := time.Now()
	poll := time.Second // outcome's pollEvery
	code := w.wait(time.Since(w.start) + poll + 5*time.Second)
	require.NotEqual(t, -1, code, "waited: still waiting %s after the row said success:\n%s%s", time.Since(updated), w.stdout.String(), w.stderr.String())
	timing(t, "exec --wait: exit after the row said success", w.end.Sub(updated), 0, poll+5*time.Second)

	for i, c := range cases {
		p := ps[i]
		code := p.wait(time.Since(p.start) + 2*defaultConnectTimeout)
		out := p.stdout.String() + p.stderr.String()
		t.Logf("%s: exit %d after %.2fs:\n%s", c.name, code, p.end.Sub(p.start).Seconds(), out)
		assert.Equal(t, c.code, code, "%s", c.name)
		pid := strconv.FormatUint(uint64(pids[i]), 10)
		assert.Contains(t, p.stderr.String(), "statement 1 of 1 (line 1): the connection was lost after ", c.name)
		for _, want := range c.want {
			assert.Contains(t, p.stderr.String(), strings.ReplaceAll(want, "(process ", "(process "+pid), c.name)
		}
		if c.code != 3 || c.row != nil {
			assert.NotContains(t, p.stderr.String(), "could not", c.name)
		}
		harness.NoLeak(t, pg, c.name+": exec's output", out)
		if c.json {
			var res cliOutcome
			require.NoError(t, json.Unmarshal([]byte(p.stdout.String()), &res), "%s: stdout is one JSON object: %s", c.name, p.stdout.String())
			assert.Equal(t, code, res.Exit, c.name)
			assert.Equal(t, pids[i], res.ServerPID, c.name)
			require.Len(t, res.Statements, 1, c.name)
			assert.Equal(t, "lost", res.Statements[0].Status, c.name)
			assert.NotContains(t, p.stdout.String(), queries[i], "%s: no statement text", c.name)
			if c.row == nil {
				require.NotNil(t, res.Outcome, c.name)
				assert.Equal(t, outcome.Unknown, res.Outcome.State, c.name)
				continue
			}
			require.NotNil(t, res.Outcome, "%s: the server's answer", c.name)
			o := res.Outcome
			assert.Equal(t, "Amazon Redshift", o.Server, c.name)
			assert.Equal(t, pids[i], o.PID, c.name)
			assert.Empty(t, o.Query, c.name)
			switch c.row.status {
			case "success":
				assert.Equal(t, outcome.Finished, o.State, c.name)
				assert.Equal(t, "success", o.Result, c.name)
				assert.EqualValues(t, max(c.row.returned, c.row.loaded), o.Rows, c.name)
			case "failed":
				assert.Equal(t, outcome.Finished, o.State, c.name)
				assert.Equal(t, "failed", o.Result, c.name)
				assert.Equal(t, c.row.msg, o.Message, c.name)
			case "canceled":
				assert.Equal(t, outcome.Cancelled, o.State, c.name)
			case "running":
				assert.Equal(t, outcome.Running, o.State, c.name)
			}
		}
	}
}

// waitAny polls stdout and stderr for s, up to bound.
func waitAny(p *cliProcess, s string, bound time.Duration) bool {
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.stdout.String()+p.stderr.String(), s) {
			return true
		}
	}
	return false
}

// TestOutcomeRedshiftLost: outcome.Of after a real lost connection to the
// Redshift front end behind the firewall, on both backends: a statement on
// a pgx-backed and one on a lib/pq-backed database, the path cut under
// both; each fails with a lost connection that names its server process
// id; the path back, each database asks about both statements and reads
// the rows the test wrote for those sessions in the emulated
// SYS_QUERY_HISTORY: the first finished with success and 42 rows, the
// second failed with its message.
func TestOutcomeRedshiftLost(t *testing.T) {
	s := &setup{fw: harness.NewFirewallT(t, fwIdle)}
	pg, up := startRedshiftUpstream(t)
	fe := startFrontEnd(t, pg, frontEndOptions{Netns: s.fw.Server})
	s.pg = fe.Server()
	backends := []string{driver.Name, rkpq.Name}
	dbs := make([]*sql.DB, len(backends))
	conns := make([]*sql.Conn, len(backends))
	for i, b := range backends {
		dbs[i], conns[i] = s.open(t, b, s.pg.URL(fastKA.params()))
	}
	dead := fastKA.d(fastKA.idle + fastKA.interval*fastKA.count)
	bound := dead + 2*outcomeSleep
	queries := make([]string, len(backends))
	chs := make([]<-chan result, len(backends))
	sent := time.Now()
	for i, b := range backends {
		queries[i] = fmt.Sprintf("SELECT %s, '%s'", lostSleep, b)
		chs[i] = runFor(conns[i], bound, queries[i])
	}
	for _, q := range queries {
		awaitRunning(t, up, 0, q)
	}
	awaitAcked(t, s.fw.Client)
	cut, restore := cutPath(t, s.fw)
	lost := make([]error, len(backends))
	pids := make([]uint32, len(backends))
	for i, b := range backends {
		r := awaitResult(t, chs[i], bound+ctxGrace, b)
		require.ErrorIs(t, r.err, dialer.ErrConnectionLost, "%s", b)
		var cl *dialer.ConnLostError
		require.True(t, errors.As(r.err, &cl), "%s", b)
		require.NotZero(t, cl.ServerPID, "%s", b)
		assert.False(t, cl.Sent.Before(sent), "%s: Sent %s, before the statement", b, cl.Sent)
		lost[i], pids[i] = r.err, cl.ServerPID
		timing(t, b+": lost connection to the Redshift front end, path cut", time.Since(cut), dead-fastKA.d(fastKA.interval), dead+1500*time.Millisecond)
	}
	restore()

	start := time.Now().UTC().Truncate(time.Microsecond)
	end := start.Add(1234 * time.Millisecond)
	rows := []historyRow{
		{status: "success", typ: "SELECT", returned: 42},
		{status: "failed", typ: "SELECT", msg: "Numeric data overflow (result precision)"},
	}
	for i := range backends {
		writeHistory(t, up, int64(i+1), pids[i], queries[i], rows[i], start, end)
	}
	for i, b := range backends {
		for j := range backends {
			var st outcome.Statement
			s.inClient(t, func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 2*defaultConnectTimeout)
				defer cancel()
				var err error
				st, err = outcome.Of(ctx, dbs[i], lost[j], queries[j], false)
				return err
			})
			t.Logf("%s asks about %s's statement: %s", b, backends[j], st)
			assert.Equal(t, "Amazon Redshift", st.Server)
			assert.Equal(t, pids[j], st.PID)
			assert.Equal(t, outcome.Finished, st.State)
			assert.Equal(t, rows[j].status, st.Result)
			assert.Equal(t, rows[j].msg, st.Message)
			if rows[j].status == "success" {
				assert.EqualValues(t, rows[j].returned, st.Rows)
			}
			assert.True(t, st.Ended.Equal(end), "%s", st.Ended)
			assert.Equal(t, 1234*time.Millisecond, st.For)
			assert.Equal(t, queries[j], st.Query)
		}
	}
}
