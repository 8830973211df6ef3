package driver_test

import (
	"crypto/tls"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
)

// TestRenegotiationAllowed: every TLS configuration pgx will use, the
// fallbacks' included (sslmode=prefer, several hosts), accepts the
// server's renegotiations; a plain one stays plain. The proof against a
// server that renegotiates is TestRenegotiation in package integration.
func TestRenegotiationAllowed(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		tlsN int // configurations with TLS among TLSConfig and the fallbacks'
	}{
		{"host=h user=u sslmode=require", 1},
		{"host=h user=u sslmode=verify-full", 1},
		{"host=h1,h2 user=u sslmode=prefer", 2},
		{"postgres://u@h1,h2/db?sslmode=allow", 2},
		{"host=h user=u sslmode=disable", 0},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			cfg, err := driver.ParseConfig(tc.dsn)
			require.NoError(t, err)
			pcfg, err := driver.ParsePoolConfig(tc.dsn)
			require.NoError(t, err)
			for _, c := range []*pgconn.Config{&cfg.Config, &pcfg.ConnConfig.Config} {
				all := []*tls.Config{c.TLSConfig}
				for _, fb := range c.Fallbacks {
					all = append(all, fb.TLSConfig)
				}
				n := 0
				for _, tc := range all {
					if tc != nil {
						n++
						assert.Equal(t, tls.RenegotiateFreelyAsClient, tc.Renegotiation)
					}
				}
				assert.Equal(t, tc.tlsN, n, "TLS configurations")
			}
		})
	}
}
