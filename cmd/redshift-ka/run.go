package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// Exit statuses; doc.go and the usage text list them.
const (
	exitOK      = 0 // every statement ran, or check found the settings
	exitSQL     = 1 // a statement failed; the ones after it were not run
	exitUsage   = 2 // bad flags, DSN or SQL: nothing was run
	exitLost    = 3 // the connection was lost during a statement
	exitConnect = 4 // could not connect: nothing was run
	// After a lost connection (3), the server's answer:
	exitServerSuccess = 5   // the statement finished there with success
	exitServerFailed  = 6   // it failed there, or was cancelled
	exitServerEnded   = 7   // it ended there; the server keeps no record of how (PostgreSQL)
	exitInterrupted   = 130 // Ctrl-C: the running statement was cancelled
)

// dsnEnv names the environment variable that holds the DSN when no
// argument does; it keeps the password out of the process list.
const dsnEnv = "REDSHIFTKA_DSN"

const defaultConnectTimeout = 30 * time.Second

const usageText = `redshift-ka checks the TCP keep-alive settings of a PostgreSQL or Amazon
Redshift DSN and runs long statements with the connection's health in view.

Usage:
  redshift-ka check [--json] [--offline] [--connect-timeout 30s] [DSN]
  redshift-ka exec (-c SQL... | -f FILE) [--rows[=csv] | --json] [--progress 30s] [--wait 0] [--connect-timeout 30s] [DSN]
  redshift-ka help [check | exec]
  redshift-ka --version

Durations are Go's (30s, 5m, 1h) or plain seconds (30).

The DSN is a postgres:// URL, a key=value string, an ODBC connection
string or a jdbc:redshift:// URL, with keep-alive keys such as KeepAlivesIdle=200. Without a DSN
argument it is read from $REDSHIFTKA_DSN, which keeps the password out of
the process list (ps shows arguments to every user). A DSN with IAM=1 (or
iam=true) logs in with temporary credentials from the Redshift API. No
output shows the password, nor AWS secrets.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
set, check and exec push the connection's metrics (TCP health, dials,
losses, pool) to that OpenTelemetry collector, configured by the standard
OTEL_EXPORTER_OTLP_* variables; no output shows their headers' values.

Exit status:
  0    success
  1    SQL error: a statement failed; the statements after it were not run
  2    bad input: flags, DSN or SQL that cannot be used; nothing was run
  3    connection lost during a statement; exec reconnected and the server
       says it is still running (or it cannot tell, or could not be asked:
       the server process id and what to look for there are printed)
  4    could not connect (or check could not read the settings): nothing was run
  5    connection lost; the server says the statement finished with success
  6    connection lost; the server says the statement failed or was cancelled
  7    connection lost; the statement ended on the server, which does not
       record how (PostgreSQL): check its effect before running it again
  130  interrupted (Ctrl-C or SIGTERM): the running statement was cancelled on
       the server
`

const checkUsage = `Usage: redshift-ka check [--json] [--offline] [--connect-timeout 30s] [DSN]

Prints the DSN with its password masked, connects, and shows the keep-alive
settings in force on the socket (read back from the kernel), where each came
from (a DSN key, the odbc.ini data source, or the OS and its sysctl or
registry name), the OS values,
every key of the DSN and where it went (ours, pgx/lib/pq, a server
parameter, or dropped, with whose key it is and why), the DSN's warnings
(a tcp_user_timeout under a second), how long a dead path goes unnoticed, and which common
middleboxes (NAT gateways, load balancers) the connection survives.
With an IAM login it shows the API called, the database user and when the
password expires; --offline shows the API it would call and with what
(cluster or workgroup, region, database user and groups) without calling it:
an AWS profile or credentials missing do not stop it. With an IAM login or
an identity-provider plugin it lists the login's steps (identity provider,
STS, Redshift API, server login) with each one's outcome, secrets masked.

--json prints one JSON object on standard output, whatever the exit status
(bad flags aside: then none): the settings and "exit": 0; or, when check
fails, the masked dsn, form, connected, login, steps, error and exit. The other
lines go to standard error.

Flags:
`

