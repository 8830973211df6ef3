package dsnparse

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIAMTLS: an IAM login without sslmode gets verify-ca in what is
// handed on; one with a mode that may not encrypt (disable, allow,
// prefer, JDBC's ssl=false) or one pgx does not know is refused at parse
// time, naming the key as written; require, verify-ca and verify-full pass
// as written. A DSN without IAM keeps its sslmode, whatever it is.
func TestIAMTLS(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, rest string
		key             string // the key the error names; "" for no error
	}{
		{"url none", "postgres://h/dev?iam=true&cluster_identifier=c&db_user=u", "postgres://h/dev?sslmode=verify-ca", ""},
		{"url none, other keys", "postgres://h/dev?application_name=x&iam=true&cluster_identifier=c&db_user=u", "postgres://h/dev?sslmode=verify-ca&application_name=x", ""},
		{"url disable", "postgres://h/dev?sslmode=disable&iam=true&cluster_identifier=c&db_user=u", "", "sslmode"},
		{"url prefer", "postgres://h/dev?iam=true&cluster_identifier=c&db_user=u&sslmode=prefer", "", "sslmode"},
		{"url verify-full", "postgres://h/dev?iam=true&cluster_identifier=c&db_user=u&sslmode=verify-full", "postgres://h/dev?sslmode=verify-full", ""},
		{"kv none", "host=h iam=true cluster_identifier=c db_user=u", "sslmode=verify-ca host=h", ""},
		{"kv none, a trailing empty value", "iam=true cluster_identifier=c db_user=u host=h 0=", "sslmode=verify-ca host=h 0=", ""},
		{"kv no host, a trailing empty value", "iam=true cluster_identifier=c db_user=u region=r 0=", "sslmode=verify-ca host=c.invalid 0=", ""},
		{"url none, a '#' in the query", "postgres://h/dev?a=b#c&iam=true&cluster_identifier=c&db_user=u", "postgres://h/dev?sslmode=verify-ca&a=b#c", ""},
		{"kv allow", "host=h sslmode=allow iam=true cluster_identifier=c db_user=u", "", "sslmode"},
		{"kv empty", "host=h sslmode='' iam=true cluster_identifier=c db_user=u", "", "sslmode"},
		{"kv require", "host=h sslmode=require iam=true cluster_identifier=c db_user=u", "host=h sslmode=require", ""},
		{"odbc none", "Server=h;IAM=1;ClusterID=c;DbUser=u", "sslmode=verify-ca host=h port=5439", ""},
		{"odbc disable", "Server=h;SSLMode=disable;IAM=1;ClusterID=c;DbUser=u", "", "SSLMode"},
		{"odbc prefer", "Server=h;IAM=1;ClusterID=c;DbUser=u;sslmode=prefer", "", "sslmode"},
		{"odbc unknown", "Server=h;IAM=1;ClusterID=c;DbUser=u;SSLMode=Verify-CA", "", "SSLMode"},
		{"odbc verify-ca", "Server=h;IAM=1;ClusterID=c;DbUser=u;SSLMode=verify-ca", "host=h sslmode=verify-ca port=5439", ""},
		{"jdbc none", "jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u", "host=h port=5439 dbname=dev sslmode=verify-ca", ""},
		{"jdbc ssl=false", "jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u&ssl=false", "", "ssl"},
		{"jdbc AuthMech", "jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u&AuthMech=DISABLE", "", "AuthMech"},
		{"jdbc sslmode prefer", "jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u&sslmode=prefer", "", "sslmode"},
		{"jdbc sslmode require", "jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u&sslmode=require", "host=h port=5439 dbname=dev sslmode=require", ""},
		// pgx reads the last sslmode, lib/pq (in a URL) the first: every
		// one must encrypt.
		{"kv require then disable", "host=h sslmode=require iam=true cluster_identifier=c db_user=u sslmode=disable", "", "sslmode"},
		{"kv disable then require", "host=h sslmode=disable sslmode=require iam=true cluster_identifier=c db_user=u", "", "sslmode"},
		{"url require then disable", "postgres://h/dev?sslmode=require&iam=true&cluster_identifier=c&db_user=u&sslmode=disable", "", "sslmode"},
		{"kv require then verify-full", "host=h sslmode=require sslmode=verify-full iam=true cluster_identifier=c db_user=u", "host=h sslmode=require sslmode=verify-full", ""},
		{"no IAM: url disable", "postgres://h/dev?sslmode=disable", "postgres://h/dev?sslmode=disable", ""},
		{"no IAM: kv none", "host=h", "host=h", ""},
		{"no IAM: odbc prefer", "Server=h;SSLMode=prefer;IAM=0", "host=h sslmode=prefer port=5439", ""},
		{"no IAM: jdbc ssl=false", "jdbc:redshift://h:5439/dev?ssl=false", "host=h port=5439 dbname=dev sslmode=disable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.dsn)
			if tc.key == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.rest, got.Rest)
				return
			}
			require.ErrorIs(t, err, ErrTLSRequired)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, tc.key, pe.Key)
			assert.Contains(t, err.Error(), "redshift-ka: "+tc.key+": IAM login requires TLS, as Amazon's drivers do: want sslmode require, verify-ca or verify-full (absent: verify-ca), got ")
		})
	}
}

