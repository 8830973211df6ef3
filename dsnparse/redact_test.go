package dsnparse

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redactCase is a DSN, what Redact must make of it, and the secrets it
// holds.
type redactCase struct {
	name    string
	dsn     string
	want    string
	secrets []string // must not appear in the output
}

var redactDSNs = []redactCase{
	// URL form.
	{"url/userinfo", "postgres://me:s3cret@h:5439/dev?sslmode=require", "postgres://me:xxxxx@h:5439/dev?sslmode=require", []string{"s3cret"}},
	{"url/escaped userinfo", "postgresql://me:p%40ss%2Fw@h/dev", "postgresql://me:xxxxx@h/dev", []string{"p%40ss%2Fw", "p@ss/w"}},
	{"url/empty password", "postgres://me:@h/dev", "postgres://me:xxxxx@h/dev", nil},
	{"url/no password", "postgres://me@h/dev?KeepAlivesIdle=200", "postgres://me@h/dev?KeepAlivesIdle=200", nil},
	{"url/no userinfo", "postgres://h:5432,h2:5433/dev", "postgres://h:5432,h2:5433/dev", nil},
	{"url/raw @ in password", "postgres://me:p@ss@h/dev", "postgres://me:xxxxx@h/dev", []string{"p@ss"}},
	{"url/raw / ? # in password (does not parse)", "postgres://me:a/b?c#d@h/dev", "postgres://me:xxxxx@h/dev", []string{"a/b?c#d", "b?c#d"}},
	{"url/raw # in password that Go reads as a fragment", "postgres://me:#x9@h/dev", "postgres://me:xxxxx@h/dev", []string{"#x9"}},
	{"url/password parameter", "postgres://me@h/dev?sslmode=require&password=s3cret&KeepAlivesIdle=5", "postgres://me@h/dev?sslmode=require&password=xxxxx&KeepAlivesIdle=5", []string{"s3cret"}},
	{"url/escaped password parameter key", "postgres://h/dev?pass%77ord=s3cret", "postgres://h/dev?pass%77ord=xxxxx", []string{"s3cret"}},
	{"url/sslpassword parameter, a raw # taken as part of it", "postgres://h/dev?sslpassword=keypass#frag", "postgres://h/dev?sslpassword=xxxxx", []string{"keypass"}},
	{"url/both", "postgres://me:one@h/dev?password=two", "postgres://me:xxxxx@h/dev?password=xxxxx", []string{"one", "two"}},
	{"url/bad escape", "postgres://me:50%zz@h/dev", "postgres://me:xxxxx@h/dev", []string{"50%zz"}},
	{"url/@ after the host masks up to it", "postgres://me:pw@h/dev?application_name=a@b", "postgres://me:xxxxx@b", []string{"pw"}},

	// key=value form.
	{"kv/bare", "host=h port=5439 password=s3cret dbname=dev", "host=h port=5439 password=xxxxx dbname=dev", []string{"s3cret"}},
	{"kv/quoted", `host=h password='s3 cr\'et' dbname=dev`, "host=h password=xxxxx dbname=dev", []string{"s3 cr", `cr\'et`, "s3 cr'et"}},
	{"kv/spaces around =", "host=h password = s3cret", "host=h password = xxxxx", []string{"s3cret"}},
	{"kv/any case", "host=h PASSWORD=s3cret", "host=h PASSWORD=xxxxx", []string{"s3cret"}},
	{"kv/unterminated quote", "host=h password='s3 cret dbname=dev", "host=h password=xxxxx", []string{"s3", "cret"}},
	{"kv/unquoted space: stray word masked", "host=h password=s3 cret dbname=dev", "host=h password=xxxxx xxxxx dbname=dev", []string{"s3", "cret"}},
	{"kv/escaped space", `host=h password=s3\ cret`, "host=h password=xxxxx", []string{`s3\ cret`, "s3 cret"}},
	{"kv/sslpassword", "host=h sslkey=k sslpassword=keypass", "host=h sslkey=k sslpassword=xxxxx", []string{"keypass"}},
	{"kv/no password", "host=h dbname=dev keepalives_idle=30", "host=h dbname=dev keepalives_idle=30", nil},
	{"kv/empty", "", "", nil},
	{"kv/not a DSN at all", "mysql://me:s3cret@h:5439/dev", "xxxxx", []string{"s3cret"}},

	// ODBC form.
	{"odbc/bare", "Driver={Amazon Redshift (x64)};Server=h;UID=me;PWD=s3cret;Database=dev", "Driver={Amazon Redshift (x64)};Server=h;UID=me;PWD=xxxxx;Database=dev", []string{"s3cret"}},
	{"odbc/braced with ; and }}", "Server=h;PWD={s3;c}}ret};Database=dev", "Server=h;PWD=xxxxx;Database=dev", []string{"s3;c}}ret", "s3;c}ret", "c}}ret"}},
	{"odbc/Password any case", "server=h;password=s3cret", "server=h;password=xxxxx", []string{"s3cret"}},
	{"odbc/unterminated brace", "Server=h;PWD={s3;cret;Database=dev", "Server=h;PWD=xxxxx", []string{"s3", "cret"}},
	{"odbc/unbraced ; in password", "Server=h;PWD=s3;cret;Database=dev", "Server=h;PWD=xxxxx;xxxxx;Database=dev", []string{"s3", "cret"}},
	{"odbc/text after brace", "Server=h;PWD={s3}cret;Database=dev", "Server=h;PWD=xxxxx;Database=dev", []string{"s3", "cret"}},
	{"odbc/IAM credentials", "Server=h;IAM=1;AccessKeyID=AKIAEXAMPLE;SecretAccessKey=wJalr/K7;SessionToken=tok123", "Server=h;IAM=1;AccessKeyID=AKIAEXAMPLE;SecretAccessKey=xxxxx;SessionToken=xxxxx", []string{"wJalr/K7", "tok123"}},
	{"odbc/spaces", "Server = h ; PWD = s3cret ; Port = 5439", "Server = h ; PWD = xxxxx; Port = 5439", []string{"s3cret"}},
	{"odbc/bad key masked", "Server=h;PWD=s3;c ret=x;Port=1", "Server=h;PWD=xxxxx;xxxxx;Port=1", []string{"s3", "c ret"}},

	// JDBC form.
	{"jdbc/password and IAM secrets", "jdbc:redshift:iam://h/dev?user=me&password=s3cret;SecretAccessKey=wJalr%2FK7&SessionToken=tok123&DbUser=x",
		"jdbc:redshift:iam://h/dev?user=me&password=xxxxx;SecretAccessKey=xxxxx&SessionToken=xxxxx&DbUser=x", []string{"s3cret", "wJalr", "tok123"}},
	{"jdbc/PWD after ';', any case", "jdbc:redshift://h:5439/dev;UID=me;pwd=s3cret;sslpassword=keypass", "jdbc:redshift://h:5439/dev;UID=me;pwd=xxxxx;sslpassword=xxxxx", []string{"s3cret", "keypass"}},
	{"jdbc/redshift_connector names", "jdbc:redshift://h/dev?iam=1&secret_access_key=a+b&session_token=c%20d", "jdbc:redshift://h/dev?iam=1&secret_access_key=xxxxx&session_token=xxxxx", []string{"a+b", "a b", "c%20d", "c d"}},
	{"jdbc/user info masked", "jdbc:redshift://me:s3cret@h:5439/dev", "jdbc:redshift://xxxxx@h:5439/dev", []string{"s3cret"}},
	{"jdbc/user info with / ? ; masked", "jdbc:redshift://me:s3/c?r;et@h:5439/dev?user=a@b&PWD=pw", "jdbc:redshift://xxxxx@h:5439/dev?user=a@b&PWD=xxxxx", []string{"s3", "c?r", "r;et", "pw"}},
	{"jdbc/user info with = masked", "jdbc:redshift://me:s3=cret@h:5439/dev", "jdbc:redshift://xxxxx@h:5439/dev", []string{"s3", "cret"}},
	{"jdbc/an '@' in a parameter is no user info", "jdbc:redshift://h:5439/dev?DbUser=a@b.example&PWD=pw", "jdbc:redshift://h:5439/dev?DbUser=a@b.example&PWD=xxxxx", []string{"pw"}},
	{"jdbc/bad key masked", "jdbc:redshift://h/dev?password=s3;c ret&a=b", "jdbc:redshift://h/dev?password=xxxxx;xxxxx&a=b", []string{"s3", "c ret"}},
	{"jdbc/no query", "jdbc:redshift://h:5439/dev", "jdbc:redshift://h:5439/dev", nil},
	{"jdbc/leading space", "  jdbc:redshift://h/dev?PWD=s3cret", "  jdbc:redshift://h/dev?PWD=xxxxx", []string{"s3cret"}},

	// IAM secrets in the other forms.
	{"url/IAM secrets", "postgres://h/dev?iam=1&secret_access_key=wJalr%2FK7&session_token=tok123&db_user=u", "postgres://h/dev?iam=1&secret_access_key=xxxxx&session_token=xxxxx&db_user=u", []string{"wJalr", "tok123"}},
	{"kv/IAM secrets", "host=h iam=1 secret_access_key='wJ alr' SessionToken=tok123", "host=h iam=1 secret_access_key=xxxxx SessionToken=xxxxx", []string{"wJ alr", "tok123"}},

	// The identity-provider plugins' secrets, in every form.
	{"odbc/client_secret and saml_assertion", "Server=h;IAM=1;plugin_name=AzureAD;UID=ann;PWD={p w;d};client_secret={s3 c;r}}et};saml_assertion=PHNhbWw+",
		"Server=h;IAM=1;plugin_name=AzureAD;UID=ann;PWD=xxxxx;client_secret=xxxxx;saml_assertion=xxxxx", []string{"p w;d", "s3 c;r", "PHNhbWw"}},
	{"kv/client_secret and saml_assertion", `host=h iam=1 client_secret='s3 c\'r#t' saml_assertion=PHN+ password=p%w`,
		"host=h iam=1 client_secret=xxxxx saml_assertion=xxxxx password=xxxxx", []string{"s3 c", "r#t", "PHN", "p%w"}},
	{"url/client_secret and saml_assertion", "postgres://ann:p%40w@h/dev?iam=1&client_secret=s3%26c%3Dr&SAML_Assertion=PHN%2B",
		"postgres://ann:xxxxx@h/dev?iam=1&client_secret=xxxxx&SAML_Assertion=xxxxx", []string{"p%40w", "s3%26c", "s3&c=r", "PHN"}},
	{"jdbc/client_secret and saml_assertion", "jdbc:redshift:iam://h/dev?client_secret=s3%3Bc+r;saml_assertion=PHN+x&UID=ann&PWD=p{w}",
		"jdbc:redshift:iam://h/dev?client_secret=xxxxx;saml_assertion=xxxxx&UID=ann&PWD=xxxxx", []string{"s3", "c r", "PHN", "p{w}"}},

	// Taken for the wrong form: the loose pass still masks.
	{"mixed/ODBC read as key=value", "Host=o'b;PWD=s3cret;Port=5439", "Host=o'b;PWD=xxxxx;Port=5439", []string{"s3cret"}},
	{"mixed/key=value read as ODBC", "password=s3;cret host=h", "password=xxxxx;xxxxx", []string{"s3", "cret"}},

	// What the lenient tokenizers mask that the second copy of each
	// grammar, before them, let through.
	{"kv/bad key masked", "host=h password=s3 c;ret=x port=1", "host=h password=xxxxx xxxxx port=1", []string{"s3", "c;ret"}},
	{"kv/missing key masked", "host=h =s3cret port=1", "host=h xxxxx port=1", []string{"s3cret"}},
	{"kv/unterminated quote of any key", "host='h password=s3cret", "host=xxxxx", []string{"s3cret", "h password"}},
	{"kv/non-ASCII white space", "host=h\u00a0s3cret port=1", "host=xxxxx port=1", []string{"s3cret"}},
	{"odbc/unterminated brace of any key", "Server={h;PWD=s3cret", "Server=xxxxx", []string{"s3cret"}},
	{"odbc/text after brace of any key", "Server={h}s3cret;Port=1", "Server=xxxxx;Port=1", []string{"s3cret"}},

	// Found by FuzzRedact; the whole word is now a bad key of a
	// key=value DSN, and the URL case keeps the loose pass in play.
	{"fuzz/invalid UTF-8 before a key", "\xaf\xea\xaf0\x8b\x8bpAssword=s3cret", "xxxxx", []string{"s3cret"}},
	{"fuzz/invalid UTF-8 before a key in a URL value", "postgres://h/db?x=\xaf\xea\xaf0\x8b\x8bpAssword=s3cret", "postgres://h/db?x=\xaf\xea\xaf0\x8b\x8bpAssword=xxxxx", []string{"s3cret"}},
}

