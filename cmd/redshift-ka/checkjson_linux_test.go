//go:build linux

package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// oneObject decodes stdout as exactly one JSON object of v's type, with
// no unknown field and nothing after it.
func oneObject(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "stdout is not one JSON object:\n%s", stdout)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "more than the object on stdout:\n%s", stdout)
}

// TestCheckJSONWhateverHappens: check --json prints exactly one JSON
// object on stdout, whatever the exit status: a refused connection (4)
// and a bad DSN (2) as exec --json does, with the error and the exit
// status; bad flags print none, as exec's rule says. No password shows.
func TestCheckJSONWhateverHappens(t *testing.T) {
	p := &harness.Postgres{Host: "127.0.0.1", Port: 1, User: "me", Database: "db",
		Password: `5ee1c0de 'b0a7f00d" #;&?%={}deadbeef`}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"refused connection", []string{"--connect-timeout", "5s", p.URL("")}, exitConnect, "could not connect"},
		{"bad DSN", []string{p.URL("KeepAlivesIdle=abc")}, exitUsage, `KeepAlivesIdle: want whole seconds 0..32767, got "abc"`},
		{"bad DSN, odbc", []string{p.ODBC("KeepAlivesIdle=abc")}, exitUsage, `KeepAlivesIdle: want whole seconds 0..32767, got "abc"`},
		{"no DSN", nil, exitUsage, "no DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), "", nil, append([]string{"check", "--json"}, tc.args...)...)
			require.Equal(t, tc.code, r.code, r.all())
			var f checkFailure
			oneObject(t, r.stdout, &f)
			assert.Equal(t, tc.code, f.Exit)
			assert.Contains(t, f.Error, tc.want)
			assert.False(t, f.Connected)
			if tc.args != nil {
				assert.Contains(t, f.DSN, "xxxxx", "the DSN, masked")
			}
			assert.Contains(t, r.stderr, tc.want, "the text line goes to stderr")
			harness.NoLeak(t, p, "the command's output", r.all())
		})
	}
	t.Run("success says exit 0", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "check", "--json", "--offline", p.URL(""))
		require.Equal(t, exitOK, r.code, r.all())
		var res checkResult
		oneObject(t, r.stdout, &res)
		assert.Equal(t, exitOK, res.Exit)
	})
	t.Run("bad flag: nothing on stdout", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "check", "--json", "--connect-timeout", "soon", p.URL(""))
		assert.Equal(t, exitUsage, r.code)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, "invalid value for --connect-timeout")
	})
}

// TestCheckKeepAliveOffOnce: with keep-alive off, each row says once
// that its value is unused, a value the DSN set included.
func TestCheckKeepAliveOffOnce(t *testing.T) {
	r := runCLI(t.Context(), "", nil, "check", "--offline", "postgres://me:pw@db.example/dev?keepalives=0&KeepAlivesIdle=10")
	require.Equal(t, exitOK, r.code, r.all())
	for _, row := range []string{"idle", "interval", "count"} {
		line := regexp.MustCompile(`(?m)^` + row + ` .*$`).FindString(r.stdout)
		assert.Equal(t, 1, strings.Count(line, "unused"), "%q", line)
	}
	assert.Contains(t, r.stdout, "(KeepAlivesIdle unused: keep-alive off)")
}

// TestCheckNamesODBCIni: a value from an odbc.ini data source is said to
// come from there, not from a DSN key; one from the connection string is
// a DSN key.
func TestCheckNamesODBCIni(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte("[rs]\nServer = db.example\nDatabase = dev\nKeepAlivesIdle = 200\n"), 0o600))
	t.Setenv("ODBCINI", ini)
	t.Setenv("HOME", t.TempDir())
	for _, asJSON := range []bool{false, true} {
		args := []string{"check", "--offline", "DSN=rs;UID=me;PWD={Pw-4-odbc;=};KeepAlivesInterval=7"}
		if asJSON {
			args = append(args, "--json")
		}
		r := runCLI(t.Context(), "", nil, args...)
		require.Equal(t, exitOK, r.code, r.all())
		assert.NotContains(t, r.all(), "Pw-4-odbc")
		want := "odbc.ini data source rs in " + ini + ", key KeepAlivesIdle"
		if asJSON {
			var res checkResult
			oneObject(t, r.stdout, &res)
			assert.Equal(t, want, res.Source.Idle)
			assert.Equal(t, "DSN key KeepAlivesInterval", res.Source.Interval)
			continue
		}
		assert.Regexp(t, `(?m)^idle +200 s +`+regexp.QuoteMeta(want)+`$`, r.stdout)
		assert.Regexp(t, `(?m)^interval +7 s +DSN key KeepAlivesInterval$`, r.stdout)
	}
}

