// Command redshift-ka checks the TCP keep-alive settings of a PostgreSQL or
// Amazon Redshift DSN, and runs long statements (COPY, UNLOAD, CTAS) with
// the connection's health in view.
//
// Install it with
//
//	go install github.com/redshift-ka/redshift-ka/cmd/redshift-ka@latest
//
// # Usage
//
//	redshift-ka check [--json] [--offline] [--connect-timeout 30s] [DSN]
//	redshift-ka exec (-c SQL... | -f FILE) [--rows[=csv] | --json] [--progress 30s] [--wait 0] [--connect-timeout 30s] [DSN]
//	redshift-ka help [check | exec]
//	redshift-ka --version
//
// help prints the short form of this manual; help check and help exec, each
// command's flags. --version prints the module version the binary was
// built from (go install ...@v1.2.0: v1.2.0), "(devel)" for a build from a
// work tree.
//
// The DSN is a postgres:// URL, a libpq key=value string, an ODBC
// connection string or a jdbc:redshift:// URL, with the keep-alive keys of the driver
// (KeepAlivesIdle, KeepAlivesInterval, KeepAlivesCount, tcp_user_timeout,
// keepalives; see [github.com/redshift-ka/redshift-ka/dsnparse]). Without a
// DSN argument it is read from $REDSHIFTKA_DSN, which keeps the password out
// of the process list (ps shows arguments to every user). Flags may come
// before or after the DSN.
//
// A DSN that asks for an IAM login (IAM=1, iam=true, jdbc:redshift:iam://;
// see [github.com/redshift-ka/redshift-ka/iam]) logs in with temporary
// credentials from the Redshift API, through the AWS SDK's configuration
// (environment, shared files and Profile, roles). Both commands get them
// before connecting: AWS's refusal is a connect failure (exit 4) naming
// the API, AWS's error code and the request id; no AWS credentials at all,
// one line naming the settings that give them. The AWS SDK's own log
// lines are not printed.
//
// Flags:
//
//	--json                  both: one JSON object on standard output when the
//	                        command ends, whatever the exit status (bad flags
//	                        aside); exec prints its other lines on standard error
//	--offline               check: do not connect; resolve the DSN against this
//	                        machine's OS values
//	-c SQL                  exec: the statements, given on the command line;
//	                        repeated, each runs after the one before
//	-f FILE                 exec: the statements, read from a file (-: standard
//	                        input)
//	--rows[=csv]            exec: print the rows of the last statement on
//	                        standard output (tab-separated, or CSV), the other
//	                        lines on standard error
//	--progress 30s          exec: how often a progress line is printed when the
//	                        output is not a terminal (0: never)
//	--wait 0                exec: after a lost connection, wait up to this long
//	                        for a statement still running on the server to end
//	--connect-timeout 30s   both: give up connecting after this long (0: no limit)
//
// Durations are Go's (30s, 5m, 1h30m) or plain seconds (--connect-timeout 2
// is 2s). An error about a flag names it as written (--connect-timeout).
//
// No output shows a password: the DSN is printed through
// [github.com/redshift-ka/redshift-ka/dsnparse.Redact], every line written
// is scrubbed of the secrets of every argument that holds a DSN (AWS's
// SecretAccessKey and SessionToken among them) and of the password an IAM
// login was issued, and no
// error about a flag or a command quotes a value that could be one (a DSN
// given as --connect-timeout's value, say).
//
// # check
//
// check prints the DSN with its password masked, connects, and reads back
// from the kernel the keep-alive settings in force on the socket:
// SO_KEEPALIVE, idle, interval, count and tcp_user_timeout, each with where
// it came from (the DSN key as written, the odbc.ini data source and file
// that gave the key, or the OS and its sysctl or registry name), the OS
// values, and every key of the DSN and where it went: ours, pgx or lib/pq,
// a server parameter, or dropped, with whose key it is and why. It then says
// what they mean: a dead path is noticed after at most idle + interval x
// count seconds, and an idle flow is refreshed every idle seconds, so the
// connection survives a middlebox whose idle timeout is longer than idle.
// It compares idle with the idle timeouts of common middleboxes (AWS NAT
// gateway and Network Load Balancer 350 s, Azure Load Balancer and NAT
// gateway 240 s by default, GCP Cloud NAT 1200 s) and warns for each one
// the connection does not survive, and when keep-alive is off.
//
// With an IAM login it shows the login: method (IAM), the API called
// (GetClusterCredentials, GetClusterCredentialsWithIAM or
// redshift-serverless GetCredentials) for which cluster or workgroup in
// which region, the database user it returned and when the password
// expires. --offline shows the API it would call and with what: cluster or
// workgroup, region, database user and groups, profile, endpoint; it
// calls nothing, and works without any AWS configuration (a Profile
// that is not there, no credentials).
//
// With an IAM login or an identity-provider plugin it lists the login's
// steps, each with what it is for and its outcome: the identity
// provider's (STS AssumeRoleWithWebIdentity, say), the Redshift API's
// (GetClusterCredentials, GetIdentityCenterAuthToken), then the server
// login; ok, failed (the error says why), not reached, or not run
// (--offline). No step shows a secret.
//
// --json prints the same as one JSON object: keepalive, idle_seconds,
// interval_seconds, count and user_timeout_ms, source (an object with the
// same keys naming the origin of each), os, ignored_keys (key, driver,
// does), keys (key, from, went, to),
// dead_after_seconds, middleboxes and warnings, with the masked dsn and the
// server's address and process id; dead_after_seconds and refresh_seconds
// are null when keep-alive is off; login, with an IAM login: method, api,
// cluster or workgroup, region, db_user and db_groups asked for, called,
// and once called database_user and expires; steps (step, detail,
// outcome, error); exit, 0. When check fails,
// whatever the reason (a bad DSN, exit 2; no connection, exit 4), --json
// prints one object too: dsn (masked, once read), form, connected, login,
// steps, error (why, as printed on standard error) and exit; bad flags print
// none, as for exec. --offline does not connect:
// it resolves the DSN against this machine's OS values, as the dialer
// would.
//
// # exec
//
// exec runs the statements of -c SQL or -f FILE one by one on one
// connection and stops at the first that fails. -c may be repeated: each
// runs after the one before, its lines numbered on from the last (a
// second one-line -c is line 2). -f - reads the statements from standard
// input; then no COPY ... FROM STDIN can read it, and one is refused. It splits them at each ';'
// outside string literals, quoted identifiers, dollar-quoted bodies,
// comments, parentheses and BEGIN ATOMIC bodies, as psql does. Inside
// '...' a backslash escapes the next character, so that \' is a quote,
// where the server reads it so: on Amazon Redshift, which has no
// standard_conforming_strings setting and always does (a script holding
// 'it\'s; here' is three statements there, not split at that ';'), and on
// PostgreSQL with standard_conforming_strings off; E'...' always. The split
// is checked before connecting and made once the server is known: a script
// that neither reading can split is refused before any dial, one that only
// the other server's reading can split, once connected, with nothing run.
// Result rows are counted and discarded, except with --rows: the rows of
// the last statement go to standard output, one line each, and every
// other line to standard error, so that a job can read a small result:
//
//	n=$(redshift-ka exec --rows -c "SELECT count(*) FROM sales")
//
// --rows writes them tab-separated as COPY's text format does (\N for NULL;
// a backslash, tab, newline or carriage return in a value escaped as \\,
// \t, \n, \r), --rows=csv as CSV (NULL an empty field); no header. It
// does not go with --json. COPY ... FROM STDIN reads standard input (on
// Amazon Redshift, which has no such COPY, it is refused before anything
// runs); COPY ... TO STDOUT and psql's meta-commands are refused.
//
// On a terminal it redraws one status line: the statement number, the time
// it has run, and the connection's health as the kernel sees it (TCP_INFO,
// Linux only): round-trip time, time since data and since an
// acknowledgement last arrived, and unanswered keep-alive probes. While a
// statement keeps the server silent, data arrives less and less recently;
// acknowledgements of the keep-alive probes keep arriving every idle
// interval, until the path dies and the probes go unanswered. When the
// output is not a terminal, it prints a progress line every --progress.
//
// When the kernel gives up on the connection during a statement (a
// [github.com/redshift-ka/redshift-ka/dialer.ConnLostError]), exec
// reconnects with the same DSN (a fresh IAM login if need be) and asks the
// server what became of the statement
// ([github.com/redshift-ka/redshift-ka/outcome.Of]): on Amazon Redshift,
// SYS_QUERY_HISTORY and SYS_LOAD_HISTORY; on PostgreSQL,
// pg_stat_activity. It prints one line: "the statement is still running
// on the server (process 4514, for 35m12s)", "the statement finished on
// the server at 12:04:31 UTC with success (1,234,567 rows)", "..., failed:
// MESSAGE", "the statement was cancelled ...", or "what became of the
// statement is unknown (process 4514): WHY". PostgreSQL does not record
// whether a statement succeeded: there it says only that it finished, and
// when. --wait 1h asks again every second while the statement runs, up to
// an hour. The statement's text is not printed (it may hold credentials).
// The lost connection's statement is not cancelled: it runs on, on the
// server, as it would with libpq or Amazon's drivers (see
// [github.com/redshift-ka/redshift-ka/driver]).
//
// With --json, exec prints one JSON object on standard output when it
// ends, whatever the exit status (bad flags aside: then nothing), and
// nothing else there; the lines it prints for people (the server, the
// settings, progress every --progress, errors) go to standard error. The
// object holds: dsn (masked), server (its address), server_pid,
// server_version and redshift; statements, one per statement with n, line,
// status ("done", "failed", "lost", "interrupted" or "not run"), tag and
// rows (done), seconds (as the client saw it) and error (failed, lost,
// interrupted); after a lost connection, outcome, the server's answer
// (state "running", "finished", "cancelled" or "unknown", server,
// server_pid, started, ended, for_ns, result, message, rows, reason; see
// [github.com/redshift-ka/redshift-ka/outcome.Statement]), or
// outcome_error when the server could not be asked; error, why exec ended
// when no statement says it (bad input, no connection, an interrupt
// before a statement); and exit, the exit status. It holds no statement
// text (a server's error message may quote part of one) and no password.
//
// Ctrl-C (or SIGTERM) sends the server a cancel request for the running
// statement, waits up to 10 s for it to end, and exits 130; a second one
// exits at once. Before a statement runs (reading -f FILE, connecting), an
// interrupt exits 130 at once. During --wait, it ends the wait: the
// statement still runs on the server, and exec exits 3.
//
// # Metrics
//
// When OTEL_EXPORTER_OTLP_ENDPOINT (http://collector:4318) or
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set, check and exec push the
// metrics of [github.com/redshift-ka/redshift-ka/otelka] to that OTLP
// endpoint: the connection's TCP health from TCP_INFO, its dial, a loss
// by cause, and the pool's statistics (db.client.connection.pool.name
// "check" or "exec"), under service.name redshift-ka. They are pushed every
// OTEL_METRIC_EXPORT_INTERVAL (default 60 s) while the command runs and
// once more when it ends; that last push waits at most 5 s for the
// collector. The OpenTelemetry SDK reads the other standard variables:
// OTEL_EXPORTER_OTLP_HEADERS (name=value pairs, comma-separated, values
// percent-encoded: Authorization=Bearer%20TOKEN), _TIMEOUT, _COMPRESSION,
// _INSECURE, _CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY, each also
// as OTEL_EXPORTER_OTLP_METRICS_*, OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. OTEL_EXPORTER_OTLP_PROTOCOL (or
// _METRICS_PROTOCOL) is http/protobuf, the default, or grpc.
//
// With neither endpoint variable set, or with OTEL_SDK_DISABLED=true or
// OTEL_METRICS_EXPORTER=none, nothing of OpenTelemetry runs and nothing is
// dialed; check --offline pushes nothing either. A collector
// that refuses the metrics or does not answer is a warning on standard
// error ("redshift-ka: metrics: ..."): the exit status and the --json
// object are unchanged. No output shows the values of the headers
// variables (they may hold an API key): the SDK's messages about them are
// printed without their details.
//
// # Exit status
//
//	0    success
//	1    SQL error: a statement failed; the statements after it were not run
//	2    bad input: flags, DSN or SQL that cannot be used; nothing was run
//	3    connection lost during a statement; the server says it is still
//	     running, or cannot tell, or could not be asked (then the server
//	     process id and the queries that find it there are printed:
//	     pg_stat_activity; SYS_QUERY_HISTORY on Redshift)
//	4    could not connect (or check could not read the settings): nothing
//	     was run
//	5    connection lost; the server says the statement finished with success
//	6    connection lost; the server says it failed, or was cancelled
//	7    connection lost; the statement ended on the server, which does not
//	     record how (PostgreSQL): check its effect before running it again
//	130  interrupted (Ctrl-C or SIGTERM): the running statement was
//	     cancelled on the server
//
// exec --json prints the exit status as its object's exit too.
package main
