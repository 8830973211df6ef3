package dsnparse

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// iniFiles points the three odbc.ini places at files of the test's own;
// an empty content leaves that file absent.
func iniFiles(t *testing.T, env, home, system string) (envPath, homePath, systemPath string) {
	t.Helper()
	dir := t.TempDir()
	write := func(path, content string) string {
		if content != "" {
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		}
		return path
	}
	envPath = write(filepath.Join(dir, "env.ini"), env)
	t.Setenv("ODBCINI", "")
	if env != "" {
		t.Setenv("ODBCINI", envPath)
	}
	t.Setenv("ODBCSYSINI", "")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "home"), 0o700))
	homePath = write(filepath.Join(dir, "home", ".odbc.ini"), home)
	oldHome, oldSys := userHomeDir, systemODBCIni
	userHomeDir = func() (string, error) { return filepath.Join(dir, "home"), nil }
	systemODBCIni = write(filepath.Join(dir, "odbc.ini"), system)
	systemPath = systemODBCIni
	t.Cleanup(func() { userHomeDir, systemODBCIni = oldHome, oldSys })
	return envPath, homePath, systemPath
}

const amazonDataSource = `
[ODBC Data Sources]
Redshift = Amazon Redshift (x64)

[Redshift]
Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so
Description = the warehouse
Server = warehouse.example.com
Port = 5439
Database = dev
UID = etl
PWD = Hun;ter#2X
SSLMode = require
KeepAlivesIdle = 200
KeepAliveCount = 5
`

func TestDataSource(t *testing.T) {
	envPath, _, _ := iniFiles(t, amazonDataSource, "", "")
	got, err := Parse("DSN=Redshift;UID=override;KeepAlivesIdle=30")
	require.NoError(t, err)
	assert.Equal(t, FormODBC, got.Form)
	assert.Equal(t, "host=warehouse.example.com port=5439 dbname=dev password='Hun;ter#2X' sslmode=require user=override", got.Rest)
	assert.Equal(t, 30*time.Second, got.Config.Idle, "the connection string overrides the file")
	assert.Equal(t, 5, got.Config.Count)
	assert.Equal(t, KeyNames{Idle: "KeepAlivesIdle", Count: "KeepAliveCount"}, got.Config.Keys)
	assert.Equal(t, []string{"Driver", "Description"}, ignoredNames(got.Config.Ignored))
	assert.Equal(t, "Redshift in "+envPath, got.Config.DataSource)
}

// TestDataSourceValuesAsWritten: the INI reader changes nothing: no line
// continuation, no inline comments, quotes and backquotes kept.
func TestDataSourceValuesAsWritten(t *testing.T) {
	iniFiles(t, "[rs]\nServer = h:1\nPWD = abc\\\nKeepAlivesIdle = 200\nUID = \"quoted\" ;not a comment\n"+
		"sslkey = `back`\nsslcert = \"\"\"three\n", "", "")
	got, err := Parse("DSN=rs")
	require.NoError(t, err)
	assert.Equal(t, `host=h:1 password='abc\\' user='"quoted" ;not a comment' sslkey=`+"`back`"+` sslcert="""three port=5439`, got.Rest)
	assert.Equal(t, 200*time.Second, got.Config.Idle)
}

// TestDataSourceDefault: a [Default] data source, as unixODBC has.
func TestDataSourceDefault(t *testing.T) {
	iniFiles(t, "[Default]\nServer = h\n", "", "")
	got, err := Parse("DSN=Default")
	require.NoError(t, err)
	assert.Equal(t, "host=h port=5439", got.Rest)
}

func TestDataSourceOverrideAcrossAliases(t *testing.T) {
	iniFiles(t, "[rs]\nServer = a\nKeepAliveIdle = 9\n", "", "")
	got, err := Parse("DSN={rs};Host=b;KeepAlivesIdle=4")
	require.NoError(t, err)
	assert.Equal(t, "host=b port=5439", got.Rest)
	assert.Equal(t, 4*time.Second, got.Config.Idle)
}

