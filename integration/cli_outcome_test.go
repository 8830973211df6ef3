//go:build linux

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// cliOutcome is exec --json's object, as far as these tests read it.
type cliOutcome struct {
	ServerPID  uint32 `json:"server_pid"`
	Statements []struct {
		N      int    `json:"n"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"statements"`
	Outcome      *outcome.Statement `json:"outcome"`
	OutcomeError string             `json:"outcome_error"`
	Exit         int                `json:"exit"`
}

// TestCLIExecOutcomes: the exit statuses of `redshift-ka exec` after a
// lost connection, on PostgreSQL through the kernel firewall, in text and
// in --json. Each exec runs one statement longer than the detection of a
// dead path with keep-alive 1/1/3; once the server runs it, the firewall
// drops that connection's packets (its client port), while new
// connections pass, as through a NAT gateway that forgot one flow. exec
// says the connection is lost, reconnects, and asks the server:
//
//   - no --wait: still running, exit 3;
//   - --wait shorter than the rest of the statement: still running, exit 3
//     once the wait is over;
//   - --wait long enough: the statement ended on the server, exit 7, within
//     a poll (1 s) of its end; PostgreSQL does not record success;
//   - a statement that fails on the server after the cut (division by zero
//     after the sleep), waited for: exit 7 too, since PostgreSQL records no
//     more than that it ended.
//
// With --json, standard output is one object, whose exit is the process's
// and whose outcome is the server's answer, without the statement's text;
// no output shows the password. All eight run at once.
func TestCLIExecOutcomes(t *testing.T) {
	const (
		idle      = time.Second
		intvl     = time.Second
		count     = 3
		dead      = idle + count*intvl // a dead path is noticed within this
		pollEvery = time.Second        // outcome.Of asks again this often
		// sleep outlasts the detection after the cut (dead), the reconnect
		// and shortWait, with margin for a loaded machine.
		sleep     = 15 * time.Second
		shortWait = 3 * time.Second
		longWait  = time.Minute
	)
	bin := buildCLI(t)
	fw := harness.NewFirewallT(t, 10*time.Second)
	pg := harness.StartPostgresT(t, harness.PostgresOptions{Netns: fw.Server.Name, ListenAddr: harness.ServerAddr})
	// The test's own look at the server goes through the Unix-domain
	// socket, from any namespace.
	local, err := sql.Open("pgx", fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", filepath.Dir(pg.UnixSocket()), pg.Port))
	require.NoError(t, err)
	t.Cleanup(func() { local.Close() })
	ka := fmt.Sprintf("KeepAlivesIdle=%d&KeepAlivesInterval=%d&KeepAlivesCount=%d", idle/time.Second, intvl/time.Second, count)
	sleepSQL := fmt.Sprintf("pg_sleep(%g)", sleep.Seconds())

	type run struct {
		name, query string
		wait        time.Duration
		json        bool
		code        int
		state       string // the server's answer
		p           *cliProcess
		cut         chan cutResult
	}
	var runs []*run
	for _, c := range []struct {
		name, query string
		wait        time.Duration
		code        int
		state       string
	}{
		{"no wait: running", "SELECT " + sleepSQL, 0, 3, outcome.Running},
		{"wait too short: running", "SELECT " + sleepSQL, shortWait, 3, outcome.Running},
		{"waited: ended", "SELECT " + sleepSQL, longWait, 7, outcome.Finished},
		{"waited: failed on the server", "DO $$BEGIN PERFORM " + sleepSQL + "; PERFORM 1/0; END$$", longWait, 7, outcome.Finished},
	} {
		for _, asJSON := range []bool{false, true} {
			r := &run{name: c.name, query: c.query, wait: c.wait, json: asJSON, code: c.code, state: c.state, cut: make(chan cutResult, 1)}
			if asJSON {
				r.name += ", json"
			}
			args := []string{"exec", "--progress", "0", "-c", r.query}
			if r.wait > 0 {
				args = append(args, "--wait", r.wait.String())
			}
			if asJSON {
				args = append(args, "--json")
			}
			r.p = startCLI(t, fw, bin, pg.URL(ka), args...)
			runs = append(runs, r)
		}
	}
	// Each exec is watched at once, so that the times are when its lines
	// came.
	for _, r := range runs {
		go func() { r.cut <- watchCut(fw, local, r.p, r.query, r.wait > 0, dead+5*time.Second) }()
	}

	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			var cut cutResult
			select {
			case cut = <-r.cut:
			case <-time.After(cutBound + time.Second + dead + 5*time.Second + askBound):
				t.Fatal("watchCut did not end in time")
			}
			require.NoError(t, cut.err, "%s%s", r.p.stdout.String(), r.p.stderr.String())
			pid := strconv.Itoa(cut.pid)
			timing(t, fmt.Sprintf("exec said the connection was lost (DeadAfter %s)", dead), cut.noticed.Sub(cut.at), dead-intvl, dead+1500*time.Millisecond)
			if r.wait > 0 {
				assert.Contains(t, r.p.stderr.String(), fmt.Sprintf("waiting up to %s for it to end", r.wait))
			}
			code := r.p.wait(time.Since(r.p.start) + sleep + 2*defaultConnectTimeout)
			out := r.p.stdout.String() + r.p.stderr.String()
			t.Logf("exit %d %s after the cut; stdout:\n%s\nstderr:\n%s", code, r.p.end.Sub(cut.at).Round(time.Millisecond), r.p.stdout.String(), r.p.stderr.String())
			require.NotEqual(t, -1, code, "still running")
			assert.Equal(t, r.code, code)
			harness.NoLeak(t, pg, "exec's output", out)

			var line string
			switch {
			case r.state == outcome.Running:
				line = "the statement is still running on the server (process " + pid + ", for "
			default:
				line = "the statement finished on the server at "
			}
			assert.Contains(t, r.p.stderr.String(), line)
			assert.Contains(t, r.p.stderr.String(), "statement 1 of 1 (line 1): the connection was lost after")
			if r.state == outcome.Finished {
				assert.Contains(t, r.p.stderr.String(), "PostgreSQL does not record whether a statement succeeded", "no claim of success or failure")
			}

			switch r.wait {
			case shortWait:
				// Over once the wait is: it asks every pollEvery until then.
				timing(t, fmt.Sprintf("exec --wait %s, from the start of the wait to the exit", r.wait), r.p.end.Sub(cut.waiting), r.wait-time.Second, r.wait+2*time.Second)
			case longWait:
				// The statement ends sleep after it started on the server,
				// after exec started and before the test saw it run; exec
				// asks every pollEvery.
				timing(t, fmt.Sprintf("exec --wait %s, from its start to its exit", r.wait), r.p.end.Sub(r.p.start), sleep, cut.started.Sub(r.p.start)+sleep+pollEvery+2*time.Second)
			}

			if !r.json {
				assert.Contains(t, r.p.stdout.String(), "server process id "+pid, "the text lines on stdout")
				return
			}
			dec := json.NewDecoder(strings.NewReader(r.p.stdout.String()))
			var res cliOutcome
			require.NoError(t, dec.Decode(&res), "stdout is one JSON object")
			_, err := dec.Token()
			require.ErrorIs(t, err, io.EOF, "nothing after the object")
			assert.Equal(t, code, res.Exit, "exit in the object")
			assert.EqualValues(t, cut.pid, res.ServerPID)
			require.Len(t, res.Statements, 1)
			assert.Equal(t, "lost", res.Statements[0].Status)
			assert.Contains(t, res.Statements[0].Error, fmt.Sprintf("%d keep-alive probes went unanswered", count))
			assert.Empty(t, res.OutcomeError)
			require.NotNil(t, res.Outcome, "the server's answer")
			assert.Equal(t, r.state, res.Outcome.State)
			assert.EqualValues(t, cut.pid, res.Outcome.PID)
			assert.Empty(t, res.Outcome.Query, "no statement text")
			assert.NotContains(t, r.p.stdout.String(), "pg_sleep", "no statement text")
			assert.Empty(t, res.Outcome.Result, "PostgreSQL records neither success nor failure")
			switch r.state {
			case outcome.Running:
				assert.Positive(t, res.Outcome.For)
				assert.Less(t, res.Outcome.For, sleep)
			case outcome.Finished:
				assert.GreaterOrEqual(t, res.Outcome.For, sleep, "it ran the whole sleep")
				timing(t, "from the statement's end on the server to exec's exit", r.p.end.Sub(res.Outcome.Ended), 0, pollEvery+time.Second)
			}
		})
	}
}

