package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	serverside "github.com/redshift-ka/redshift-ka/outcome"
	"github.com/redshift-ka/redshift-ka/settings"
)

// cancelWait is how long exec waits, after Ctrl-C, for the cancel request
// to reach the server and for the statement to end.
const cancelWait = 10 * time.Second

// queryCanceled is SQLSTATE 57014, the error of a cancelled statement.
const queryCanceled = "57014"

func (a *app) exec(args []string) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	var o execOptions
	fs.Var((*sqlList)(&o.sql), "c", "run the `SQL` statements given here; repeated, each -c runs after the one before")
	fs.StringVar(&o.file, "f", "", "run the SQL statements in `FILE` (-: standard input)")
	durationVar(fs, &o.progress, "progress", 30*time.Second, "print a progress line every `duration` when the output is not a terminal (0: never)")
	durationVar(fs, &o.timeout, "connect-timeout", defaultConnectTimeout, "give up connecting after this `duration` (0: no limit)")
	durationVar(fs, &o.wait, "wait", 0, "after a lost connection, wait up to this `duration` for a statement still running on the server to end (0: do not wait)")
	fs.BoolVar(&o.json, "json", false, "when exec ends, print one JSON object on standard output, and the other lines on standard error")
	fs.Var(&o.rows, "rows", "print the rows of the last statement on standard output, tab-separated (--rows=csv: CSV), and the other lines on standard error")
	pos, help, err := a.parseFlags(fs, execUsage, args)
	if help {
		return exitOK
	}
	if err != nil {
		a.errorf("exec: %v; see redshift-ka help exec", err)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		o.setC = o.setC || f.Name == "c"
		o.setF = o.setF || f.Name == "f"
	})
	res := newExecResult()
	if o.json || o.rows != "" {
		a.tty = nil // no status line on standard output
	}
	code := a.execWith(o, pos, res)
	if o.json {
		if code != exitOK {
			res.Error = a.failure
		}
		res.Exit = code
		if err := writeJSON(a.stdout, res); err != nil {
			a.errorf("exec: write the JSON result: %v", err)
		}
	}
	return code
}

// execOptions are exec's flags.
type execOptions struct {
	sql                     []string // each -c, in order
	file                    string
	setC, setF              bool // -c and -f were given
	progress, timeout, wait time.Duration
	json                    bool
	rows                    rowsFormat
}

// sqlList is the -c flag: each one given is kept, in order.
type sqlList []string

func (l *sqlList) Set(v string) error { *l = append(*l, v); return nil }
func (l *sqlList) String() string     { return "" }
func (l *sqlList) Get() any           { return []string(*l) }

// rowsFormat is the --rows flag: "" (off), "tsv" or "csv". Alone, --rows
// is tsv.
type rowsFormat string

func (r *rowsFormat) Set(v string) error {
	switch strings.ToLower(v) {
	case "true", "tsv":
		*r = "tsv"
	case "csv":
		*r = "csv"
	case "false":
		*r = ""
	default:
		return errors.New("want tsv or csv")
	}
	return nil
}

func (r *rowsFormat) String() string   { return string(*r) }
func (r *rowsFormat) Get() any         { return *r }
func (r *rowsFormat) IsBoolFlag() bool { return true }

// stdinName is -f's name for standard input.
const stdinName = "-"