func TestDataSourceSearchOrder(t *testing.T) {
	for _, tc := range []struct {
		name              string
		env, home, system string
		wantHost          string
		wantFile          int // 0 env, 1 home, 2 system
	}{
		{"env first", "[rs]\nServer=env\n", "[rs]\nServer=home\n", "[rs]\nServer=sys\n", "env", 0},
		// $ODBCINI stands for ~/.odbc.ini, as in unixODBC.
		{"env instead of home", "[other]\nServer=env\n", "[rs]\nServer=home\n", "[rs]\nServer=sys\n", "sys", 2},
		{"home before system", "", "[rs]\nServer=home\n", "[rs]\nServer=sys\n", "home", 1},
		{"section missing in env, found in system", "[other]\nServer=env\n", "", "[RS]\nServer=sys\n", "sys", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, h, s := iniFiles(t, tc.env, tc.home, tc.system)
			got, err := Parse("DSN=rs")
			require.NoError(t, err)
			assert.Equal(t, "host="+tc.wantHost+" port=5439", got.Rest)
			assert.Contains(t, got.Config.DataSource, []string{e, h, s}[tc.wantFile])
		})
	}
}

// TestDataSourceODBCSYSINI: $ODBCSYSINI names the directory of the
// system's odbc.ini, in place of /etc, as in unixODBC.
func TestDataSourceODBCSYSINI(t *testing.T) {
	_, _, sys := iniFiles(t, "", "", "[rs]\nServer=etc\n")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "odbc.ini"), []byte("[rs]\nServer=sysini\n"), 0o600))
	t.Setenv("ODBCSYSINI", dir)
	got, err := Parse("DSN=rs")
	require.NoError(t, err)
	assert.Equal(t, "host=sysini port=5439", got.Rest)
	assert.Equal(t, "rs in "+filepath.Join(dir, "odbc.ini"), got.Config.DataSource)
	t.Setenv("ODBCSYSINI", t.TempDir()) // no odbc.ini there
	_, err = Parse("DSN=rs")
	require.ErrorIs(t, err, ErrDataSource)
	assert.NotContains(t, err.Error(), sys, "not /etc/odbc.ini as well")
}

// TestDataSourceMisspeltKey: a key of a data source close to one of ours
// is refused, named with its file and section; server parameters pass.
func TestDataSourceMisspeltKey(t *testing.T) {
	e, _, _ := iniFiles(t, "[rs]\nServer=h\nKeepAliveIdel=200\n", "", "")
	_, err := Parse("DSN=rs")
	require.ErrorIs(t, err, ErrUnknownKey)
	assert.EqualError(t, err, "redshift-ka: "+e+" [rs] KeepAliveIdel: unknown key; did you mean KeepAlivesIdle?")
	iniFiles(t, "[rs]\nServer=h\nsearch_path=etl\nstatement_timeout=0\nKeepAlivesIdle=200\n", "", "")
	got, err := Parse("DSN=rs")
	require.NoError(t, err)
	assert.Equal(t, "host=h search_path=etl statement_timeout=0 port=5439", got.Rest)
	from := got.Keys[len(got.Keys)-1].From
	assert.Contains(t, from, "[rs]", "a key from odbc.ini says so")
}

// TestDataSourceOverrideAmazonKeys: an Amazon key of the connection
// string overrides the data source's key for the same setting.
func TestDataSourceOverrideAmazonKeys(t *testing.T) {
	iniFiles(t, "[rs]\nServer=h\nKeepAlivesIdle=200\nLT=5\n", "", "")
	got, err := Parse("DSN=rs;TCPKeepAliveMinutes=3;LoginTimeout=9")
	require.NoError(t, err)
	assert.Equal(t, 180*time.Second, got.Config.Idle)
	assert.Equal(t, "connect_timeout=9 host=h port=5439", got.Rest)
}

