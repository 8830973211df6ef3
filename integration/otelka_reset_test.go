//go:build linux

package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestOTelResetLoss: during a long statement the firewall starts answering
// every packet with a TCP reset, as a middlebox that lost the flow's state
// may. The client's next keep-alive probe draws one: the statement fails
// (not with a [dialer.ConnLostError]: the kernel did not give up, it was
// told), and the loss counter counts one loss with error.type
// connection_reset, and one lost statement; with either backend, over TCP
// and TLS.
func TestOTelResetLoss(t *testing.T) {
	for _, tc := range []struct {
		name, driver, params string
		session              bool // db.system.name and db.namespace known (pgx)
	}{
		{"pgx", driver.Name, fastKA.params(), true},
		{"pgx, TLS", driver.Name, fastKA.params() + "&sslmode=require", true},
		{"lib/pq", rkpq.Name, fastKA.params(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t)
			r := startOTel(t)

			_, conn := s.open(t, tc.driver, s.pg.URL(tc.params))
			var pid int
			require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))
			server := []attribute.KeyValue{attribute.String("server.address", s.pg.Host), attribute.Int("server.port", s.pg.Port)}
			if tc.session {
				server = append(server, attribute.String("db.system.name", "postgresql"), attribute.String("db.namespace", s.pg.Database))
			}

			ch := runFor(conn, time.Minute, "SELECT pg_sleep(60)")
			waitFor(t, func() bool { return active(t, s, uint32(pid)) })
			_, err := s.fw.FW.Run("nft", "add rule inet rska cut meta l4proto tcp reject with tcp reset")
			require.NoError(t, err)
			// The next probe goes out within idle + interval of the rule.
			res := harness.Await(t, ch, fastKA.d(fastKA.idle+fastKA.interval)+ctxGrace, "the statement on the reset path")
			require.Error(t, res.err)
			t.Logf("the statement failed after %s: %v", res.elapsed.Round(time.Millisecond), res.err)
			assert.False(t, errors.Is(res.err, dialer.ErrConnectionLost), "a reset is not a silent path: %v", res.err)

			got := otelPoints(t, r)
			lost := distinct(append(server, attribute.String("error.type", "connection_reset"))...)
			assert.Equal(t, map[attribute.Distinct]int64{lost: 1}, got["redshift_ka.connection.losses"])
			assert.Equal(t, map[attribute.Distinct]int64{distinct(server...): 1}, got["redshift_ka.connection.lost_statements"])
		})
	}
}