// execWith runs exec with its flags read, recording in res what it did.
func (a *app) execWith(o execOptions, pos []string, res *execResult) int {
	if o.setC == o.setF {
		return a.fail(exitUsage, "exec: give the statements with either -c SQL or -f FILE")
	}
	if o.progress < 0 {
		return a.fail(exitUsage, "exec: --progress %s: want a positive duration such as 30s, or 0", o.progress)
	}
	if o.wait < 0 {
		return a.fail(exitUsage, "exec: --wait %s: want a positive duration such as 1h, or 0", o.wait)
	}
	if o.rows != "" && o.json {
		return a.fail(exitUsage, "exec: --rows and --json go to standard output both: give one of them")
	}
	dsn, err := a.dsnFrom(pos)
	if err != nil {
		return a.fail(exitUsage, "exec: %v", err)
	}
	a.scrub(dsn)
	res.DSN = dsnparse.Redact(dsn)

	srcs, from := o.sql, "-c"
	if o.setF {
		from = o.file
		if from == stdinName {
			from = "standard input"
		}
		if strings.Contains(from, "=") || strings.Contains(from, "://") {
			// A DSN typed after -f by mistake must not be repeated.
			from = dsnparse.Redact(from)
		}
		b, err := a.readSQL(o.file)
		if a.ctx.Err() != nil {
			return a.fail(exitInterrupted, "exec: interrupted while reading %s", from)
		}
		if err != nil {
			return a.fail(exitUsage, "exec: cannot read the statements of %s: %v", from, err)
		}
		srcs = []string{string(b)}
	}
	sqlFromStdin := o.setF && o.file == stdinName
	// How a backslash in '...' reads is the server's choice, known once
	// connected (see runner.run): input that neither reading can run is
	// refused now, before any dial.
	if _, err := statements(srcs, false, sqlFromStdin); err != nil {
		if _, errBS := statements(srcs, true, sqlFromStdin); errBS != nil {
			return a.fail(exitUsage, "exec: %s: %v", from, err)
		}
	}

	connector, err := driver.NewConnector(dsn)
	if err != nil {
		return a.fail(exitUsage, "exec: %s", dsnError(err))
	}
	a.scrub(connector.DSN().Rest) // an odbc.ini data source may have added a password
	db := sql.OpenDB(connector)
	defer db.Close()
	defer a.pushMetrics("exec", db)() // before db.Close: the connection is still open
	ctx, cancel := connectContext(a.ctx, o.timeout)
	conn, err := a.connect(ctx, db, connector.Login())
	cancel()
	if err != nil {
		return a.connectFailed("exec", err, false)
	}
	defer conn.Close()
	code := exitOK
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		r := &runner{app: a, pc: sc.Conn().PgConn(), srcs: srcs, sqlFromStdin: sqlFromStdin, from: from, every: o.progress,
			db: db, creds: connector.Login(), connectTimeout: o.timeout, wait: o.wait, res: res, asJSON: o.json}
		if o.rows != "" {
			r.rows = &rowWriter{w: a.stdout, csv: o.rows == "csv"}
		}
		rep, err := settings.ReadPgx(r.pc)
		if err == nil {
			r.report = &rep
		}
		r.server = rep.Server
		code = r.run()
		return nil
	})
	if err != nil {
		return a.fail(exitConnect, "exec: %v", err)
	}
	return code
}

// maxSQLFile is the most exec reads from -f FILE.
const maxSQLFile = 64 << 20

// readSQL reads the statements of -f FILE (standard input for "-"),
// which may be a pipe that is slow to write (-f <(command)) or never is:
// an interrupt ends the wait, leaving the read to end with the process.
func (a *app) readSQL(name string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var in io.Reader = a.stdin
		if name != stdinName {
			f, err := os.Open(name)
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the message around it names the file, redacted
			}
			if err != nil {
				done <- result{nil, err}
				return
			}
			defer f.Close()
			in = f
		}
		b, err := io.ReadAll(io.LimitReader(in, maxSQLFile+1))
		if err == nil && len(b) > maxSQLFile {
			err = fmt.Errorf("larger than %d MiB", maxSQLFile>>20)
		}
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-a.ctx.Done():
		return nil, a.ctx.Err()
	}
}

