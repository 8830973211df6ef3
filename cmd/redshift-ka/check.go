package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/iam"
	"github.com/redshift-ka/redshift-ka/settings"
	"github.com/redshift-ka/redshift-ka/sysfallback"
)

// checkResult is what check reports, as --json prints it; the text output
// shows the same.
type checkResult struct {
	// DSN is the DSN with its secrets masked.
	DSN  string `json:"dsn"`
	Form string `json:"form"`
	// DataSource is the odbc.ini data source the DSN named, if any.
	DataSource string `json:"odbc_data_source,omitempty"`
	// Connected is false with --offline.
	Connected     bool   `json:"connected"`
	Server        string `json:"server,omitempty"`
	ServerPID     uint32 `json:"server_pid,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	TLS           bool   `json:"tls"`
	// ReadFrom says whether the values were read from a socket.
	ReadFrom string `json:"read_from"`

	KeepAlive       bool    `json:"keepalive"`
	IdleSeconds     int64   `json:"idle_seconds"`
	IntervalSeconds int64   `json:"interval_seconds"`
	Count           int     `json:"count"`
	UserTimeoutMS   int64   `json:"user_timeout_ms"`
	Source          sources `json:"source"`

	OS osValues `json:"os"`
	// IgnoredKeys are the keys dropped, with whose they are and why.
	IgnoredKeys []ignoredKey `json:"ignored_keys"`
	// Keys lists every key of the DSN and where it went.
	Keys []keyUse `json:"keys"`
	// DeadAfterSeconds is the longest a dead path goes unnoticed; null
	// when keep-alive is off (never).
	DeadAfterSeconds *float64 `json:"dead_after_seconds"`
	// RefreshSeconds is how often an idle flow is refreshed; null when
	// keep-alive is off.
	RefreshSeconds *int64             `json:"refresh_seconds"`
	Middleboxes    []middleboxVerdict `json:"middleboxes"`
	Warnings       []string           `json:"warnings"`
	// Login is the IAM login; absent for a DSN with a password.
	Login *loginResult `json:"login,omitempty"`
	// IdP is the native identity-provider login; absent without one.
	IdP *idpResult `json:"idp,omitempty"`
	// Steps are the login's steps and their outcomes, the server login
	// last; absent for a login with a password.
	Steps []stepResult `json:"steps,omitempty"`
	// Exit is the exit status, 0: a failed check prints a [checkFailure].
	Exit int `json:"exit"`
}

// ignoredKey is a key that was dropped: whose it is (ODBC, JDBC,
// Python) and what it would have done.
type ignoredKey struct {
	Key    string `json:"key"`
	Driver string `json:"driver"`
	Does   string `json:"does"`
}

// keyUse is a key of the DSN and where it went: "ours",
// "pgx/lib/pq", "server parameter" or "dropped"; From names the odbc.ini
// data source of a key from there.
type keyUse struct {
	Key  string `json:"key"`
	From string `json:"from,omitempty"`
	Went string `json:"went"`
	To   string `json:"to"`
}

// loginResult is an IAM login: what it asks of AWS, and, once called,
// what AWS issued (never the password).
type loginResult struct {
	driver.LoginPlan
	// Called is false with --offline: the API was not called.
	Called bool `json:"called"`
	// DatabaseUser is the user the API returned ("IAM:etl").
	DatabaseUser string `json:"database_user,omitempty"`
	// Expires is when the password issued stops working, RFC 3339.
	Expires string `json:"expires,omitempty"`
}

// idpResult is a native identity-provider login: the plugin and what the
// startup message names, never the token.
type idpResult struct {
	// Exchange is true when the token comes from
	// GetIdentityCenterAuthToken, for the DSN's AWS keys.
	Exchange          bool   `json:"exchange,omitempty"`
	Plugin            string `json:"plugin"`
	IdPType           string `json:"idp_type"`
	ProviderName      string `json:"provider_name,omitempty"`
	TokenType         string `json:"token_type,omitempty"`
	IdentityNamespace string `json:"identity_namespace,omitempty"`
}

// stepResult is a login step and its outcome.
type stepResult struct {
	driver.LoginStep
	// Outcome is "ok", "failed", "not reached" (an earlier step failed)
	// or "not run (--offline)".
	Outcome string `json:"outcome"`
	// Error is why the step failed, no secret in it.
	Error string `json:"error,omitempty"`
}

// stepServer is the name of the last step, the server's login.
const stepServer = "server login"

// loginSteps are the steps of the connector's login, the server's login
// last; nil for a login with a password, whose one step is the connection.
func loginSteps(c *driver.Connector, n *dsnparse.Native) []stepResult {
	var steps []stepResult
	for _, s := range c.LoginSteps() {
		steps = append(steps, stepResult{LoginStep: s})
	}
	server := driver.LoginStep{Name: stepServer, Detail: "with the user and password the API issued"}
	switch {
	case n != nil:
		server.Detail = "plugin " + n.Plugin + ", idp_type " + n.IdPType + ": the server checks the token (authentication code 14)"
	case c.Login() == nil:
		return nil
	}
	return append(steps, stepResult{LoginStep: server})
}

// setOutcomes sets each step's outcome after a login that ended with err:
// the step err names failed (the server's login, when it names none),
// those before it succeeded, those after it were not reached.
func setOutcomes(steps []stepResult, err error) {
	failed := len(steps)
	if err != nil {
		failed = len(steps) - 1
		var se driver.LoginStepError
		if errors.As(err, &se) {
			for i, s := range steps {
				if s.Name == se.FailedStep() {
					failed = i
				}
			}
		}
	}
	for i := range steps {
		switch {
		case i < failed:
			steps[i].Outcome = "ok"
		case i == failed:
			steps[i].Outcome, steps[i].Error = "failed", err.Error()
		default:
			steps[i].Outcome = "not reached"
		}
	}
}

// sources names where each value came from, under the keys of the values.
type sources struct {
	KeepAlive   string `json:"keepalive"`
	Idle        string `json:"idle_seconds"`
	Interval    string `json:"interval_seconds"`
	Count       string `json:"count"`
	UserTimeout string `json:"user_timeout_ms"`
}

// osValues are the operating system's own keep-alive values.
type osValues struct {
	IdleSeconds     int64 `json:"idle_seconds"`
	IntervalSeconds int64 `json:"interval_seconds"`
	Count           int   `json:"count"`
	Source          struct {
		Idle     string `json:"idle_seconds"`
		Interval string `json:"interval_seconds"`
		Count    string `json:"count"`
	} `json:"source"`
}

type middleboxVerdict struct {
	Name               string `json:"name"`
	IdleTimeoutSeconds int64  `json:"idle_timeout_seconds"`
	Note               string `json:"note"`
	Survives           bool   `json:"survives"`
}

// checkFailure is what check --json prints when it fails: what it read
// of the DSN, and why it ended.
type checkFailure struct {
	DSN       string       `json:"dsn,omitempty"`
	Form      string       `json:"form,omitempty"`
	Connected bool         `json:"connected"`
	Login     *loginResult `json:"login,omitempty"`
	Steps     []stepResult `json:"steps,omitempty"`
	Error     string       `json:"error"`
	Exit      int          `json:"exit"`
}

func (a *app) check(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text, whatever the exit status")
	offline := fs.Bool("offline", false, "do not connect: resolve the DSN against this machine's OS values")
	var timeout time.Duration
	durationVar(fs, &timeout, "connect-timeout", defaultConnectTimeout, "give up connecting after this `duration` (0: no limit)")
	pos, help, err := a.parseFlags(fs, checkUsage, args)
	if help {
		return exitOK
	}
	if err != nil {
		a.errorf("check: %v; see redshift-ka help check", err)
		return exitUsage
	}
	var res checkResult
	rep, code := a.checkWith(pos, *offline, timeout, &res)
	switch {
	case code != exitOK && *asJSON:
		f := checkFailure{DSN: res.DSN, Form: res.Form, Connected: res.Connected, Login: res.Login, Steps: res.Steps, Error: a.failure, Exit: code}
		if err := writeJSON(a.stdout, f); err != nil {
			a.errorf("check: write the JSON result: %v", err)
		}
	case code != exitOK:
		if len(res.Steps) > 0 {
			writeSteps(a.stdout, res.Steps) // the error, on standard error, says why the failed one failed
		}
	case *asJSON:
		res.Exit = exitOK
		if err := writeJSON(a.stdout, res); err != nil {
			return a.fail(exitConnect, "check: write the JSON result: %v", err)
		}
	default:
		writeCheck(a.stdout, res, rep)
	}
	return code
}

// checkWith runs check with its flags read, filling res.
func (a *app) checkWith(pos []string, offline bool, timeout time.Duration, res *checkResult) (settings.Report, int) {
	dsn, err := a.dsnFrom(pos)
	if err != nil {
		return settings.Report{}, a.fail(exitUsage, "check: %v", err)
	}
	a.scrub(dsn)
	res.DSN = dsnparse.Redact(dsn)
	connector, err := driver.NewConnector(dsn)
	if err != nil {
		return settings.Report{}, a.fail(exitUsage, "check: %s", dsnError(err))
	}
	dsnInfo := connector.DSN()
	parsed := &dsnInfo
	a.scrub(parsed.Rest) // an odbc.ini data source may have added a password
	res.Form, res.DataSource = parsed.Form.String(), parsed.Config.DataSource
	res.IgnoredKeys, res.Keys = []ignoredKey{}, []keyUse{}
	for _, k := range parsed.Config.Ignored {
		res.IgnoredKeys = append(res.IgnoredKeys, ignoredKey{k.Key, k.Driver, k.Does})
	}
	for _, k := range parsed.Keys {
		res.Keys = append(res.Keys, keyUse{k.Key, k.From, k.Went.String(), k.To})
	}
	if l := connector.Login(); l != nil {
		res.Login = &loginResult{LoginPlan: l.Plan()}
	}
	if n := parsed.Native; n != nil {
		res.IdP = &idpResult{n.Exchange, n.Plugin, n.IdPType, n.ProviderName, n.TokenType, n.IdentityNamespace}
	}
	res.Steps = loginSteps(connector, parsed.Native)
	var rep settings.Report
	if offline {
		for i := range res.Steps {
			res.Steps[i].Outcome = "not run (--offline)"
		}
		osv, err := sysfallback.Read()
		if err != nil {
			return rep, a.fail(exitConnect, "check: %v", err)
		}
		rep = settings.Resolve(parsed.Config, osv)
		res.ReadFrom = "resolved offline from the DSN and this machine's OS values, not read from a socket"
	} else {
		var code int
		rep, code = a.checkConnected(connector, parsed, timeout, res)
		if code != exitOK {
			return rep, code
		}
	}
	fill(res, rep, fromDataSource(dsn, parsed.Config.DataSource))
	res.Warnings = append(slices.Clone(parsed.Config.Warnings), res.Warnings...)
	if w := userTimeoutWarning(parsed.Config, rep); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	return rep, exitOK
}

// checkConnected connects and reads the settings from the socket.
func (a *app) checkConnected(connector *driver.Connector, parsed *dsnparse.DSN, timeout time.Duration, res *checkResult) (settings.Report, int) {
	db := sql.OpenDB(connector)
	defer db.Close()
	defer a.pushMetrics("check", db)() // before db.Close: the connection is still open
	ctx, cancel := connectContext(a.ctx, timeout)
	defer cancel()
	failed := func(err error) (settings.Report, int) {
		setOutcomes(res.Steps, err)
		return settings.Report{}, a.connectFailed("check", err, true)
	}
	if res.Login != nil {
		cr, err := a.login(ctx, connector.Login())
		if err != nil {
			return failed(err)
		}
		res.Login.Called, res.Login.DatabaseUser = true, cr.User
		res.Login.Expires = cr.Expiration.UTC().Format(time.RFC3339)
	}
	if err := connector.PrepareToken(ctx); err != nil {
		return failed(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return failed(err)
	}
	defer conn.Close()
	setOutcomes(res.Steps, nil)
	res.Connected = true
	var rep settings.Report
	if err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		pc := sc.Conn().PgConn()
		res.Server = pc.Conn().RemoteAddr().String()
		res.ServerPID = pc.PID()
		_, res.TLS = pc.Conn().(*tls.Conn)
		var err error
		rep, err = settings.ReadPgx(pc)
		res.ServerVersion = rep.Server
		return err
	}); err != nil {
		if errors.Is(err, settings.ErrNotRedshiftKA) {
			return settings.Report{}, a.fail(exitConnect, "check: the connection is not over TCP (a Unix-domain socket?): keep-alive does not apply to it")
		}
		return settings.Report{}, a.fail(exitConnect, "check: read the socket's options: %v", err)
	}
	if rep.FromSocket {
		res.ReadFrom = "the connection's socket, with getsockopt"
	} else {
		res.ReadFrom = "resolved from the DSN and the OS values: this OS cannot read socket options back"
	}
	return rep, exitOK
}

// connectFailed reports a failed connection and returns the exit status.
func (a *app) connectFailed(cmd string, err error, offlineHint bool) int {
	if a.ctx.Err() != nil {
		return a.fail(exitInterrupted, "%s: interrupted while connecting", cmd)
	}
	var hints []string
	var iamErr *iam.Error
	switch {
	case errors.As(err, &iamErr):
		// The IAM login failed before any dial: its error says what to fix.
	case errors.Is(err, context.DeadlineExceeded):
		hints = append(hints, "no answer within --connect-timeout: check the host and port, and the firewalls and security groups on the way")
	default:
		hints = append(hints, "check the host, port, user, password and sslmode, and that the server lets this machine in")
	}
	if offlineHint {
		hints = append(hints, "--offline shows the settings without connecting")
	}
	if len(hints) == 0 {
		return a.fail(exitConnect, "%s: could not connect: %v", cmd, err)
	}
	return a.fail(exitConnect, "%s: could not connect: %v\n%s", cmd, err, strings.Join(hints, "; "))
}

// fill copies the settings into the result and judges them; from names
// where each value came from.
func fill(res *checkResult, r settings.Report, from func(settings.Source) string) {
	res.KeepAlive = r.KeepAlive
	res.IdleSeconds = int64(r.Idle / time.Second)
	res.IntervalSeconds = int64(r.Interval / time.Second)
	res.Count = r.Count
	res.UserTimeoutMS = int64(r.UserTimeout / time.Millisecond)
	res.Source = sources{
		KeepAlive:   from(r.KeepAliveFrom),
		Idle:        from(r.IdleFrom),
		Interval:    from(r.IntervalFrom),
		Count:       from(r.CountFrom),
		UserTimeout: from(r.UserTimeoutFrom),
	}
	res.OS.IdleSeconds = int64(r.OS.Idle / time.Second)
	res.OS.IntervalSeconds = int64(r.OS.Interval / time.Second)
	res.OS.Count = r.OS.Count
	res.OS.Source.Idle, res.OS.Source.Interval, res.OS.Source.Count = r.OS.IdleFrom, r.OS.IntervalFrom, r.OS.CountFrom
	if r.KeepAlive {
		dead := r.DeadAfter().Seconds()
		refresh := res.IdleSeconds
		res.DeadAfterSeconds, res.RefreshSeconds = &dead, &refresh
	}
	res.Middleboxes = []middleboxVerdict{}
	for _, m := range middleboxes {
		res.Middleboxes = append(res.Middleboxes, middleboxVerdict{
			Name: m.Name, IdleTimeoutSeconds: int64(m.Timeout / time.Second), Note: m.Note, Survives: survives(r, m.Timeout),
		})
	}
	res.Warnings = warnings(r)
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
}

// writeCheck prints the result as text.
func writeCheck(w io.Writer, res checkResult, r settings.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "DSN\t%s (%s form)\n", res.DSN, res.Form)
	if res.DataSource != "" {
		fmt.Fprintf(tw, "Data source\t%s\n", res.DataSource)
	}
	if res.Connected {
		server := fmt.Sprintf("%s, server process id %d", res.Server, res.ServerPID)
		if res.ServerVersion != "" {
			server += ", version " + res.ServerVersion
		}
		if res.TLS {
			server += ", TLS"
		}
		fmt.Fprintf(tw, "Server\t%s\n", server)
	} else {
		fmt.Fprintf(tw, "Server\tnot connected (--offline)\n")
	}
	if l := res.Login; l != nil {
		fmt.Fprintf(tw, "Login\t%s\n", loginText(*l))
	}
	if l := res.IdP; l != nil {
		text := "native identity provider: plugin " + l.Plugin + ", idp_type " + l.IdPType
		if l.ProviderName != "" {
			text += ", provider " + l.ProviderName
		}
		if l.TokenType != "" {
			text += ", token_type " + l.TokenType
		}
		if l.Exchange {
			text += ", the token from GetIdentityCenterAuthToken for the DSN's AWS keys"
		}
		fmt.Fprintf(tw, "Login\t%s\n", text)
	}
	fmt.Fprintf(tw, "Values from\t%s\n", res.ReadFrom)
	fmt.Fprintln(tw)
	tw.Flush()
	if len(res.Steps) > 0 {
		writeSteps(w, res.Steps)
		fmt.Fprintln(w)
	}

	// A value the DSN set says so in its source already.
	unused := func(s settings.Source) string {
		if r.KeepAlive || s.Unused {
			return ""
		}
		return " (unused: keep-alive is off)"
	}
	onOff := map[bool]string{true: "on", false: "off"}
	ut := "unset"
	if r.UserTimeout > 0 {
		ut = fmt.Sprintf("%d ms", res.UserTimeoutMS)
	}
	fmt.Fprintf(tw, "Setting\tIn force\tFrom\n")
	fmt.Fprintf(tw, "keep-alive\t%s\t%s\n", onOff[r.KeepAlive], res.Source.KeepAlive)
	fmt.Fprintf(tw, "idle\t%s\t%s%s\n", secs(r.Idle), res.Source.Idle, unused(r.IdleFrom))
	fmt.Fprintf(tw, "interval\t%s\t%s%s\n", secs(r.Interval), res.Source.Interval, unused(r.IntervalFrom))
	fmt.Fprintf(tw, "count\t%d\t%s%s\n", r.Count, res.Source.Count, unused(r.CountFrom))
	fmt.Fprintf(tw, "user timeout\t%s\t%s\n", ut, res.Source.UserTimeout)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "OS values\tidle %s\t%s\n", secs(r.OS.Idle), r.OS.IdleFrom)
	fmt.Fprintf(tw, "\tinterval %s\t%s\n", secs(r.OS.Interval), r.OS.IntervalFrom)
	fmt.Fprintf(tw, "\tcount %d\t%s\n", r.OS.Count, r.OS.CountFrom)
	tw.Flush()
	writeKeys(w, res.Keys)

	fmt.Fprintf(w, "\n%s\n%s\n\n", deadAfterText(r), refreshText(r))

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Middlebox\tIdle timeout\tSurvives\n")
	for _, m := range res.Middleboxes {
		verdict := "yes"
		if !m.Survives {
			verdict = "NO"
		}
		fmt.Fprintf(tw, "%s\t%d s (%s)\t%s\n", m.Name, m.IdleTimeoutSeconds, m.Note, verdict)
	}
	tw.Flush()
	if len(res.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// writeSteps prints the login's steps and their outcomes.
func writeSteps(w io.Writer, steps []stepResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Login step\tFor\tOutcome\n")
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Detail, s.Outcome)
	}
	tw.Flush()
}

// writeKeys prints every key of the DSN and where it went.
func writeKeys(w io.Writer, keys []keyUse) {
	fmt.Fprintf(w, "\nKeys\n")
	if len(keys) == 0 {
		fmt.Fprintf(w, "  none\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		key := k.Key
		if k.From != "" {
			key += " (odbc.ini " + k.From + ")"
		}
		to := k.To
		switch k.Went {
		case "ours", "pgx/lib/pq":
			to = "as " + to
		case "server parameter":
			to = "sent to the server at connect"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", key, k.Went, to)
	}
	tw.Flush()
}

// loginText describes an IAM login on one line: the call made, the user
// and expiry it gave; or, offline, the call it would make.
func loginText(l loginResult) string {
	var b strings.Builder
	region := l.Region
	if region == "" {
		region = "no region (set Region in the DSN, or AWS_REGION)"
	}
	fmt.Fprintf(&b, "%s: ", l.Method)
	if l.Plugin != "" {
		call, role := "STS AssumeRoleWithSAML", l.Role
		if l.Plugin == "JwtIamAuthPlugin" {
			call = "STS AssumeRoleWithWebIdentity"
		} else if role == "" {
			role = "the assertion's role"
		}
		fmt.Fprintf(&b, "%s (%s as %s), then ", l.Plugin, call, role)
	}
	fmt.Fprintf(&b, "%s for %s in %s", l.API, l.Target(), region)
	if !l.Called {
		b.WriteString(" (not called: --offline)")
		if l.DbUser != "" {
			fmt.Fprintf(&b, ", database user %s", l.DbUser)
		} else if l.Workgroup == "" {
			b.WriteString(", the IAM identity's own database user")
		}
		if len(l.DbGroups) > 0 {
			fmt.Fprintf(&b, ", groups %s", strings.Join(l.DbGroups, ","))
		}
		if l.AutoCreate {
			b.WriteString(", AutoCreate")
		}
		if l.Profile != "" {
			fmt.Fprintf(&b, ", profile %s", l.Profile)
		}
		if l.Endpoint != "" {
			fmt.Fprintf(&b, ", endpoint %s", l.Endpoint)
		}
		if l.STSEndpoint != "" {
			fmt.Fprintf(&b, ", STS endpoint %s", l.STSEndpoint)
		}
		return b.String()
	}
	fmt.Fprintf(&b, ": database user %s, password expires %s", l.DatabaseUser, l.Expires)
	return b.String()
}

// fromDataSource returns how check names where a value came from: as
// [settings.Source.String] does, but a key that the odbc.ini data source
// dataSource gave, not the connection string dsn, is named as from there.
func fromDataSource(dsn, dataSource string) func(settings.Source) string {
	return func(s settings.Source) string {
		if dataSource == "" || s.Key == "" || s.OS != "" || hasKey(dsn, s.Key) {
			return s.String()
		}
		return fmt.Sprintf("odbc.ini data source %s, key %s", dataSource, s.Key)
	}
}

// hasKey reports whether the ODBC connection string dsn sets key (in any
// case). It reads the redacted DSN, where no password's ';' or '='
// remains to be taken for a key's.
func hasKey(dsn, key string) bool {
	for _, attr := range strings.Split(dsnparse.Redact(dsn), ";") {
		if name, _, ok := strings.Cut(attr, "="); ok && strings.EqualFold(strings.TrimSpace(name), key) {
			return true
		}
	}
	return false
}