func TestRedact(t *testing.T) {
	for _, tc := range redactDSNs {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.dsn)
			assert.Equal(t, tc.want, got)
			for _, s := range tc.secrets {
				assert.NotContains(t, got, s)
			}
			assert.Equal(t, got, Redact(got), "redacting twice changes nothing")
		})
	}
}

// TestRedactParsedDSNs: the DSNs of the parser's table lose their password
// and keep everything else: the redacted DSN parses to the same form and
// settings, and pgx reads from it the same server, user, database and
// parameters, with the mask as the password. A DSN without a secret comes
// back unchanged.
func TestRedactParsedDSNs(t *testing.T) {
	for _, k := range []string{"PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE"} {
		t.Setenv(k, "")
	}
	withPassword := 0
	for _, tc := range testDSNs {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.dsn)
			assert.Equal(t, got, Redact(got), "redacting twice changes nothing")
			want, err := Parse(tc.dsn)
			require.NoError(t, err)
			red, err := Parse(got)
			require.NoError(t, err, "the redacted DSN %q still parses", got)
			assert.Equal(t, want.Form, red.Form)
			assert.Equal(t, want.Config, red.Config, "the keep-alive settings are kept")

			if len(Secrets(tc.dsn)) == 0 {
				assert.Equal(t, tc.dsn, got, "nothing to mask")
			}
			wantPgx, err := pgconn.ParseConfig(want.Rest)
			redPgx, redErr := pgconn.ParseConfig(red.Rest)
			if err != nil {
				// pgx refuses it (a '#' it takes into a value): it
				// refuses the redacted DSN too, and in the same words.
				require.Error(t, redErr)
				assert.Equal(t, Redact(err.Error()), Redact(redErr.Error()))
				return
			}
			require.NoError(t, redErr)
			assert.Equal(t, wantPgx.Host, redPgx.Host)
			assert.Equal(t, wantPgx.Port, redPgx.Port)
			assert.Equal(t, wantPgx.User, redPgx.User)
			assert.Equal(t, wantPgx.Database, redPgx.Database)
			assert.Equal(t, wantPgx.RuntimeParams, redPgx.RuntimeParams)
			assert.Equal(t, len(wantPgx.Fallbacks), len(redPgx.Fallbacks))
			if wantPgx.Password == "" {
				assert.Empty(t, redPgx.Password)
				return
			}
			withPassword++
			assert.Equal(t, mask, redPgx.Password, "pgx reads the mask as the password")
			assert.NotContains(t, got, wantPgx.Password)
			for _, s := range Secrets(tc.dsn) {
				if len(s) >= 3 { // shorter ones stand in other words
					assert.NotContains(t, got, s)
				}
			}
		})
	}
	assert.GreaterOrEqual(t, withPassword, 4, "the table must hold DSNs with a password in each form")
}

