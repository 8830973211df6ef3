package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
)

// TestTLSGarbage: a server that agrees to TLS and then sends garbage
// fails the connect at once with crypto/tls's error, on both backends:
// no hang, no panic.
func TestTLSGarbage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.ReadFull(c, make([]byte, 8)); err != nil { // SSLRequest
					return
				}
				c.Write([]byte("S"))
				c.Write([]byte("\x17\x03\x03\x00\x05garbage, not a TLS record at all"))
				io.Copy(io.Discard, c)
			}()
		}
	}()
	for _, name := range []string{driver.Name, rkpq.Name} {
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open(name, fmt.Sprintf("postgres://u:pw@%s/db?sslmode=require&KeepAlivesIdle=1", ln.Addr()))
			require.NoError(t, err)
			defer db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = db.PingContext(ctx)
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "the connect waited for the deadline")
			assert.Contains(t, err.Error(), "tls")
			t.Logf("the error: %v", err)
		})
	}
}
