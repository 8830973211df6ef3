package driver_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

const password = "Hunter2X"

func TestRegistered(t *testing.T) {
	assert.True(t, slices.Contains(sql.Drivers(), driver.Name))
	assert.True(t, slices.Contains(sql.Drivers(), rkpq.Name))
}

func TestParseConfigKeepsPgxKeys(t *testing.T) {
	cfg, err := driver.ParseConfig("postgres://u:p@h:5439/db?default_query_exec_mode=simple_protocol&application_name=etl&KeepAlivesIdle=9")
	require.NoError(t, err)
	assert.Equal(t, pgx.QueryExecModeSimpleProtocol, cfg.DefaultQueryExecMode)
	assert.Equal(t, "etl", cfg.RuntimeParams["application_name"])
	assert.NotContains(t, cfg.RuntimeParams, "KeepAlivesIdle")
	assert.NotNil(t, cfg.AfterConnect)

	pcfg, err := driver.ParsePoolConfig("host=h pool_max_conns=7 keepalives_count=3 user=u")
	require.NoError(t, err)
	assert.EqualValues(t, 7, pcfg.MaxConns)
	assert.Empty(t, pcfg.ConnConfig.RuntimeParams)

	_, err = driver.ParsePoolConfig("host=h pool_max_conns=x password=" + password)
	require.ErrorContains(t, err, "cannot parse pool_max_conns", "pgxpool's error for its own key")
	assert.NotContains(t, err.Error(), password)
	_, err = driver.ParseConfig("host=h keepalives_count=x password=" + password)
	var pe *dsnparse.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "keepalives_count", pe.Key)
	assert.Equal(t, "x", pe.Value)
	assert.EqualError(t, err, `redshift-ka: keepalives_count: want a whole number of probes 0..127, got "x"`)
}

// TestBadDSNFailsAtOpen: every kind of bad DSN is refused by sql.Open,
// before any dial, and no message shows the password.
func TestBadDSNFailsAtOpen(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		is        error  // the sentinel of a *dsnparse.ParseError; nil: the backend's error
		key       string // the key the error names: ParseError.Key, or in the backend's message
		want      string // in the message
	}{
		{"url/bad idle", "postgres://u:" + password + "@127.0.0.1:1/db?KeepAlivesIdle=abc", dsnparse.ErrSyntax, "KeepAlivesIdle", `got "abc"`},
		{"url/bad port", "postgres://u:" + password + "@127.0.0.1:99999/db", nil, "port", "99999"},
		{"url/bad sslmode", "postgres://u:" + password + "@127.0.0.1:1/db?sslmode=maybe", nil, "sslmode", "sslmode"},
		{"kv/bad count", "host=127.0.0.1 port=1 password=" + password + " keepalives_count=1000", dsnparse.ErrRange, "keepalives_count", `0..127, got "1000"`},
		{"kv/bad connect_timeout", "host=127.0.0.1 port=1 password=" + password + " connect_timeout=x", nil, "connect_timeout", `"x"`},
		{"odbc/bad interval", "Server=127.0.0.1;Port=1;UID=u;PWD=" + password + ";KeepAlivesInterval=-3", dsnparse.ErrSyntax, "KeepAlivesInterval", `got "-3"`},
		{"odbc/bad port, named as written", "Server=127.0.0.1;Port=abc;UID=u;PWD={" + password + "}", dsnparse.ErrSyntax, "Port", `got "abc"`},
		{"odbc/bad sslmode", "Server=127.0.0.1;PWD=" + password + ";SSLMode=sometimes", nil, "sslmode", "sometimes"},
		{"odbc/escaped quote in password", "Server=h;PORT=abc;PWD={" + password[:3] + "'" + password[3:] + " x}", dsnparse.ErrSyntax, "PORT", `got "abc"`},
		{"kv/escaped quote in password", `host=h port=abc password='Hun\'ter2X'`, nil, "port", "abc"},
		{"url/bad port, password after ?", "postgres://u@h:abc/db?password=" + password, dsnparse.ErrMalformed, "", "invalid port (withheld)"},
	} {
		for _, name := range []string{driver.Name, rkpq.Name} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				db, err := sql.Open(name, tc.dsn)
				require.Error(t, err)
				assert.Nil(t, db)
				for _, part := range []string{password, "Hun", "ter2X"} {
					assert.NotContains(t, err.Error(), part)
				}
				assert.Contains(t, err.Error(), "redshift-ka: ")
				assert.Contains(t, err.Error(), tc.want)
				var pe *dsnparse.ParseError
				if tc.is != nil {
					require.ErrorAs(t, err, &pe)
					assert.ErrorIs(t, err, tc.is)
					assert.Equal(t, tc.key, pe.Key)
					if tc.key != "" {
						assert.Contains(t, err.Error(), "redshift-ka: "+tc.key+": ")
					}
				} else {
					assert.False(t, errors.As(err, &pe), "the backend's error, not ours: %v", err)
					assert.Contains(t, err.Error(), tc.key, "the backend's message names the key")
				}
			})
		}
	}
}

func TestOpenReportsDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	dsn := "host=127.0.0.1 port=" + strconv.Itoa(addr.Port) + " user=u password=" + password + " sslmode=disable KeepAlivesIdle=5"
	_, err = (&driver.Driver{}).Open(dsn)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.NotContains(t, err.Error(), password)
}

// TestWarningsLogged: a DSN setting that looks like a mistake is logged at
// warning level when the connector is made, by either backend.
func TestWarningsLogged(t *testing.T) {
	for name, open := range map[string]func(string, ...driver.Option) error{
		"pgx": func(dsn string, o ...driver.Option) error { _, err := driver.NewConnector(dsn, o...); return err },
		"pq":  func(dsn string, o ...driver.Option) error { _, err := rkpq.NewConnector(dsn, o...); return err },
	} {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		require.NoError(t, open("postgres://u:"+password+"@127.0.0.1/db?tcp_user_timeout=300", driver.WithLogger(logger)), name)
		assert.Contains(t, buf.String(), "level=WARN", name)
		assert.Contains(t, buf.String(), "tcp_user_timeout=300 is 300 ms, under a second", name)
		assert.NotContains(t, buf.String(), password, name)
	}
}

func TestConnectorKeepsTheParsedDSN(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	c, err := driver.NewConnector("Driver={Amazon Redshift};Server=127.0.0.1;Port=" + port + ";UID=u;PWD=p;KeepAlivesIdle=200")
	require.NoError(t, err)
	d := c.DSN()
	assert.Equal(t, dsnparse.FormODBC, d.Form)
	assert.Equal(t, []dsnparse.IgnoredKey{{Key: "Driver", Driver: "ODBC", Does: "read by the ODBC driver manager or Amazon's ODBC driver only"}}, d.Config.Ignored)
	assert.Equal(t, "KeepAlivesIdle", d.Config.Keys[dsnparse.Idle])
	assert.IsType(t, &driver.Driver{}, c.Driver())
	db := sql.OpenDB(c)
	defer db.Close()
	_, err = db.Conn(context.Background())
	// The connector dialed the parsed DSN's server (nothing listens there).
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.ErrorContains(t, err, "127.0.0.1:"+port)
}

// TestBadDSNDialsNothing: a DSN refused at sql.Open never reaches the
// network: the listener it names sees no connection.
func TestBadDSNDialsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, name := range []string{driver.Name, rkpq.Name} {
		for _, tc := range []struct{ dsn, key string }{
			{"postgres://u:" + password + "@127.0.0.1:" + port + "/db?KeepAlivesIdle=x", "KeepAlivesIdle"},
			{"host=127.0.0.1 port=" + port + " keepalives_count=500", "keepalives_count"},
			{"Server=127.0.0.1;Port=" + port + ";KeepAliveInterval=-1", "KeepAliveInterval"},
		} {
			db, err := sql.Open(name, tc.dsn)
			var pe *dsnparse.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.key, pe.Key)
			assert.Nil(t, db)
		}
	}
	require.NoError(t, ln.(*net.TCPListener).SetDeadline(time.Now().Add(200*time.Millisecond)))
	c, err := ln.Accept()
	if err == nil {
		c.Close()
		t.Fatal("a refused DSN was dialed")
	}
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

// TestDocNamesEveryForm: the package overview's "Use" names every DSN
// form dsnparse reads.
func TestDocNamesEveryForm(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	use, _, _ := strings.Cut(string(doc), "# Errors")
	for f := dsnparse.FormURL; f <= dsnparse.FormJDBC; f++ {
		assert.Contains(t, use, f.String(), "driver/doc.go does not name the %s form", f)
	}
}