func TestSecrets(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want []string
	}{
		{"postgres://me:p%40ss@h/dev?password=two", []string{"p%40ss", "p@ss", "two"}},
		// lib/pq reads a '+' in a query value as a space, pgx as a '+'.
		{"postgres://h/dev?password=a%2Bb+c#d", []string{"a%2Bb+c#d", "a+b c#d", "a+b+c#d"}},
		{`host=h password='s3 cr\'et'`, []string{`'s3 cr\'et'`, "s3 cr'et"}},
		{"Server=h;PWD={a;b}}c}", []string{"{a;b}}c}", "a;b}c"}},
		{"host=h dbname=dev", nil},
		// A secret key inside another key's braces: its bare value, and
		// the value without the brace that closes the outer one.
		{"Server=h;plugin_name={x;web_identity_token=TOK1}", []string{"TOK1}", "TOK1"}},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			assert.ElementsMatch(t, tc.want, Secrets(tc.dsn))
			got := Secrets(tc.dsn)
			for i := 1; i < len(got); i++ {
				assert.GreaterOrEqual(t, len(got[i-1]), len(got[i]), "longest first")
			}
		})
	}
}

// pgxPassword is the password pgx would use for dsn after Parse, or "".
func pgxPassword(dsn string) string {
	d, err := Parse(dsn)
	if err != nil {
		return ""
	}
	cfg, err := pgconn.ParseConfig(d.Rest)
	if err != nil {
		return ""
	}
	return cfg.Password
}