// statements splits the sources (each -c, or -f's file) and checks that
// exec can run what they hold. Lines are numbered as if the sources were
// one text, each starting on a new line. sqlFromStdin is -f -: standard
// input holds the statements, so no COPY can read it.
func statements(srcs []string, backslashQuotes, sqlFromStdin bool) ([]statement, error) {
	var stmts []statement
	line := 0
	for _, src := range srcs {
		more, err := splitSQL(strings.Repeat("\n", line)+src, backslashQuotes)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, more...)
		line += strings.Count(src, "\n") + 1
	}
	if len(stmts) == 0 {
		return nil, errors.New("no SQL statements")
	}
	copyIn := 0
	for i, st := range stmts {
		if st.copyOut {
			return nil, fmt.Errorf("statement %d (line %d) is COPY ... TO STDOUT, which exec does not support: "+
				"COPY to a file on the server, UNLOAD on Redshift, or psql's \\copy", i+1, st.line)
		}
		if st.copyIn {
			copyIn++
			if sqlFromStdin {
				return nil, fmt.Errorf("statement %d (line %d) is COPY ... FROM STDIN, but -f - reads the statements "+
					"from standard input: give them with -f FILE or -c", i+1, st.line)
			}
		}
	}
	if copyIn > 1 {
		return nil, fmt.Errorf("%d statements are COPY ... FROM STDIN; only one can read standard input", copyIn)
	}
	return stmts, nil
}

// runner runs the statements on one connection.
type runner struct {
	*app
	pc     *pgconn.PgConn
	srcs   []string // the SQL, as given: each -c, or the file
	stmts  []statement
	from   string
	every  time.Duration    // progress lines when not on a terminal
	report *settings.Report // nil when the settings could not be read
	server string           // the server's name and version
	status status
	// After a lost connection: where to reconnect and ask the server what
	// became of the statement (see askServer).
	db             *sql.DB
	creds          driver.Login
	connectTimeout time.Duration
	wait           time.Duration
	res            *execResult // what --json prints
	asJSON         bool        // --json: the text lines go to stderr
	rows           *rowWriter  // --rows: the last statement's rows; text to stderr
	sqlFromStdin   bool        // -f -: standard input holds the statements
}

// text is where the lines for people go: stdout, or with --json, which
// keeps stdout for the JSON object, stderr.
func (r *runner) text() io.Writer {
	if r.asJSON || r.rows != nil {
		return r.stderr
	}
	return r.stdout
}

// outcome is how a statement ended.
type outcome struct {
	tag  pgconn.CommandTag
	rows int64
	err  error
}

func (r *runner) run() int {
	r.res.Server, r.res.ServerPID = r.pc.Conn().RemoteAddr().String(), r.pc.PID()
	r.res.ServerVersion, r.res.Redshift = r.server, driver.IsRedshift(r.pc)
	bs := backslashQuotes(r.pc)
	stmts, err := statements(r.srcs, bs, r.sqlFromStdin)
	if err != nil {
		how := "the server has standard_conforming_strings on: a backslash in '...' is an ordinary character"
		if bs {
			how = "the server reads a backslash in '...' as an escape, as Amazon Redshift does"
		}
		return r.fail(exitUsage, "exec: %s: %v (%s); nothing was run", r.from, err, how)
	}
	r.stmts = stmts
	r.res.split(stmts)
	if code := r.refuseCopyOnRedshift(); code != exitOK {
		return code
	}
	r.status = status{out: r.text(), tty: r.tty, n: len(r.stmts)}
	if r.report != nil {
		r.status.count = r.report.Count
	}
	r.header()
	start := time.Now()
	for i := range r.stmts {
		if r.ctx.Err() != nil {
			return r.fail(exitInterrupted, "exec: interrupted before statement %d; %s", i+1, r.tally(i, false))
		}
		if code := r.runOne(i); code != exitOK {
			return code
		}
	}
	fmt.Fprintf(r.text(), "done: %s in %s\n", plural(len(r.stmts), "statement"), round(time.Since(start)))
	return exitOK
}