const execUsage = `Usage: redshift-ka exec (-c SQL... | -f FILE) [--rows[=csv] | --json] [--progress 30s] [--wait 0] [--connect-timeout 30s] [DSN]

Runs the statements one by one on one connection, and stops at the first
that fails. -c may be repeated: each runs after the one before, its lines
numbered on from the last; -f - reads the statements from standard input.
Statements are split at each ';' outside string literals, quoted
identifiers, dollar-quoted bodies, comments, parentheses and BEGIN ATOMIC
bodies, as psql does. A backslash in '...' escapes the next character (\'
is a quote) where the server reads it so: on Amazon Redshift, and on
PostgreSQL with standard_conforming_strings off; E'...' always.
COPY ... FROM STDIN reads this command's standard input (not with -f -;
Amazon Redshift has none: refused there before anything runs);
COPY ... TO STDOUT and psql's meta-commands (\copy, ...) are refused.

Result rows are counted and discarded. --rows prints those of the last
statement on standard output, one line each, tab-separated as COPY writes
them (\N for NULL) or with --rows=csv as CSV, without a header, and the
other lines on standard error: exec --rows -c "SELECT count(*) FROM t"
prints the count.

On a terminal a status line shows the statement, the time it has run, and
the connection's health as the kernel sees it (Linux): round-trip time, time
since data and acknowledgements last arrived, and unanswered keep-alive
probes. Otherwise a progress line is printed every --progress.

When the kernel gives up on the connection during a statement, exec
reconnects with the same DSN and prints what the server did with it:
still running (for how long), finished with success (rows loaded or
returned, on Redshift), failed (with the server's message) or cancelled;
PostgreSQL does not record success or failure, only that it ended.
--wait 1h waits up to an hour for a statement still running to end. The
exit status tells these apart (see redshift-ka help).

--json prints one JSON object on standard output when exec ends, whatever
the exit status (bad flags aside: then none), and the other lines on
standard error: the masked dsn,
server, server_pid, server_version, redshift; statements (n, line, status:
done, failed, lost, interrupted or not run; tag, rows, seconds, error);
after a lost connection outcome, the server's answer (or outcome_error);
error, when no statement says why exec ended; and exit. No statement text
(a server's error message may quote part of one).

Ctrl-C asks the server to cancel the running statement, waits up to 10 s for
it to confirm, and exits with status 130; a second Ctrl-C exits at once.

Flags:
`

// app is one run of the command: its input, output and interrupt.
type app struct {
	ctx    context.Context // done on Ctrl-C
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	tty    *terminal // stdout, when it is a terminal
	// failure is the first message of [app.fail]: why the command ended.
	failure string
	secrets *secrets // masked in stdout and stderr
}

// run runs the command with args (without the program name) and returns
// its exit status. ctx is done when the user interrupts (Ctrl-C).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{ctx: ctx, stdin: stdin, getenv: getenv, tty: terminalOf(stdout, getenv), secrets: &secrets{}}
	a.stdout, a.stderr = &scrubber{w: stdout, s: a.secrets}, &scrubber{w: stderr, s: a.secrets}
	// Any argument but exec's SQL may be a DSN, or hold one after a flag's
	// '=': every line written is scrubbed of their secrets, whatever goes
	// wrong.
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-c" || args[i] == "--c":
			i++ // the SQL
		case !strings.HasPrefix(args[i], "-c=") && !strings.HasPrefix(args[i], "--c="):
			a.scrubArg(args[i])
		}
	}
	a.scrub(getenv(dsnEnv))
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return a.check(args[1:])
	case "exec":
		return a.exec(args[1:])
	case "--version", "-version", "version":
		fmt.Fprintf(a.stdout, "redshift-ka %s\n", version())
		return exitOK
	case "help", "-h", "-help", "--help":
		switch {
		case len(args) > 1 && args[1] == "check":
			a.check([]string{"-h"})
		case len(args) > 1 && args[1] == "exec":
			a.exec([]string{"-h"})
		default:
			fmt.Fprint(stdout, usageText)
		}
		return exitOK
	}
	fmt.Fprintf(a.stderr, "redshift-ka: unknown command %s: want check or exec\n\n%s", shown(args[0], args[0]), usageText)
	return exitUsage
}