// secretDSNs builds DSNs of every form around a password, each written as
// its form wants it (quoted, escaped or braced), and, where the password
// needs none of that, as written raw.
func secretDSNs(pw string) map[string]string {
	out := map[string]string{
		"url userinfo":     (&url.URL{Scheme: "postgres", User: url.UserPassword("me", pw), Host: "db.example:5439", Path: "/dev"}).String() + "?sslmode=require&KeepAlivesIdle=200",
		"url raw userinfo": "postgres://me:" + pw + "@db.example:5439/dev?sslmode=require",
		"url parameter":    "postgres://me@db.example/dev?sslmode=require&password=" + url.QueryEscape(pw) + "&KeepAlivesIdle=200",
		"key=value":        "host=db.example port=5439 user=me password=" + quoteValue(pw) + " dbname=dev keepalives_idle=200",
		"odbc braced":      "Driver={Amazon Redshift (x64)};Server=db.example;UID=me;PWD={" + strings.ReplaceAll(pw, "}", "}}") + "};Database=dev;KeepAlivesIdle=200",
		"jdbc parameter":   "jdbc:redshift://db.example:5439/dev?user=me&password=" + url.QueryEscape(pw) + "&tcpKeepAlive=true",
		"jdbc IAM secrets": "jdbc:redshift:iam://db.example/dev;ClusterID=c;SecretAccessKey=" + url.QueryEscape(pw) + ";SessionToken=" + url.QueryEscape(pw) + "&DbUser=me",
		"url IAM secret":   "postgres://me@db.example/dev?iam=1&ClusterID=c&secret_access_key=" + pctEscape(pw) + "&KeepAlivesIdle=200",
		"kv IAM secret":    "host=db.example iam=1 ClusterID=c session_token=" + quoteValue(pw) + " dbname=dev",
		"odbc IAM secret":  "Server=db.example;IAM=1;ClusterID=c;SecretAccessKey={" + strings.ReplaceAll(pw, "}", "}}") + "};Database=dev",
	}
	if pw != "" && !strings.ContainsAny(pw, ";&?") { // a raw '?' would start the query
		out["jdbc raw"] = "jdbc:redshift://db.example/dev;PWD=" + pw + "&user=me"
	}
	if pw != "" && !strings.ContainsAny(pw, " \t\r\n\f\v'\\") {
		out["key=value raw"] = "host=db.example password=" + pw + " dbname=dev"
	}
	if pw != "" && !strings.ContainsAny(pw, ";{") && strings.TrimSpace(pw) == pw {
		out["odbc raw"] = "Server=db.example;UID=me;PWD=" + pw + ";Database=dev"
	}
	return out
}

