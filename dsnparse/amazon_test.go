package dsnparse

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// amazonDocTable renders amazonTable as the package docs show it.
func amazonDocTable() string {
	var b strings.Builder
	for _, a := range amazonTable {
		b.WriteString("//\t" + a.Key + " (" + a.Driver + "): " + a.Meaning + "; " + a.Unit + "\n")
		b.WriteString("//\t    redshift-ka: " + a.does() + "\n")
		b.WriteString("//\t    source: " + a.Source + "\n")
	}
	return b.String()
}

// TestAmazonDocTable keeps the table of Amazon's keys in doc.go equal to
// amazonTable.
func TestAmazonDocTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	if !strings.Contains(string(doc), amazonDocTable()) {
		t.Fatalf("doc.go's table of Amazon's keys is not amazonTable; put this in its place:\n%s", amazonDocTable())
	}
}

// TestAmazonTable: every key of amazonTable does, in every form, what the
// table says: a spec table name sets its setting, TCPKeepAliveMinutes the
// idle time in minutes, a login time limit goes on as connect_timeout, a
// read time limit is refused unless 0. None is dropped in silence.
func TestAmazonTable(t *testing.T) {
	forms := map[string]func(kv string) string{
		"url":  func(kv string) string { return "postgres://h/dev?" + kv },
		"kv":   func(kv string) string { return "host=h dbname=dev " + kv },
		"odbc": func(kv string) string { return "Server=h;Database=dev;" + kv },
		"jdbc": func(kv string) string { return "jdbc:redshift://h:5439/dev?" + kv },
	}
	seen := map[string]bool{}
	for _, a := range amazonTable {
		k := asciiLower(a.Key)
		assert.False(t, seen[k], "%s twice", a.Key)
		seen[k] = true
		assert.NotEmpty(t, a.Source, a.Key)
		assert.True(t, a.Driver != "" && a.Meaning != "" && a.Unit != "", a.Key)
		s, own := owned(a.Key)
		assert.Equal(t, a.act == actOwned, own, "%s is in the spec table iff the table says so", a.Key)
		if own {
			assert.Equal(t, a.setting, s, a.Key)
		}
		for name, form := range forms {
			for _, key := range []string{a.Key, strings.ToUpper(a.Key)} {
				value := "3"
				if a.setting == KeepAlive && a.act == actOwned {
					value = "1"
				}
				d, err := Parse(form(key + "=" + value))
				if a.act == actRefuseNon0 {
					require.ErrorIs(t, err, ErrNotSupported, "%s %s", name, key)
					d, err = Parse(form(key + "=0"))
					require.NoError(t, err, "%s %s=0", name, key)
					assert.Equal(t, []string{key}, ignoredNames(d.Config.Ignored), "%s %s=0", name, key)
					continue
				}
				require.NoError(t, err, "%s %s", name, key)
				switch a.act {
				case actOwned:
					assert.Equal(t, key, d.Config.Keys[a.setting], "%s %s", name, key)
				case actMinutes:
					assert.Equal(t, "3m0s", d.Config.Idle.String(), "%s %s", name, key)
				case actConnect:
					assert.Contains(t, d.Rest, "connect_timeout=3", "%s %s", name, key)
				}
				assert.Empty(t, d.Config.Ignored, "%s %s", name, key)
			}
		}
	}
}

