//go:build linux

package integration

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/settings"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// The server's password (see [harness.Postgres.Password]) holds a space, both
// quotes, '#', ';', '&', '?', '%', '=', '{' and '}', so every DSN form has
// to quote, escape or brace it. These tests connect with it through both
// backends in every form, so the real server accepts it as each form writes
// it, and look for it (raw, in each written form, and in pieces) in every
// error, log line and report they can provoke.

// TestHostilePasswordConnects: the server accepts the password as each DSN
// form writes it, through both backends; and refuses the same DSN with the
// password changed by one character, so the form really carried it.
func TestHostilePasswordConnects(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	wrong := &harness.Postgres{Host: pg.Host, Port: pg.Port, User: pg.User, Database: pg.Database,
		Password: strings.Replace(pg.Password, "{}", "{{}", 1)}
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			_, conn := open(t, f.backend, f.dsn(pg, nil))
			var user string
			require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT current_user").Scan(&user))
			assert.Equal(t, pg.User, user)

			db, err := sql.Open(f.backend, f.dsn(wrong, nil))
			require.NoError(t, err)
			defer db.Close()
			err = db.PingContext(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "password authentication failed", "the server refused the password, not the DSN")
			harness.NoLeak(t, pg, "the refusal", err.Error())
			harness.NoLeak(t, wrong, "the refusal", err.Error())
		})
	}
}

// TestNoSecretInErrors: errors from bad input at sql.Open, from a dial that
// fails, from a server that refuses the session and from a session the
// server ends, through both backends and every form, show nothing of the
// password.
func TestNoSecretInErrors(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	closed := &harness.Postgres{Host: pg.Host, Port: closedPort(t), User: pg.User, Password: pg.Password, Database: pg.Database}
	noDB := &harness.Postgres{Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password, Database: "no_such_db"}
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			// Refused at sql.Open: by redshift-ka, naming the key...
			for _, tc := range []struct {
				key, value, want string
			}{
				{"KeepAlivesIdle", "1.5", `redshift-ka: KeepAlivesIdle: want whole seconds 0..32767, got "1.5"`},
				{"keepalives_count", "200", `redshift-ka: keepalives_count: want a whole number of probes 0..127, got "200"`},
				{"tcp_user_timeout", "-1", `redshift-ka: tcp_user_timeout: want whole milliseconds 0..2147483647, got "-1"`},
				{"keepalives", "maybe", "redshift-ka: keepalives: "},
				{"LoginTimeout", "x", `redshift-ka: LoginTimeout: want whole seconds 0..2147483647, got "x"`},
				{"KeepAliveIdel", "5", "redshift-ka: KeepAliveIdel: unknown key; did you mean KeepAlivesIdle?"},
			} {
				db, err := sql.Open(f.backend, f.dsn(pg, [][2]string{{tc.key, tc.value}}))
				assert.Nil(t, db)
				var pe *dsnparse.ParseError
				if assert.ErrorAs(t, err, &pe, "%s=%s", tc.key, tc.value) {
					assert.Equal(t, tc.key, pe.Key)
				}
				assert.ErrorContains(t, err, tc.want)
				harness.NoLeak(t, pg, "the error for "+tc.key, fmt.Sprint(err))
			}
			// ...and by the backend's own parser, which quotes the DSN.
			for _, kv := range [][2]string{{"connect_timeout", "x"}, {sslKey(f.form), "maybe"}} {
				if f.form.name == "jdbc" && kv[0] == "connect_timeout" {
					continue // a JDBC URL's connectTimeout is redshift-ka's, as loginTimeout is
				}
				db, err := sql.Open(f.backend, f.dsn(pg, [][2]string{kv}))
				assert.Nil(t, db)
				require.Error(t, err, "%s=%s", kv[0], kv[1])
				var pe *dsnparse.ParseError
				assert.False(t, errors.As(err, &pe), "the backend's error, not ours: %v", err)
				assert.Contains(t, err.Error(), "redshift-ka: ")
				harness.NoLeak(t, pg, "the backend's error for "+kv[0], err.Error())
			}

			// A dial that fails, a database that does not exist.
			for _, tc := range []struct {
				name string
				p    *harness.Postgres
				want string
			}{
				{"connection refused", closed, "connection refused"},
				{"no such database", noDB, `database "no_such_db" does not exist`},
			} {
				db, err := sql.Open(f.backend, f.dsn(tc.p, [][2]string{{"KeepAlivesIdle", "30"}}))
				require.NoError(t, err)
				err = db.PingContext(context.Background())
				db.Close()
				require.ErrorContains(t, err, tc.want)
				harness.NoLeak(t, pg, tc.name, err.Error())
			}

			// The server ends the session during a statement.
			_, conn := open(t, f.backend, f.dsn(pg, nil))
			_, err := conn.ExecContext(context.Background(), "SELECT pg_terminate_backend(pg_backend_pid())")
			if f.backend == rkpq.Name {
				require.ErrorIs(t, err, sqldriver.ErrBadConn) // lib/pq's report of it
			} else {
				require.ErrorContains(t, err, "terminating connection due to administrator command")
			}
			harness.NoLeak(t, pg, "the ended session's error", err.Error())
		})
	}
}