// backslashQuotes reports whether the server reads a backslash in '...'
// as an escape, so that \' does not end the literal: PostgreSQL with
// standard_conforming_strings off, and Amazon Redshift, which has no such
// setting, does not report it, and always does (jOOQ issue #10628,
// apache/datafusion-sqlparser-rs issue #1801, dbeaver issue #10747).
func backslashQuotes(pc *pgconn.PgConn) bool {
	return driver.IsRedshift(pc) || pc.ParameterStatus("standard_conforming_strings") == "off"
}

// refuseCopyOnRedshift stops, before anything runs, statements that
// Redshift cannot take: it has no COPY ... FROM STDIN.
func (r *runner) refuseCopyOnRedshift() int {
	if !driver.IsRedshift(r.pc) {
		return exitOK
	}
	for i, st := range r.stmts {
		if st.copyIn {
			return r.fail(exitUsage, "exec: %s: statement %d (line %d) is COPY ... FROM STDIN, which Amazon Redshift does not have: "+
				"its COPY reads from Amazon S3, DynamoDB, EMR or SSH on the server side (COPY ... FROM 's3://...'); nothing was run",
				r.from, i+1, st.line)
		}
	}
	return exitOK
}

// header says where the statements run and with what keep-alive.
func (r *runner) header() {
	server := fmt.Sprintf("connected to %s, server process id %d", r.pc.Conn().RemoteAddr(), r.pc.PID())
	if r.server != "" {
		server += ", version " + r.server
	}
	fmt.Fprintln(r.text(), server)
	if r.report == nil {
		fmt.Fprintln(r.text(), "keep-alive settings: cannot be read back here")
	} else {
		fmt.Fprintln(r.text(), oneLine(*r.report))
		if w := shortWarning(*r.report); w != "" {
			fmt.Fprintf(r.stderr, "redshift-ka: warning: %s\n", w)
		}
	}
	fmt.Fprintf(r.text(), "running %s from %s\n", plural(len(r.stmts), "statement"), r.from)
}

// runOne runs statement i, shows its progress, and handles Ctrl-C.
func (r *runner) runOne(i int) int {
	st := r.stmts[i]
	stmtCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan outcome, 1)
	started := time.Now()
	var rows *rowWriter
	if i == len(r.stmts)-1 {
		rows = r.rows
	}
	go func() { done <- execute(stmtCtx, r.pc, st, r.stdin, rows) }()

	every := r.every
	if r.tty != nil {
		every = time.Second
	}
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	r.status.started(i, st, r.health())
	interrupt := r.ctx.Done()
	for {
		select {
		case o := <-done:
			return r.finished(i, st, time.Since(started), o)
		case <-tick:
			r.status.running(i, st, time.Since(started), r.health())
		case <-interrupt:
			return r.interrupted(i, started, stop, done)
		}
	}
}

// health reads the connection's health; nil where it cannot be read.
func (r *runner) health() *settings.TCPHealth {
	h, err := settings.Health(r.pc.Conn())
	if err != nil {
		return nil
	}
	return &h
}

// finished reports how statement i ended and returns the exit status.
func (r *runner) finished(i int, st statement, took time.Duration, o outcome) int {
	if o.err == nil {
		r.status.done(i, st, took, o)
		r.res.done(i, took, o)
		return exitOK
	}
	r.status.clear()
	where := fmt.Sprintf("statement %d of %d (line %d)", i+1, len(r.stmts), st.line)
	if lost(o.err, r.pc) {
		r.res.ended(i, stmtLost, took, o.err.Error())
		r.errorf("exec: %s: the connection was lost after %s: %v", where, round(took), o.err)
		if code, ok := r.askServer(st, o.err); ok {
			r.errorf("%s", r.tally(i, true))
			return code
		}
		r.errorf("the statement may have finished on the server. Before running it again, look for server process id %d there:\n"+
			"  PostgreSQL: SELECT state, query_start, query FROM pg_stat_activity WHERE pid = %d;\n"+
			"              (no row: the session has ended; look for the process id in the server log)\n"+
			"  Redshift:   SELECT query_id, status, start_time, end_time, error_message FROM sys_query_history\n"+
			"              WHERE session_id = %d ORDER BY start_time DESC LIMIT 5;",
			r.pc.PID(), r.pc.PID(), r.pc.PID())
		r.errorf("%s", r.tally(i, true))
		return exitLost
	}
	r.res.ended(i, stmtFailed, took, sqlError(o.err))
	r.errorf("exec: %s failed after %s: %s", where, round(took), sqlError(o.err))
	r.errorf("%s", r.tally(i, true))
	return exitSQL
}