// mayWiden reports whether pw can make the loose pass of Redact mask more
// than the form's own reading: it holds an '=' or starts like a quoted or
// braced value.
func mayWiden(pw string) bool {
	t := strings.TrimLeft(pw, " \t\r\n\f\v")
	return strings.Contains(pw, "=") || strings.HasPrefix(t, "'") || strings.HasPrefix(t, "{")
}

// FuzzRedact checks, for generated DSNs of every form, that the password
// never appears in Redact's output, and that the output does not depend on
// the password at all (unless [mayWiden]: then it may mask more, never
// less). For any input, Redact does not panic, and a password pgx would
// read from a DSN that parses is masked.
func FuzzRedact(f *testing.F) {
	for _, pw := range []string{"s3cret", "p@ss/w?rd#1", "a;b}c{d", "it's a \\ test", "password=x", ":@", "#12"} {
		f.Add(pw, "")
	}
	for _, tc := range testDSNs {
		f.Add("", tc.dsn)
	}
	for _, tc := range badDSNs {
		f.Add("", tc.dsn)
	}
	for _, tc := range redactDSNs {
		f.Add("", tc.dsn)
	}
	for _, k := range []string{"PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE"} {
		os.Unsetenv(k)
	}
	f.Fuzz(func(t *testing.T, pw, dsn string) {
		// Any input: no panic, and pgx's password is masked.
		// A password that also stands elsewhere in the DSN, or that the
		// mask itself spells, proves nothing.
		out := Redact(dsn)
		if p := pgxPassword(dsn); len(p) >= 4 && strings.Count(dsn, p) <= 1 &&
			strings.Contains(strings.ReplaceAll(out, mask, "\x00"), p) {
			t.Fatalf("Redact(%q) = %q shows pgx's password %q", dsn, out, p)
		}

		// Generated DSNs.
		const other = "Zq"
		for name, d := range secretDSNs(pw) {
			got := Redact(d)
			ref := Redact(secretDSNs(other)[name])
			if !mayWiden(pw) && got != ref {
				t.Fatalf("%s: the output depends on the password:\n%q gives %q\n%q gives %q", name, d, got, secretDSNs(other)[name], ref)
			}
			if len(pw) >= 3 && strings.Contains(got, pw) && !strings.Contains(ref, pw) {
				t.Fatalf("%s: Redact(%q) = %q shows the password %q", name, d, got, pw)
			}
		}
	})
}