// TestIgnoredKeysSayWhose: a dropped key says whose it is and what it
// does; IAM keys without iam=true point at it.
func TestIgnoredKeysSayWhose(t *testing.T) {
	for dsn, want := range map[string][]IgnoredKey{
		"Driver={Amazon Redshift};Server=h;Trace=1": {
			{"Driver", "ODBC", "read by the ODBC driver manager or Amazon's ODBC driver only"},
			{"Trace", "ODBC", "a setting of Amazon's ODBC driver (statements, logging, TLS, proxy); not PostgreSQL's"}},
		"jdbc:redshift://h/dev?readOnly=true&socketTimeout=0": {
			{"readOnly", "JDBC", "a setting of Amazon's JDBC driver (statements, fetching, logging, Java classes); not PostgreSQL's"},
			{"socketTimeout", "JDBC", "no time limit (0), as redshift-ka has none"}},
		"postgres://h/dev?timeout=0": {{"timeout", "Python", "no time limit (0), as redshift-ka has none"}},
	} {
		d, err := Parse(dsn)
		require.NoError(t, err, dsn)
		assert.Equal(t, want, d.Config.Ignored, dsn)
	}
	for _, dsn := range []string{
		"postgres://h/dev?db_user=etl&cluster_identifier=c&region=us-east-1",
		"host=h db_user=etl cluster_identifier=c region=us-east-1",
		"Server=h;db_user=etl;cluster_identifier=c;region=us-east-1",
		"jdbc:redshift://h/dev?db_user=etl&cluster_identifier=c&region=us-east-1",
	} {
		d, err := Parse(dsn)
		require.NoError(t, err, dsn)
		require.Len(t, d.Config.Ignored, 3, dsn)
		for _, k := range d.Config.Ignored {
			assert.Contains(t, k.Does, "add iam=true", dsn)
			assert.NotContains(t, k.Driver, "ODBC keys", dsn)
		}
		for _, u := range d.Keys {
			if u.Key == "region" {
				assert.Equal(t, Dropped, u.Went, dsn)
			}
		}
	}
}

// TestKeysSayWhereEachWent: DSN.Keys lists every key and where it went.
func TestKeysSayWhereEachWent(t *testing.T) {
	d, err := Parse("host=h user=me KeepAlivesIdle=60 search_path=etl Trace=1 LoginTimeout=9")
	require.NoError(t, err)
	assert.Equal(t, []KeyUse{
		{Key: "host", Went: Backend, To: "host"},
		{Key: "user", Went: Backend, To: "user"},
		{Key: "KeepAlivesIdle", Went: Ours, To: "KeepAlivesIdle"},
		{Key: "search_path", Went: Server, To: "search_path"},
		{Key: "Trace", Went: Dropped, To: "ODBC: a setting of Amazon's ODBC driver (statements, logging, TLS, proxy); not PostgreSQL's"},
		{Key: "LoginTimeout", Went: Ours, To: "connect_timeout"},
	}, d.Keys)
}

// TestNearestKey: what is close to a key of ours, and what is not.
func TestNearestKey(t *testing.T) {
	for key, want := range map[string]string{
		"KeepAliveIdel": "KeepAlivesIdle", "keepalives_idel": "KeepAlivesIdle", "KEEPALIVESCOUNTS": "KeepAlivesCount",
		"tcp_user_timout": "tcp_user_timeout", "TCPKeepAliveMinute": "TCPKeepAliveMinutes", "Workgrup": "Workgroup",
		"search_path": "", "statement_timeout": "", "application_name": "", "tcp_keepalives_idle": "",
		"lock_timeout": "", "TimeZone": "", "connect_timeout": "", "sslmode": "", "work_mem": "", "user": "", "ab": "",
	} {
		assert.Equal(t, want, nearestKey(key), key)
		_, err := Parse("host=h " + key + "=1")
		assert.Equal(t, want != "", errors.Is(err, ErrUnknownKey), key)
	}
}

// TestLoginTimeoutSameAsConnectTimeout: a connect_timeout written
// otherwise ("05", " 5") with the same number as LoginTimeout is no
// conflict.
func TestLoginTimeoutSameAsConnectTimeout(t *testing.T) {
	for _, dsn := range []string{"host=h connect_timeout=05 LoginTimeout=5", "host=h connect_timeout=' 5' LoginTimeout=5"} {
		_, err := Parse(dsn)
		assert.NoError(t, err, dsn)
	}
}
