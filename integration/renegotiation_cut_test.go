//go:build linux

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/settings"
)

// TestRenegotiationCut: the renegotiating proxy runs in the firewall's
// server namespace and, at its first renegotiation, reads the client's
// hello and stalls; then the path is cut. The large query ends with the
// lost connection's error within the bound keep-alive 1/1/3 gives, on the
// pgx backend (database/sql and pgx) and on lib/pq, the connection closed
// and not reused, and no goroutine left. The control: the same stall
// without the cut is a slow live server, still waiting past that bound.
func TestRenegotiationCut(t *testing.T) {
	t.Cleanup(func() { // registered first, so it runs once all else is closed
		if left := harness.LeftGoroutines(20 * time.Second); left != "" {
			t.Errorf("goroutines left behind:\n\n%s", left)
		}
	})
	bin := buildRenegProxy(t)
	s := newSetup(t)
	want := dialer.Observed{KeepAlive: true, Idle: time.Second, Interval: time.Second, Count: 3}
	dead := want.DeadAfter()
	lo, hi := dead-want.Interval, dead+1500*time.Millisecond

	for _, tc := range []struct {
		name  string
		way   string // "database/sql", "lib/pq" or "pgx"
		noCut bool   // the control
	}{
		{name: "database/sql", way: "database/sql"},
		{name: "pgx", way: "pgx"},
		{name: "lib/pq", way: "lib/pq"},
		{name: "database/sql, no cut", way: "database/sql", noCut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			px := startRenegProxyIn(t, bin, s.pg, "stall", 64<<10, s.fw.Server, harness.ServerAddr)
			dsn := px.dsn(s.pg) + "&" + fastKA.params()
			bound := time.Minute
			if tc.noCut {
				bound = hi + want.Interval // past the bound, then the context ends it
			}
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()

			var (
				db      *sql.DB
				conn    *sql.Conn
				pgxConn *pgx.Conn
				pid     uint32
			)
			if tc.way == "pgx" {
				cfg, err := driver.ParseConfig(dsn)
				require.NoError(t, err)
				s.inClient(t, func() error {
					pgxConn, err = pgx.ConnectConfig(context.Background(), cfg)
					return err
				})
				defer pgxConn.Close(context.Background())
				pid = pgxConn.PgConn().PID()
				r, err := settings.ReadPgx(pgxConn.PgConn())
				require.NoError(t, err)
				require.Equal(t, want, r.Observed)
			} else {
				db, conn = s.open(t, map[string]string{"database/sql": driver.Name, "lib/pq": rkpq.Name}[tc.way], dsn)
				require.NoError(t, conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid))
				r, err := settings.Read(conn)
				require.NoError(t, err)
				require.Equal(t, want, r.Observed)
			}

			ch := make(chan result, 1)
			go func() {
				start := time.Now()
				var err error
				if tc.way == "pgx" {
					var rows pgx.Rows
					if rows, err = pgxConn.Query(ctx, renegQuery); err == nil {
						_, err = readRows(rows)
					}
				} else {
					_, err = readSQL(ctx, conn)
				}
				ch <- result{err, time.Since(start)}
			}()
			waitFor(t, func() bool { return strings.Contains(px.stderr(), "stalled in renegotiation") })
			if tc.noCut {
				stalled := time.Now()
				r := harness.Await(t, ch, bound+ctxGrace, "the query on the stalled server")
				t.Logf("no cut: ended %s after the stall: %v", time.Since(stalled).Round(time.Millisecond), r.err)
				assert.GreaterOrEqual(t, time.Since(stalled), hi, "the stall alone ended the query: keep-alive was not what ended it")
				assert.ErrorIs(t, r.err, context.DeadlineExceeded)
				assert.NotErrorIs(t, r.err, dialer.ErrConnectionLost)
				return
			}
			require.NoError(t, s.fw.Cut())
			cut := time.Now()
			defer func() { require.NoError(t, s.fw.Restore()) }()
			r := harness.Await(t, ch, bound+ctxGrace, "the query on the path cut during a renegotiation")
			timing(t, fmt.Sprintf("%s: cut during renegotiation noticed (DeadAfter %s)", tc.way, dead), time.Since(cut), lo, hi)
			t.Logf("the error: %v", r.err)

			require.Error(t, r.err)
			var lost *dialer.ConnLostError
			require.ErrorAs(t, r.err, &lost)
			assert.ErrorIs(t, r.err, dialer.ErrConnectionLost)
			msg := r.err.Error()
			assert.Contains(t, msg, fmt.Sprintf("keep-alive idle %s, interval %s, count %d", want.Idle, want.Interval, want.Count))
			harness.NoLeak(t, s.pg, "the lost connection's error", msg)
			assert.True(t, strings.HasPrefix(msg, "redshift-ka: connection to "), "the text says first that the connection was lost")

			if tc.way == "pgx" {
				assert.True(t, pgxConn.IsClosed())
				return
			}
			// Raw hands back the driver's connection, now unusable, unless
			// database/sql closed it already (lib/pq's rows report
			// driver.ErrBadConn on Close).
			if err := rawUnusable(t, conn); err != nil {
				require.ErrorIs(t, err, sql.ErrConnDone)
				t.Logf("database/sql closed the connection itself: %v", err)
			}
			_ = conn.Close() // sql.ErrConnDone when closed already
			// With the path back, the same *sql.DB works on a new connection.
			require.NoError(t, s.fw.Restore())
			var newPID uint32
			s.inClient(t, func() error {
				return db.QueryRow("SELECT pg_backend_pid()").Scan(&newPID)
			})
			assert.NotEqual(t, pid, newPID, "the lost connection was used again")
			assert.Equal(t, 1, db.Stats().OpenConnections)
		})
	}
}