func TestDataSourceErrors(t *testing.T) {
	t.Run("unknown", func(t *testing.T) {
		e, _, s := iniFiles(t, "[other]\nPWD=Hunter2X\n", "", "")
		_, err := Parse("DSN=rs;PWD=Hunter2X")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, `redshift-ka: DSN: data source "rs" not found; searched `+e+", "+s+" (absent)")
		_, h, s := iniFiles(t, "", "", "")
		_, err = Parse("DSN=rs;PWD=Hunter2X")
		assert.EqualError(t, err, `redshift-ka: DSN: data source "rs" not found; searched `+h+" (absent), "+s+" (absent)")
	})
	t.Run("a directory", func(t *testing.T) {
		iniFiles(t, "", "", "")
		dir := t.TempDir()
		t.Setenv("ODBCINI", dir)
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: DSN: cannot read "+dir+": not a regular file (a directory)")
	})
	t.Run("larger than 1 MiB", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=h\n;"+strings.Repeat("x", maxODBCIni), "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: DSN: cannot read "+e+": larger than 1 MiB, far above any real odbc.ini")
	})
	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		head := "[rs]\nServer=h\n;"
		iniFiles(t, head+strings.Repeat("x", maxODBCIni-len(head)), "", "")
		got, err := Parse("DSN=rs")
		require.NoError(t, err)
		assert.Equal(t, "host=h port=5439", got.Rest)
	})
	t.Run("unterminated section header", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs\nPWD=Hunter2X\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: "+e+` line 1 is a section header without its "]"`)
	})
	t.Run("line without =", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=h\nHunter2X\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, "redshift-ka: "+e+` [rs] line 3 is not "key = value"`)
	})
	t.Run("bad value names file, section and key", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nPWD=Hunter2X\nKeepAlivesInterval = 1.5\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrSyntax)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] KeepAlivesInterval: want whole seconds 0..32767, got "1.5"`)
	})
	t.Run("bad key names file, section and line", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[other]\nServer=x\n[rs]\nServer=h\nHun ter2X = y\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] line 5 has an invalid key: want letters, digits, '_', '.' or '-'`)
	})
	t.Run("conflict inside the file", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=a\nHost=b\nPWD=Hunter2X\nPassword=other\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrConflict)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] Host: conflicts with Server: both set host`)
	})
	t.Run("a key given twice with other values", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=a\nserver=b\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrConflict)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] server: set twice, to different values`)
	})
	t.Run("an owned key given twice with other values", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nKeepAlivesIdle=5\nKeepAlivesIdle=6\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrConflict)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] KeepAlivesIdle: set twice, to "5" and "6"`)
	})
	t.Run("an unknown key given twice with other values", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=h\napplication_name=a\nApplication_Name=b\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrConflict)
		assert.EqualError(t, err, `redshift-ka: `+e+` [rs] Application_Name: set twice, to different values`)
	})
	t.Run("a key given twice with one value", func(t *testing.T) {
		iniFiles(t, "[rs]\nServer=a\nServer = a\n", "", "")
		got, err := Parse("DSN=rs")
		require.NoError(t, err)
		assert.Equal(t, "host=a port=5439", got.Rest)
	})
	t.Run("a section given twice", func(t *testing.T) {
		e, _, _ := iniFiles(t, "[rs]\nServer=a\n[other]\n[RS]\nPort=1\n", "", "")
		_, err := Parse("DSN=rs")
		require.ErrorIs(t, err, ErrDataSource)
		assert.EqualError(t, err, `redshift-ka: `+e+` [RS] the data source is given twice (again on line 4)`)
	})
	t.Run("another section given twice does not matter", func(t *testing.T) {
		iniFiles(t, "[other]\n[rs]\nServer=a\n[other]\n", "", "")
		_, err := Parse("DSN=rs")
		require.NoError(t, err)
	})
	t.Run("keys before the first section are no data source", func(t *testing.T) {
		iniFiles(t, "Server = stray\n[rs]\nServer=h\n", "", "")
		_, err := Parse("DSN=default")
		require.ErrorIs(t, err, ErrDataSource)
	})
	t.Run("empty name", func(t *testing.T) {
		iniFiles(t, "", "", "")
		_, err := Parse("DSN=;Server=h")
		require.ErrorIs(t, err, ErrDataSource)
	})
	t.Run("two data sources", func(t *testing.T) {
		iniFiles(t, "[a]\nServer=h\n[b]\nServer=h\n", "", "")
		_, err := Parse("DSN=a;DSN=b")
		require.ErrorIs(t, err, ErrSyntax)
	})
}

// TestDataSourceIAM: an odbc.ini data source with IAM=1, as Amazon's ODBC
// driver reads one, keys of the connection string overriding the file's
// under any of their names, and errors that name the file.
func TestDataSourceIAM(t *testing.T) {
	iniFiles(t, "[rs]\nDriver = /opt/amazon/redshiftodbcx64/librsodbc64.so\n"+
		"Server = etl-prod.c9abc.us-east-1.redshift.amazonaws.com\nDatabase = dev\nIAM = 1\nDbUser = etl\n"+
		"DbGroups = loaders, readers\nAutoCreate = true\nAccessKeyID = AKIAEXAMPLE\nSecretAccessKey = s k;e#y\n"+
		"ClusterID =\nIAMDuration = 3600\nKeepAlivesIdle = 200\n", "", "")
	got, err := Parse("DSN=rs;db_user=loader;Region=eu-west-1")
	require.NoError(t, err)
	assert.Equal(t, &IAM{ClusterID: "etl-prod", Region: "eu-west-1", DbUser: "loader", DbGroups: []string{"loaders", "readers"},
		AutoCreate: true, AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s k;e#y", DurationSeconds: 3600, DbName: "dev"}, got.IAM)
	assert.Equal(t, "sslmode=verify-ca host=etl-prod.c9abc.us-east-1.redshift.amazonaws.com dbname=dev port=5439", got.Rest)
	assert.Equal(t, []string{"Driver"}, ignoredNames(got.Config.Ignored))
	assert.Equal(t, 200*time.Second, got.Config.Idle)
	assert.NotContains(t, fmt.Sprintf("%+v", got), "s k;e#y")

	got, err = Parse("DSN=rs;iam=off")
	require.NoError(t, err)
	assert.Nil(t, got.IAM, "the connection string turns IAM off")
	assert.Equal(t, []string{"Driver", "DbUser", "DbGroups", "AutoCreate", "AccessKeyID", "SecretAccessKey", "ClusterID", "IAMDuration", "iam"}, ignoredNames(got.Config.Ignored))

	env, _, _ := iniFiles(t, "[rs]\nServer = 10.0.0.1\nIAM = 1\nPWD = Hunter2X\n", "", "")
	_, err = Parse("DSN=rs")
	require.ErrorIs(t, err, ErrMissing)
	assert.True(t, strings.HasPrefix(err.Error(), "redshift-ka: "+env+" [rs] IAM: IAM login needs ClusterID"), err.Error())

	env, _, _ = iniFiles(t, "[rs]\nServer = h\nIAM = 1\nClusterID = c\nIAMDuration = 60\nplugin_name = Shibboleth\n", "", "")
	_, err = Parse("DSN=rs")
	require.ErrorIs(t, err, ErrRange)
	assert.EqualError(t, err, "redshift-ka: "+env+` [rs] IAMDuration: want whole seconds 900..3600, got "60"`)
	_, err = Parse("DSN=rs;IAMDuration=900")
	require.ErrorIs(t, err, ErrNotSupported)
	assert.True(t, strings.HasPrefix(err.Error(), "redshift-ka: "+env+" [rs] plugin_name: identity-provider plugin Shibboleth is not supported"), err.Error())
}