// askBound bounds a reconnect and a question to the server, on a loaded
// machine.
const askBound = 10 * time.Second

// cutBound bounds exec's start, connect and statement, up to the cut.
const cutBound = 20 * time.Second

// cutResult is a cut of one exec's connection, and what exec then said.
type cutResult struct {
	pid     int       // the server process id exec printed
	started time.Time // when the test saw the statement run on the server
	at      time.Time // when the cut was made
	noticed time.Time // when exec said the connection was lost
	waiting time.Time // when exec said it waits (--wait)
	err     error
}

// watchCut cuts p's connection once the server runs query
// ([cutWhenRunning]) and notes when p says the connection is lost, within
// lostBound, and, with waits, when it says that it waits.
func watchCut(fw *harness.Firewall, local *sql.DB, p *cliProcess, query string, waits bool, lostBound time.Duration) cutResult {
	res := cutWhenRunning(fw, local, p, query)
	if res.err != nil {
		return res
	}
	var ok bool
	if res.noticed, ok = p.waitStderr("the connection was lost", lostBound); !ok {
		res.err = fmt.Errorf("no lost connection within %s of the cut", lostBound)
		return res
	}
	if waits {
		// exec asks the server once before it waits: a reconnect.
		if res.waiting, ok = p.waitStderr("; waiting up to ", askBound); !ok {
			res.err = fmt.Errorf("no wait within %s of the lost connection", askBound)
		}
	}
	return res
}