// askServer reconnects with the same DSN (a fresh IAM login if need be)
// and asks the server what became of the statement of a connection the
// kernel gave up on (see [serverside.Of]), waiting up to --wait while it
// runs. It prints the answer and returns the exit status; ok is false
// when the server said nothing that tells more than the manual look-up.
func (r *runner) askServer(st statement, lostErr error) (code int, ok bool) {
	var cl *dialer.ConnLostError
	if !errors.As(lostErr, &cl) {
		return exitLost, false // the server ended the session: it said so
	}
	ctx, cancel := connectContext(r.ctx, r.connectTimeout)
	defer cancel()
	if _, err := r.login(ctx, r.creds); err != nil {
		r.res.OutcomeError = fmt.Sprintf("could not log in again: %v", err)
		r.errorf("exec: could not log in again to ask the server what became of the statement: %v", err)
		return exitLost, false
	}
	ans, err := serverside.Of(ctx, r.db, lostErr, st.text, false)
	cancel()
	if err == nil && ans.State == serverside.Running && r.wait > 0 {
		r.errorf("%s; waiting up to %s for it to end", ans, r.wait)
		wctx, wcancel := context.WithTimeout(r.ctx, r.wait)
		ans, err = serverside.Of(wctx, r.db, lostErr, st.text, true)
		wcancel()
		// An IAM password renewed while waiting is masked too.
		lctx, lcancel := context.WithTimeout(r.ctx, cancelWait)
		_, _ = r.login(lctx, r.creds)
		lcancel()
	}
	if err != nil {
		r.res.OutcomeError = err.Error()
		r.errorf("exec: could not ask the server what became of the statement: %v", err)
		return exitLost, false
	}
	r.res.answer(ans)
	r.errorf("%s", ans)
	return exitFor(ans)
}

// exitFor is the exit status for the server's answer about a statement
// whose connection was lost; ok is false when the answer tells no more
// than the manual look-up (Unknown).
func exitFor(ans serverside.Statement) (code int, ok bool) {
	switch {
	case ans.State == serverside.Finished && ans.Result == "success":
		return exitServerSuccess, true
	case ans.State == serverside.Finished && ans.Result == "failed", ans.State == serverside.Cancelled:
		return exitServerFailed, true
	case ans.State == serverside.Finished:
		return exitServerEnded, true
	case ans.State == serverside.Running:
		return exitLost, true
	}
	return exitLost, false
}

// interrupted cancels statement i, started at started, on the server after
// Ctrl-C, waits for it to end, and returns exit status 130.
func (r *runner) interrupted(i int, started time.Time, stop context.CancelFunc, done <-chan outcome) int {
	pid := r.pc.PID()
	r.errorf("exec: interrupted: asking the server to cancel statement %d (server process id %d); Ctrl-C again to quit at once", i+1, pid)
	ctx, cancel := context.WithTimeout(context.Background(), cancelWait)
	defer cancel()
	var o outcome
	if err := r.pc.CancelRequest(ctx); err != nil {
		r.errorf("exec: the cancel request failed: %v", err)
		stop() // close the connection: the server ends the statement when it notices
		o = <-done
	} else {
		select {
		case o = <-done:
		case <-ctx.Done():
			r.errorf("exec: no answer from the server within %s; closing the connection", cancelWait)
			stop()
			o = <-done
		}
	}
	took := time.Since(started)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(o.err, &pgErr) && pgErr.Code == queryCanceled:
		r.res.ended(i, stmtInterrupted, took, "cancelled on the server: "+o.err.Error())
		r.errorf("exec: statement %d was cancelled on the server; %s", i+1, r.tally(i, true))
	case o.err == nil:
		r.res.done(i, took, o)
		r.errorf("exec: statement %d completed before the cancel reached the server; %s", i+1, r.tally(i+1, false))
	default:
		r.res.ended(i, stmtInterrupted, took, o.err.Error())
		r.errorf("exec: statement %d ended: %v\nit may still be running on the server: look for server process id %d; %s",
			i+1, o.err, pid, r.tally(i, true))
	}
	return exitInterrupted
}