// sslKey is the sslmode key as the form writes it.
func sslKey(f form) string {
	if f.name == "odbc" {
		return "SSLMode"
	}
	return "sslmode"
}

// TestNoSecretInLogsAndReports: what WithLogger logs and what
// settings.Read reports, printed with %v, %+v and %#v and as JSON, show
// nothing of the password, through both backends and every form.
func TestNoSecretInLogsAndReports(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, f := range everyBackendForm() {
		t.Run(f.name, func(t *testing.T) {
			logs := &recorder{}
			text := &strings.Builder{}
			logger := slog.New(multiHandler{logs, slog.NewTextHandler(text, &slog.HandlerOptions{Level: slog.LevelDebug})})
			var (
				c   interface{ DSN() dsnparse.DSN }
				err error
			)
			dsn := f.dsn(pg, [][2]string{{"KeepAlivesIdle", "31"}})
			var db *sql.DB
			if f.backend == rkpq.Name {
				var pc *rkpq.Connector
				pc, err = rkpq.NewConnector(dsn, driver.WithLogger(logger))
				require.NoError(t, err)
				c, db = pc, sql.OpenDB(pc)
			} else {
				var gc *driver.Connector
				gc, err = driver.NewConnector(dsn, driver.WithLogger(logger))
				require.NoError(t, err)
				c, db = gc, sql.OpenDB(gc)
			}
			defer db.Close()
			// The connector did keep the password: it must, to log in.
			require.Contains(t, c.DSN().Rest, strings.Fields(pg.Password)[0], "a search for the password would find it")
			conn, err := db.Conn(context.Background())
			require.NoError(t, err)
			defer conn.Close()
			r, err := settings.Read(conn)
			require.NoError(t, err)
			require.Equal(t, 31, int(r.Idle.Seconds()))

			lines := logs.lines()
			require.NotEmpty(t, lines, "the dial was logged")
			for _, l := range lines {
				harness.NoLeak(t, pg, "a log line", l)
			}
			harness.NoLeak(t, pg, "the text log", text.String())
			js, err := json.Marshal(r)
			require.NoError(t, err)
			for _, out := range []struct{ how, s string }{
				{"%v", fmt.Sprintf("%v", r)},
				{"%+v", fmt.Sprintf("%+v", r)},
				{"%#v", fmt.Sprintf("%#v", r)},
				{"%s", r.String()},
				{"JSON", string(js)},
			} {
				assert.Contains(t, out.s, "31", out.how)
				harness.NoLeak(t, pg, "the report printed with "+out.how, out.s)
			}
		})
	}
}

// multiHandler hands each record to every handler.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(context.Context, slog.Level) bool { return true }
func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}
func (m multiHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(as)
	}
	return out
}
func (m multiHandler) WithGroup(g string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(g)
	}
	return out
}
