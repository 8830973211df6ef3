package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitCases is SQL and the statements it holds.
var splitCases = []struct {
	name string
	src  string
	want []string
}{
	{"one, no ;", "SELECT 1", []string{"SELECT 1"}},
	{"one with ;", "SELECT 1;", []string{"SELECT 1"}},
	{"several", "SELECT 1; SELECT 2;\nSELECT 3", []string{"SELECT 1", "SELECT 2", "SELECT 3"}},
	{"empty statements dropped", ";; SELECT 1;;\n;", []string{"SELECT 1"}},
	{"; in a string", "SELECT 'a;b'; SELECT 2", []string{"SELECT 'a;b'", "SELECT 2"}},
	{"doubled quote", "SELECT 'it''s; fine'; SELECT 2", []string{"SELECT 'it''s; fine'", "SELECT 2"}},
	{"standard string ends at a backslash", `SELECT 'C:\'; SELECT 2`, []string{`SELECT 'C:\'`, "SELECT 2"}},
	{"E string escapes", `SELECT E'it\'s; fine'; SELECT 2`, []string{`SELECT E'it\'s; fine'`, "SELECT 2"}},
	{"; in a quoted identifier", `SELECT 1 AS "a;""b"; SELECT 2`, []string{`SELECT 1 AS "a;""b"`, "SELECT 2"}},
	{"; in a line comment", "SELECT 1 -- one; two\n; SELECT 2", []string{"SELECT 1 -- one; two", "SELECT 2"}},
	{"; in a block comment, nested", "SELECT /* a /* b; */ c; */ 1; SELECT 2", []string{"SELECT /* a /* b; */ c; */ 1", "SELECT 2"}},
	{"comment-only statement dropped", "SELECT 1; -- the end\n", []string{"SELECT 1"}},
	{"trailing comment trimmed", "SELECT 1 -- one  \n", []string{"SELECT 1 -- one"}},
	{"only ASCII white space is space", "\u0085;SELECT\u00a01", []string{"\u0085", "SELECT\u00a01"}},
	{"leading comment kept", "/*+ SeqScan(t) */ SELECT 1", []string{"/*+ SeqScan(t) */ SELECT 1"}},
	{"dollar body", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2",
		[]string{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"}},
	{"tagged dollar body holding $$", "DO $body$ BEGIN PERFORM '$$;'; END $body$; SELECT 2",
		[]string{"DO $body$ BEGIN PERFORM '$$;'; END $body$", "SELECT 2"}},
	{"$1 and a$b are no dollar quotes", "SELECT a$b, $1; SELECT 2", []string{"SELECT a$b, $1", "SELECT 2"}},
	{"; in parentheses", "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3",
		[]string{"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)", "SELECT 3"}},
	{"BEGIN ATOMIC body", "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3",
		[]string{"CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END", "SELECT 3"}},
	{"BEGIN as a transaction", "BEGIN; INSERT INTO t VALUES (1); COMMIT;", []string{"BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"}},
	{"Redshift COPY with credentials", "COPY sales FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=A;aws_secret_access_key=S' DELIMITER '|';\nVACUUM sales;",
		[]string{"COPY sales FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=A;aws_secret_access_key=S' DELIMITER '|'", "VACUUM sales"}},
}

func TestSplitSQL(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitSQL(tc.src, false)
			require.NoError(t, err)
			var texts []string
			for _, s := range got {
				texts = append(texts, s.text)
			}
			assert.Equal(t, tc.want, texts)
		})
	}
}

func TestSplitSQLBackslashQuotes(t *testing.T) {
	// With standard_conforming_strings off, \' does not end a literal.
	src := `SELECT 'it\'s; fine'; SELECT 2`
	got, err := splitSQL(src, true)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, `SELECT 'it\'s; fine'`, got[0].text)
	// With it on, the same text is a literal 'it\' and an unclosed one.
	_, err = splitSQL(src, false)
	assert.ErrorContains(t, err, "string literal is not closed")
}

func TestSplitSQLErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"SELECT 1;\nSELECT 'abc", "line 2: string literal is not closed"},
		{"SELECT \"abc", "line 1: quoted identifier is not closed"},
		{"SELECT 1;\n\nDO $x$ BEGIN END $y$", "line 3: dollar-quoted text $x$ is not closed"},
		{"SELECT 1 /* a /* b */", "line 1: comment /* is not closed"},
		{"SELECT 1;\n\\copy t from 'f'", "line 2: psql meta-commands"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := splitSQL(tc.src, false)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestStatementDetails(t *testing.T) {
	src := "-- load\n\nCOPY sales (id, amount)\n  FROM STDIN WITH (FORMAT csv);\n" +
		"COPY (SELECT 1) TO STDOUT;\n" +
		"CREATE USER etl PASSWORD 'hunter22';\n" +
		"SELECT /* hidden */ $q$ secret $q$, E'x\\'y', 1;\n" +
		"COPY sales FROM 's3://bucket/stdin' IAM_ROLE 'arn:aws:iam::1:role/r';\n" +
		"INSERT INTO t SELECT * FROM generate_series(1, 1000000) AS g(n) WHERE n % 2 = 0 AND n > 10"
	got, err := splitSQL(src, false)
	require.NoError(t, err)
	require.Len(t, got, 6)
	for i, want := range []struct {
		line            int
		summary         string
		copyIn, copyOut bool
	}{
		{3, "COPY sales (id, amount) FROM STDIN WITH (FORMAT csv)", true, false},
		{5, "COPY (SELECT 1) TO STDOUT", false, true},
		{6, "CREATE USER etl PASSWORD '…'", false, false},
		{7, "SELECT $q$…$q$, E'…', 1", false, false},
		{8, "COPY sales FROM '…' IAM_ROLE '…'", false, false},
		{9, "INSERT INTO t SELECT * FROM generate_series(1, 1000000) AS…", false, false},
	} {
		assert.Equal(t, want.line, got[i].line, "statement %d", i+1)
		assert.Equal(t, want.summary, got[i].summary, "statement %d", i+1)
		assert.Equal(t, want.copyIn, got[i].copyIn, "statement %d", i+1)
		assert.Equal(t, want.copyOut, got[i].copyOut, "statement %d", i+1)
	}
	assert.True(t, strings.HasPrefix(got[0].text, "-- load\n\nCOPY"), "leading comment kept: %q", got[0].text)
}

// FuzzSplitSQL: no panic; every statement splits again into itself; no
// statement ends in ';' or white space.
func FuzzSplitSQL(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(tc.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := splitSQL(src, false)
		if err != nil {
			return
		}
		for _, s := range got {
			again, err := splitSQL(s.text, false)
			if err != nil || len(again) != 1 || again[0].text != s.text {
				t.Fatalf("statement %q of %q splits again into %d (%v)", s.text, src, len(again), err)
			}
			if strings.Trim(s.text, sqlSpace) != s.text || s.summary == "" {
				t.Fatalf("statement %q of %q: untrimmed, or no summary", s.text, src)
			}
		}
	})
}
