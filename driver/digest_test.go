package driver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/digest"
)

// message returns a server message of type typ with body.
func message(typ byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(b))), b...)
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// digestRequest is an AUTH_REQ_DIGEST message.
func digestRequest(algo uint32, salt, nonce string) []byte {
	return message('R', be32(13), be32(algo), be32(uint32(len(salt))), []byte(salt), be32(uint32(len(nonce))), []byte(nonce))
}

const hostile = `1f0e9c2a '5d4b3a21" #;&?%={}9e8d7c6b`

// TestDigestLoginHook: the hook has the next BuildFrontend call, and only
// that one, read through the digest reader, with the configuration's own
// BuildFrontend, and puts that one back: connecting again and again
// through one configuration stacks nothing.
func TestDigestLoginHook(t *testing.T) {
	var readers []io.Reader
	mine := func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		readers = append(readers, r)
		return pgproto3.NewFrontend(r, w)
	}
	c := &pgconn.Config{Password: hostile, BuildFrontend: mine}
	hook := digestLogin(func(_ context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		c.Password += "!" // as the IAM login sets it
		return conn, nil
	})
	for i := range 3 {
		_, err := hook(context.Background(), c, nil)
		require.NoError(t, err)
		var w bytes.Buffer
		fe := c.BuildFrontend(bytes.NewReader(append(digestRequest(0, "s", "n"), message('R', be32(0))...)), &w)
		msg, err := fe.Receive()
		require.NoError(t, err)
		assert.IsType(t, &pgproto3.AuthenticationOk{}, msg)
		assert.Equal(t, byte('d'), w.Bytes()[0])
		require.Len(t, readers, i+1)
		assert.IsType(t, &digest.Reader{}, readers[i])
		// the answer is made with the password the IAM login set
		ans := w.Bytes()
		nonce := ans[1+4+4+32+4:]
		inner := sha256.Sum256([]byte(hostile + strings.Repeat("!", i+1) + "s"))
		want := sha256.Sum256([]byte(string(inner[:]) + "n" + string(nonce)))
		assert.Equal(t, want[:], ans[9:9+32])
	}
	c.BuildFrontend(strings.NewReader(""), io.Discard) // not after a connect: no digest reader
	require.Len(t, readers, 4)
	assert.IsType(t, &strings.Reader{}, readers[3])
}

// TestDigestNotWhenAuthRestricted: with channel_binding=require or
// require_auth, the digest login is not answered (pgx then refuses it), so
// no digest of the password reaches a server the user did not allow.
func TestDigestNotWhenAuthRestricted(t *testing.T) {
	for _, c := range []*pgconn.Config{
		{Password: hostile, ChannelBinding: "require"},
		{Password: hostile, RequireAuth: "scram-sha-256"},
	} {
		hook := digestLogin(nil)
		_, err := hook(context.Background(), c, nil)
		require.NoError(t, err)
		assert.Nil(t, c.BuildFrontend, "no digest reader installed")
	}
}