// hostileShapes are inputs that once made Redact take time in proportion to
// the square of their length (the fuzzer found them), n repeats of each.
func hostileShapes(n int) map[string]string {
	return map[string]string{
		"quotes":     strings.Repeat("password='", n),
		"braces":     strings.Repeat("pwd={", n),
		"url-params": "postgres://" + strings.Repeat("?password=a", n),
		"semicolons": strings.Repeat("a;", 5*n),
		"at-signs":   "postgres://u:" + strings.Repeat("@", 10*n),
	}
}

// TestRedactHostileShapes: Redact ends on the shapes that once took it
// quadratic time, and masks what follows a password key. That it takes time
// in proportion to the length is shown by BenchmarkRedactHostile (compare
// n=10000 with n=100000), not asserted here: the bound below only keeps a
// regression from hanging the run (a quadratic Redact takes minutes on
// these inputs; the linear one a tenth of a second on a loaded machine).
func TestRedactHostileShapes(t *testing.T) {
	for name, s := range hostileShapes(10000) {
		done := make(chan string, 1)
		go func() { done <- Redact(s) }()
		select {
		case got := <-done:
			if strings.HasPrefix(s, "password=") || strings.HasPrefix(s, "pwd=") {
				assert.NotContains(t, got, s[:20], name)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: Redact of %d bytes still running after a minute", name, len(s))
		}
	}
}

// BenchmarkRedactHostile: Redact's time on the shapes of
// TestRedactHostileShapes grows in proportion to their length.
func BenchmarkRedactHostile(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for name, s := range hostileShapes(n) {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					Redact(s)
				}
			})
		}
	}
}