// TestCheckKeys: check shows every key of the DSN and where it went, the
// dropped ones with whose they are and what they do, a key from odbc.ini
// named with its file; --json has them as ignored_keys and keys; the
// DSN's warnings show; a misspelt key fails with "did you mean".
func TestCheckKeys(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte("[rs]\nServer = db.example\nKeepAlivesIdle = 200\n"), 0o600))
	t.Setenv("ODBCINI", ini)
	dsn := "DSN=rs;UID=me;PWD={Pw-4-odbc;=};TCPKeepAliveMinutes=3;LoginTimeout=9;search_path=etl;readOnly=1;db_user=etl;tcp_user_timeout=300"
	r := runCLI(t.Context(), "", nil, "check", "--offline", dsn)
	require.Equal(t, exitOK, r.code, r.all())
	assert.NotContains(t, r.all(), "Pw-4-odbc")
	for _, re := range []string{
		`(?m)^  Server \(odbc\.ini ` + regexp.QuoteMeta(ini) + ` \[rs\]\) +pgx/lib/pq +as host$`,
		`(?m)^  TCPKeepAliveMinutes +ours +as KeepAlivesIdle$`,
		`(?m)^  LoginTimeout +ours +as connect_timeout$`,
		`(?m)^  search_path +server parameter +sent to the server at connect$`,
		`(?m)^  readOnly +dropped +JDBC: a setting of Amazon's JDBC driver`,
		`(?m)^  db_user +dropped +IAM .*add iam=true`,
		`(?m)^warning: tcp_user_timeout=300 is 300 ms, under a second`,
	} {
		assert.Regexp(t, re, r.stdout)
	}
	assert.NotContains(t, r.stdout, "ODBC keys ignored")

	r = runCLI(t.Context(), "", nil, "check", "--offline", "--json", dsn)
	require.Equal(t, exitOK, r.code, r.all())
	var res checkResult
	oneObject(t, r.stdout, &res)
	assert.Contains(t, res.IgnoredKeys, ignoredKey{"readOnly", "JDBC", "a setting of Amazon's JDBC driver (statements, fetching, logging, Java classes); not PostgreSQL's"})
	assert.Contains(t, res.Keys, keyUse{"Server", ini + " [rs]", "pgx/lib/pq", "host"})
	assert.Contains(t, res.Keys, keyUse{"KeepAlivesIdle", ini + " [rs]", "dropped", "overridden by the connection string"})
	assert.Contains(t, res.Warnings[0], "tcp_user_timeout=300 is 300 ms")

	// Under idle + interval x count with the OS's values (idle 7200 s
	// unless this machine says less).
	r = runCLI(t.Context(), "", nil, "check", "--offline", "postgres://me@db.example/dev?tcp_user_timeout=60000")
	require.Equal(t, exitOK, r.code, r.all())
	assert.Regexp(t, `(?m)^warning: tcp_user_timeout=60000 is under idle \+ interval x count \(\d+ s, the OS's values`, r.stdout)

	r = runCLI(t.Context(), "", nil, "check", "--offline", "postgres://me@db.example/dev?KeepAliveIdel=200")
	assert.Equal(t, exitUsage, r.code, r.all())
	assert.Contains(t, r.stderr, "KeepAliveIdel: unknown key; did you mean KeepAlivesIdle?")
}
