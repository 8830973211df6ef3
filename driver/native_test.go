package driver

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/idptoken"
)

// TestNativeLoginHook: the startup parameters are added; the hook has the
// next BuildFrontend call read through the token reader, which answers
// code 14 over TLS and refuses without it. That pgconn hands
// AfterNetConnect the *tls.Conn is relied on: integration's
// TestNativeLogin, over TLS, fails if it stops doing so.
func TestNativeLoginHook(t *testing.T) {
	n := &dsnparse.Native{Plugin: "JWT", IdPType: "AzureAD", ProviderName: "p", Token: hostile}
	c := &pgconn.Config{User: "root", RuntimeParams: map[string]string{"application_name": "a"}}
	hook := nativeLogin(c, n, nil)
	assert.Equal(t, "root", c.User, "the DSN's user")
	n.NoUser = true
	nativeLogin(c, n, nil)
	assert.Equal(t, "", c.User, "the OS user pgx took is not sent")
	assert.Equal(t, map[string]string{"application_name": "a", "plugin_name": "JWT", "idp_type": "AzureAD", "provider_name": "p"}, c.RuntimeParams)

	server := append(message('R', be32(14)), message('R', be32(0))...)
	for _, conn := range []net.Conn{tls.Client(nil, &tls.Config{}), &net.TCPConn{}} {
		_, err := hook(context.Background(), c, conn)
		require.NoError(t, err)
		var w bytes.Buffer
		msg, err := c.BuildFrontend(bytes.NewReader(server), &w).Receive()
		if _, ok := conn.(*tls.Conn); ok {
			require.NoError(t, err)
			assert.IsType(t, &pgproto3.AuthenticationOk{}, msg)
			assert.Equal(t, idptoken.Answer(hostile), w.Bytes())
		} else {
			require.ErrorIs(t, err, ErrTokenWithoutTLS)
			assert.Zero(t, w.Len(), "nothing sent")
		}
	}
	fe := c.BuildFrontend(bytes.NewReader(message('R', be32(0))), io.Discard) // not after a connect
	msg, err := fe.Receive()
	require.NoError(t, err)
	assert.IsType(t, &pgproto3.AuthenticationOk{}, msg)
}