// parseFlags parses args with fs, allowing flags after the DSN, and
// returns the arguments that are not flags. help is true for -h.
//
// Its errors never quote a flag's value, nor a name that is not plainly a
// flag's: a DSN that lands where a value is expected ("--connect-timeout
// postgres://...") holds a password.
func (a *app) parseFlags(fs *flag.FlagSet, usage string, args []string) (pos []string, help bool, err error) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg)
			continue
		}
		dash := "-"
		if strings.HasPrefix(arg, "--") {
			dash = "--"
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		if name == "h" || name == "help" {
			fmt.Fprint(a.stdout, usage)
			fs.SetOutput(a.stdout)
			fs.PrintDefaults()
			return nil, true, nil
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, false, fmt.Errorf("unknown flag %s", shown(name, dash+name))
		}
		switch {
		case hasValue:
		case isBoolFlag(f):
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return nil, false, fmt.Errorf("flag %s%s needs a value: %s", dash, name, want(f))
		}
		if err := fs.Set(name, value); err != nil {
			return nil, false, fmt.Errorf("invalid value for %s%s: want %s", dash, name, want(f))
		}
	}
	return pos, false, nil
}

// want says what a flag's value may be.
func want(f *flag.Flag) string {
	switch f.Value.(flag.Getter).Get().(type) {
	case bool:
		return "true or false"
	case time.Duration:
		return "a duration such as 30s, 5m or 0, or seconds (30)"
	case rowsFormat:
		return "tsv or csv (--rows alone: tsv)"
	}
	return "text"
}

// seconds is a duration flag that also takes plain seconds: "2" is 2s.
type seconds time.Duration

func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil || math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > math.MaxInt64/float64(time.Second) {
			return err
		}
		d = time.Duration(n * float64(time.Second))
	}
	*s = seconds(d)
	return nil
}

func (s *seconds) String() string { return time.Duration(*s).String() }
func (s *seconds) Get() any       { return time.Duration(*s) }

// durationVar defines a duration flag that also takes plain seconds.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*seconds)(p), name, usage)
}

