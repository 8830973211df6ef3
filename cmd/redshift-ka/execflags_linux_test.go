//go:build linux

package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestExecInputs: -f - reads the statements from standard input (and
// then no COPY may read it); repeated -c run in order, their lines
// numbered one after the other; a duration in plain seconds is taken, and
// a bad one is named as written.
func TestExecInputs(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	dsn := pg.URL("")
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
		not   []string
	}{
		{"-f -", "SELECT 1;\nSELECT 2;\n", []string{"-f", "-"}, exitOK,
			[]string{"running 2 statements from standard input", "statement 2 of 2 (line 2) started: SELECT 2", "done: 2 statements"}, nil},
		{"-f - with COPY FROM STDIN", "COPY t FROM STDIN;", []string{"-f", "-"}, exitUsage,
			[]string{"statement 1 (line 1) is COPY ... FROM STDIN, but -f - reads the statements from standard input"}, nil},
		{"-c, repeated, in order", "", []string{"-c", "CREATE TEMP TABLE t (n int)", "-c", "INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)", "-c", "SELECT sum(n) FROM t"}, exitOK,
			[]string{"running 4 statements from -c", "statement 1 of 4 (line 1) started: CREATE TEMP TABLE", "statement 3 of 4 (line 2) started: INSERT INTO t VALUES (3)",
				"statement 4 of 4 (line 3) started: SELECT sum(n) FROM t", "done: 4 statements"}, nil},
		{"-c, repeated, a bad one named by its line", "", []string{"-c", "SELECT 1", "-c", "SELECT 2", "-c", "SELECT 'x"}, exitUsage,
			[]string{"-c: line 3: string literal is not closed"}, nil},
		{"-c, repeated, each ends its statements", "", []string{"-c", "SELECT 1 -- no ;", "-c", "SELECT 2"}, exitOK,
			[]string{"running 2 statements from -c"}, nil},
		{"plain seconds", "", []string{"--connect-timeout", "2", "--progress", "1.5", "-c", "SELECT 1"}, exitOK, []string{"done: 1 statement"}, nil},
		{"bad duration, as written", "", []string{"--connect-timeout", "soon", "-c", "SELECT 1"}, exitUsage,
			[]string{"invalid value for --connect-timeout: want a duration such as 30s, 5m or 0, or seconds (30)"}, []string{" -connect-timeout"}},
		{"bad duration, one dash", "", []string{"-wait=soon", "-c", "SELECT 1"}, exitUsage, []string{"invalid value for -wait"}, nil},
		{"unknown flag, as written", "", []string{"--nope", "-c", "SELECT 1"}, exitUsage, []string{`unknown flag "--nope"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), tc.stdin, nil, append(append([]string{"exec"}, tc.args...), dsn)...)
			assert.Equal(t, tc.code, r.code, r.all())
			for _, w := range tc.want {
				assert.Contains(t, r.all(), w)
			}
			for _, w := range tc.not {
				assert.NotContains(t, r.all(), w)
			}
			noSecret(t, pg, r.all())
		})
	}
}

// TestExecRows: --rows prints the rows of the last statement on stdout,
// alone, tab-separated as COPY writes them or as CSV, so that a job can
// read a count; the other lines go to stderr.
func TestExecRows(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	dsn := pg.URL("")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a count", []string{"--rows", "-c", "SELECT count(*) FROM generate_series(1, 7)"}, "7\n"},
		{"the last statement's only", []string{"--rows", "-c", "SELECT 5; SELECT 6 UNION ALL SELECT 8"}, "6\n8\n"},
		{"tab-separated, NULL and escapes", []string{"--rows", "-c", `SELECT 1, NULL, E'a\tb\\c', ''`}, "1\t\\N\ta\\tb\\\\c\t\n"},
		{"tsv by name", []string{"--rows=tsv", "-c", "SELECT 'x', 'y'"}, "x\ty\n"},
		{"csv", []string{"--rows=csv", "-c", `SELECT 1, NULL, 'x,y', 'say "hi"'`}, "1,,\"x,y\",\"say \"\"hi\"\"\"\n"},
		{"no rows", []string{"--rows", "-c", "CREATE TEMP TABLE t (n int)"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t.Context(), "", nil, append(append([]string{"exec"}, tc.args...), dsn)...)
			require.Equal(t, exitOK, r.code, r.all())
			assert.Equal(t, tc.want, r.stdout)
			assert.Contains(t, r.stderr, "server process id", "the lines for people go to stderr")
			noSecret(t, pg, r.all())
		})
	}
	t.Run("bad format", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "exec", "--rows=xml", "-c", "SELECT 1", dsn)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "invalid value for --rows: want tsv or csv")
	})
	t.Run("with --json", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "exec", "--rows", "--json", "-c", "SELECT 1", dsn)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, execJSON(t, r).Error, "--rows and --json")
	})
	t.Run("help says so", func(t *testing.T) {
		r := runCLI(t.Context(), "", nil, "help", "exec")
		for _, w := range []string{"-rows", "-f -", "repeated"} {
			assert.Contains(t, r.stdout, w)
		}
	})
}

// TestVersion: --version prints the module version of the build info;
// a build from a work tree is "(devel)".
func TestVersion(t *testing.T) {
	out, err := exec.Command(binary(t), "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, regexp.MustCompile(`^redshift-ka (\(devel\)|v\d+\.\d+\.\d+\S*)\n$`), string(out))
	r := runCLI(t.Context(), "", nil, "--version")
	assert.Equal(t, exitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "redshift-ka "), r.stdout)
	assert.Contains(t, runCLI(t.Context(), "", nil, "help").stdout, "--version")
}