var serverPIDRE = regexp.MustCompile(`server process id (\d+)`)

// cutWhenRunning waits until the server runs query for p, on the process
// id p printed, and the server has acknowledged it, and then drops the packets of that
// connection. Every wait is bounded.
func cutWhenRunning(fw *harness.Firewall, local *sql.DB, p *cliProcess, query string) cutResult {
	var res cutResult
	deadline := time.Now().Add(cutBound)
	for ; res.pid == 0; time.Sleep(20 * time.Millisecond) {
		if m := serverPIDRE.FindStringSubmatch(p.stdout.String() + p.stderr.String()); m != nil {
			res.pid, _ = strconv.Atoi(m[1])
		} else if time.Now().After(deadline) {
			return cutResult{err: fmt.Errorf("no server process id printed within %s", cutBound)}
		}
	}
	for ; ; time.Sleep(20 * time.Millisecond) {
		var state, running string
		var port int
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := local.QueryRowContext(ctx, "SELECT coalesce(state, ''), coalesce(query, ''), coalesce(client_port, 0) FROM pg_stat_activity WHERE pid = $1",
			res.pid).Scan(&state, &running, &port)
		cancel()
		if err == nil && state == "active" && running == query {
			res.started = time.Now()
			// The server's acknowledgement of the statement (a delayed ACK,
			// within 200 ms on Linux) must get through: while data is
			// unacknowledged the kernel retransmits instead of probing, and
			// keep-alive is not what notices the cut.
			if res.err = acked(fw.Client); res.err == nil {
				res.err = fw.CutPort(port)
			}
			res.at = time.Now()
			return res
		}
		if time.Now().After(deadline) {
			return cutResult{err: fmt.Errorf("process %d not running the statement within %s: state %q, error %v", res.pid, cutBound, state, err)}
		}
	}
}