// version is the module's version from the build info: a release tag,
// or "(devel)" for a build from a work tree.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// shown returns what to show of a word the user typed that the command
// does not know: the word itself when it is plainly a name, else a
// placeholder, since it may be a DSN that holds a password.
func shown(word, quoted string) string {
	if len(word) <= 32 && strings.Trim(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == "" {
		return strconv.Quote(quoted)
	}
	return "(not shown: it may hold a DSN)"
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// dsnFrom takes the DSN from the one argument, or from $REDSHIFTKA_DSN.
func (a *app) dsnFrom(pos []string) (string, error) {
	switch {
	case len(pos) > 1:
		return "", fmt.Errorf("want one DSN, got %d arguments; quote the DSN (it holds spaces or ';')", len(pos))
	case len(pos) == 1:
		return pos[0], nil
	case a.getenv(dsnEnv) != "":
		return a.getenv(dsnEnv), nil
	}
	return "", errors.New("no DSN: pass it as the last argument, or in $" + dsnEnv + " to keep the password out of the process list")
}

// scrubArg scrubs the secrets of a command-line argument that may be a
// DSN, or hold one after "-flag=". Other words are not DSNs: read as one,
// "check" or a word of SQL would be masked as a stray piece of password.
func (a *app) scrubArg(arg string) {
	if strings.HasPrefix(arg, "-") {
		_, arg, _ = strings.Cut(arg, "=")
	}
	if strings.Contains(arg, "=") || strings.Contains(arg, "://") {
		a.scrub(arg)
	}
}

// scrub makes every later write to stdout and stderr mask the DSN's
// secrets: a library's error message may quote part of a DSN.
func (a *app) scrub(dsn string) {
	for _, s := range dsnparse.Secrets(dsn) {
		// Shorter ones would match ordinary words; Redact masks them in
		// the DSN itself.
		if len(s) >= 4 {
			a.secrets.add(s)
		}
	}
}

// scrubSecret makes every later write to stdout and stderr mask secret: a
// password the command learns while it runs, such as an IAM login's.
func (a *app) scrubSecret(secret string) {
	if secret != "" {
		a.secrets.add(secret)
	}
}

// login gets the IAM login's credentials, when the DSN asks for one,
// before connecting, so that the password is scrubbed from all output and
// AWS's refusal is reported as such; the connection then uses them from
// the cache.
func (a *app) login(ctx context.Context, l driver.Login) (driver.Credentials, error) {
	if l == nil {
		return driver.Credentials{}, nil
	}
	cr, err := l.Credentials(ctx)
	if err != nil {
		return cr, err
	}
	a.scrubSecret(cr.Password)
	return cr, nil
}

// connect gets the IAM login's credentials, if any (see login), and one
// connection.
func (a *app) connect(ctx context.Context, db *sql.DB, l driver.Login) (*sql.Conn, error) {
	if _, err := a.login(ctx, l); err != nil {
		return nil, err
	}
	return db.Conn(ctx)
}

// secrets are what the command's output must not show. Both of its
// writers share them, so a secret learnt late (an IAM password renewed
// while exec waits) is masked in every later write, through whichever
// writer a part of the command holds.
type secrets struct {
	mu   sync.Mutex
	list []string
	r    *strings.Replacer // made from list when first needed
}

// add masks secret as written, and as a JSON string holds it (--json),
// where a quote or a backslash in it is escaped.
func (s *secrets) add(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, secret)
	if j := jsonForm(secret); j != secret {
		s.list = append(s.list, j)
	}
	s.r = nil
}

// mask replaces every secret in text with "xxxxx", the longest first, so
// that a secret holding another is masked whole.
func (s *secrets) mask(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) == 0 {
		return text
	}
	if s.r == nil {
		slices.SortStableFunc(s.list, func(x, y string) int { return len(y) - len(x) })
		pairs := make([]string, 0, 2*len(s.list))
		for _, secret := range s.list {
			pairs = append(pairs, secret, "xxxxx")
		}
		s.r = strings.NewReplacer(pairs...)
	}
	return s.r.Replace(text)
}

// scrubber masks secrets in what is written through it. Each write is
// masked on its own; the command writes whole lines.
type scrubber struct {
	w io.Writer
	s *secrets
}

func (s *scrubber) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, s.s.mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// connectContext bounds connecting by timeout; 0 is no limit.
func connectContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// errorf prints a message to stderr, after clearing a status line.
func (a *app) errorf(format string, args ...any) {
	a.tty.clear(a.stdout)
	fmt.Fprintf(a.stderr, "redshift-ka: "+format+"\n", args...)
}

// fail prints why the command ends, keeps the first such message for
// exec --json, and returns code.
func (a *app) fail(code int, format string, args ...any) int {
	a.errorf(format, args...)
	if a.failure == "" {
		a.failure = fmt.Sprintf(format, args...)
	}
	return code
}

// dsnError words an error from parsing a DSN: the driver's message
// (which masks every secret) without its "redshift-ka: " prefix.
func dsnError(err error) string {
	return strings.TrimPrefix(err.Error(), "redshift-ka: ")
}

// terminal is stdout when it is a terminal that can redraw a line.
type terminal struct {
	fd int
}

// terminalOf returns w as a terminal, or nil when it is not one (a file,
// a pipe, TERM=dumb).
func terminalOf(w io.Writer, getenv func(string) string) *terminal {
	f, ok := w.(*os.File)
	if !ok || getenv("TERM") == "dumb" || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &terminal{fd: int(f.Fd())}
}

// width is the terminal's width in columns, 80 when unknown.
func (t *terminal) width() int {
	if w, _, err := term.GetSize(t.fd); err == nil && w > 0 {
		return w
	}
	return 80
}

// clear erases the status line; on a nil terminal it does nothing.
func (t *terminal) clear(w io.Writer) {
	if t != nil {
		io.WriteString(w, "\r\x1b[K")
	}
}