// tally says which statements completed and which were not run, when
// statement i is the one that did not complete; failed counts it as run.
func (r *runner) tally(i int, failed bool) string {
	n := len(r.stmts)
	done := "no statement completed"
	switch {
	case i == 1:
		done = "statement 1 completed"
	case i > 1:
		done = fmt.Sprintf("statements 1 to %d completed", i)
	}
	next := i
	if failed {
		next = i + 1
	}
	switch {
	case next >= n:
		return done
	case next == n-1:
		return fmt.Sprintf("%s; statement %d was not run", done, n)
	}
	return fmt.Sprintf("%s; statements %d to %d were not run", done, next+1, n)
}

// execute runs one statement. Result rows are counted, and printed to
// rows unless it is nil.
func execute(ctx context.Context, pc *pgconn.PgConn, st statement, stdin io.Reader, rows *rowWriter) outcome {
	if st.copyIn {
		tag, err := pc.CopyFrom(ctx, stdin, st.text)
		return outcome{tag: tag, rows: tag.RowsAffected(), err: err}
	}
	var o outcome
	mrr := pc.Exec(ctx, st.text)
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		for rr.NextRow() {
			o.rows++
			if rows != nil {
				rows.write(rr.Values())
			}
		}
		tag, err := rr.Close()
		if err != nil && o.err == nil {
			o.err = err
		}
		if err == nil {
			o.tag = tag
		}
	}
	if err := mrr.Close(); err != nil && o.err == nil {
		o.err = err
	}
	return o
}

// lost tells a lost connection from a statement that failed: the kernel
// gave up on it, the server ended the session, or it is closed.
func lost(err error, pc *pgconn.PgConn) bool {
	if errors.Is(err, dialer.ErrConnectionLost) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC"
	}
	return pc.IsClosed()
}

// sqlError words a server error with its details.
func sqlError(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	s := pgErr.Error()
	if pgErr.Position > 0 {
		s += fmt.Sprintf(" at character %d", pgErr.Position)
	}
	if pgErr.Detail != "" {
		s += "\n  detail: " + pgErr.Detail
	}
	if pgErr.Hint != "" {
		s += "\n  hint: " + pgErr.Hint
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// round shortens a duration for people: 12ms, 7.3s, 12m3s.
func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// rowWriter prints result rows, one line each (--rows): tab-separated as
// COPY's text format writes them (\N for NULL; backslash, tab, newline
// and carriage return escaped), or as CSV (NULL an empty field).
type rowWriter struct {
	w   io.Writer
	csv bool
}

var copyEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// write prints one row in one write, so that the scrubber sees it whole.
func (rw *rowWriter) write(vals [][]byte) {
	var b strings.Builder
	if rw.csv {
		fields := make([]string, len(vals))
		for i, v := range vals {
			fields[i] = string(v)
		}
		cw := csv.NewWriter(&b)
		cw.Write(fields)
		cw.Flush()
	} else {
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('\t')
			}
			if v == nil {
				b.WriteString(`\N`)
				continue
			}
			copyEscaper.WriteString(&b, string(v))
		}
		b.WriteByte('\n')
	}
	io.WriteString(rw.w, b.String())
}