// TestIAMTLSDataSource: SSLMode=disable in an odbc.ini data source with
// IAM = 1 is refused, naming the file and the data source.
func TestIAMTLSDataSource(t *testing.T) {
	env, _, _ := iniFiles(t, "[rs]\nServer = h\nSSLMode = disable\nIAM = 1\nClusterID = c\nDbUser = u\n", "", "")
	_, err := Parse("DSN=rs")
	require.ErrorIs(t, err, ErrTLSRequired)
	assert.EqualError(t, err, "redshift-ka: "+env+` [rs] SSLMode: IAM login requires TLS, as Amazon's drivers do: want sslmode require, verify-ca or verify-full (absent: verify-ca), got "disable"`)
	got, err := Parse("DSN=rs;SSLMode=verify-full")
	require.NoError(t, err, "the connection string overrides the file's SSLMode")
	assert.Equal(t, "host=h sslmode=verify-full port=5439", got.Rest)
}

// TestJDBCSSLIgnored: Config.Ignored lists ssl only where the URL has it
// and sslmode (or AuthMech) overrides it; the default the JDBC driver
// fills in without ssl is never listed.
func TestJDBCSSLIgnored(t *testing.T) {
	for dsn, ignored := range map[string][]string{
		"jdbc:redshift://h:5439/dev?sslmode=require":                               nil,
		"jdbc:redshift://h:5439/dev?AuthMech=REQUIRE":                              nil,
		"jdbc:redshift:iam://h:5439/dev?ClusterID=c&DbUser=u&AuthMech=verify-full": nil,
		"jdbc:redshift://h:5439/dev?SSL=true&sslmode=require":                      {"SSL"},
		"jdbc:redshift://h:5439/dev":                                               nil,
	} {
		got, err := Parse(dsn)
		require.NoError(t, err, dsn)
		assert.Equal(t, ignored, ignoredNames(got.Config.Ignored), dsn)
	}
}

// TestIAMEmptyHost: an empty host key is not a DSN without a host: pgx
// would read it after the host put in for the lookup and connect to a
// local socket, so it is refused, naming the key.
func TestIAMEmptyHost(t *testing.T) {
	for _, dsn := range []string{
		"user=u iam=true cluster_identifier=c region=r host=",
		"host=h.example user=u iam=true cluster_identifier=c region=r host=''",
		"postgres:///dev?iam=true&cluster_identifier=c&region=r&db_user=u&host=",
	} {
		_, err := Parse(dsn)
		require.ErrorIs(t, err, ErrSyntax, dsn)
		var pe *ParseError
		require.True(t, errors.As(err, &pe))
		assert.Equal(t, "host", pe.Key, dsn)
	}
	got, err := Parse("host= host=h.example user=u iam=true cluster_identifier=c region=r")
	require.NoError(t, err, "the last host counts, as for pgx")
	assert.False(t, got.IAM.LookupEndpoint)
}
