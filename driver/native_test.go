package driver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
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
	hook := nativeLogin(c, n, nil, nil)
	assert.Equal(t, "root", c.User, "the DSN's user")
	n.NoUser = true
	nativeLogin(c, n, nil, nil)
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

// tokenFunc is a backend.TokenSource.
type tokenFunc func(ctx context.Context) (string, error)

func (f tokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// TestNativeLoginSource: with a token source, each connection answers
// with the token the source gives it, asked before the startup message;
// the source's error fails the connection before anything is sent.
func TestNativeLoginSource(t *testing.T) {
	n := &dsnparse.Native{Plugin: "IdpTokenAuthPlugin", IdPType: "AwsIdc", TokenType: "ACCESS_TOKEN"}
	c := &pgconn.Config{RuntimeParams: map[string]string{}}
	calls := 0
	var fail error
	hook := nativeLogin(c, n, tokenFunc(func(context.Context) (string, error) {
		calls++
		return hostile + strconv.Itoa(calls), fail
	}), nil)
	server := append(message('R', be32(14)), message('R', be32(0))...)
	for i := 1; i <= 2; i++ {
		_, err := hook(context.Background(), c, tls.Client(nil, &tls.Config{}))
		require.NoError(t, err)
		require.Equal(t, i, calls, "asked at each connection, before the startup message")
		var w bytes.Buffer
		_, err = c.BuildFrontend(bytes.NewReader(server), &w).Receive()
		require.NoError(t, err)
		assert.Equal(t, idptoken.Answer(hostile+strconv.Itoa(i)), w.Bytes())
	}
	fail = errors.New("GetIdentityCenterAuthToken: AccessDenied")
	_, err := hook(context.Background(), c, tls.Client(nil, &tls.Config{}))
	require.ErrorIs(t, err, fail)
	var ne net.Error
	assert.False(t, errors.As(err, &ne), "not a net.Error, which pgconn would replace")
}
