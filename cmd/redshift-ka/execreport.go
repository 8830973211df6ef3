package main

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	serverside "github.com/redshift-ka/redshift-ka/outcome"
)

// execResult is what exec reports, as --json prints it when exec ends,
// whatever its exit status. It never holds a statement's text, which may
// hold credentials.
type execResult struct {
	// DSN is the DSN with its secrets masked; empty when none was read.
	DSN string `json:"dsn,omitempty"`
	// Server, ServerPID and ServerVersion are the server's address, the
	// process id of the session, and the version it announced; empty
	// before exec connected.
	Server        string `json:"server,omitempty"`
	ServerPID     uint32 `json:"server_pid,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	Redshift      bool   `json:"redshift"`
	// Statements lists every statement, once they are split.
	Statements []execStatement `json:"statements"`
	// Outcome is the server's answer after a lost connection, without the
	// statement's text; OutcomeError says why the server could not be
	// asked.
	Outcome      *serverside.Statement `json:"outcome,omitempty"`
	OutcomeError string                `json:"outcome_error,omitempty"`
	// Error says why exec ended when no statement holds the reason: bad
	// input, a failed connection, an interrupt before a statement ran.
	Error string `json:"error,omitempty"`
	// Exit is the exit status.
	Exit int `json:"exit"`
}

// The statuses of an [execStatement].
const (
	stmtDone        = "done"
	stmtFailed      = "failed"
	stmtLost        = "lost"
	stmtInterrupted = "interrupted"
	stmtNotRun      = "not run"
)

// execStatement is how one statement went.
type execStatement struct {
	// N is its number, from 1; Line is the line of the input it starts on.
	N    int `json:"n"`
	Line int `json:"line"`
	// Status is "done", "failed", "lost" (the connection, during the
	// statement), "interrupted" or "not run".
	Status string `json:"status"`
	// Tag is the command tag of a statement done ("INSERT 0 2").
	Tag string `json:"tag,omitempty"`
	// Rows, for a statement done, is the rows it returned or, for one
	// that returns none, the count its tag holds.
	Rows *int64 `json:"rows,omitempty"`
	// Seconds is how long it ran, as the client saw it.
	Seconds float64 `json:"seconds,omitempty"`
	// Error is the error of a statement failed, lost or interrupted.
	Error string `json:"error,omitempty"`
}

// newExecResult is a result with no statements yet.
func newExecResult() *execResult {
	return &execResult{Statements: []execStatement{}}
}

// split lists the statements, none run yet.
func (res *execResult) split(stmts []statement) {
	res.Statements = make([]execStatement, len(stmts))
	for i, st := range stmts {
		res.Statements[i] = execStatement{N: i + 1, Line: st.line, Status: stmtNotRun}
	}
}

// ended records how statement i ended.
func (res *execResult) ended(i int, status string, took time.Duration, err string) {
	s := &res.Statements[i]
	s.Status, s.Seconds, s.Error = status, took.Seconds(), err
}

// done records statement i as done.
func (res *execResult) done(i int, took time.Duration, o outcome) {
	res.ended(i, stmtDone, took, "")
	rows := o.rows
	if rows == 0 {
		rows = o.tag.RowsAffected() // INSERT, UPDATE, COPY: the tag counts
	}
	res.Statements[i].Tag, res.Statements[i].Rows = o.tag.String(), &rows
}

// answer records the server's answer after a lost connection, without the
// statement's text.
func (res *execResult) answer(ans serverside.Statement) {
	ans.Query = ""
	res.Outcome = &ans
}

// writeJSON writes v as indented JSON in one write, so that the scrubber
// sees it whole.
func writeJSON(w io.Writer, v any) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonForm is s as writeJSON writes it inside a JSON string: a quote, a
// backslash or a control character in a password is escaped there, where
// the scrubber must find it too.
func jsonForm(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return s
	}
	q := strings.TrimSuffix(b.String(), "\n")
	return q[1 : len(q)-1]
}
