package idptoken

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func message(typ byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(binary.BigEndian.AppendUint32([]byte{typ}, uint32(4+len(b))), b...)
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

const hostile = `eyJ 'x" #;&?%={}tok`

// TestAnswer: the 'i' message as JDBC writes it, NUL counted.
func TestAnswer(t *testing.T) {
	want := append([]byte{'i'}, be32(uint32(4+len(hostile)+1))...)
	want = append(append(want, hostile...), 0)
	assert.Equal(t, want, Answer(hostile))
}

// TestReader: the request is answered and kept from the client, which
// reads AuthenticationOk and what follows unchanged.
func TestReader(t *testing.T) {
	ok := message('R', be32(0))
	rest := message('S', []byte("a\x00b\x00"))
	server := bytes.NewReader(bytes.Join([][]byte{message('R', be32(14)), ok, rest}, nil))
	var sent bytes.Buffer
	got, err := io.ReadAll(NewReader(server, &sent, hostile, true))
	require.NoError(t, err)
	assert.Equal(t, append(ok, rest...), got)
	assert.Equal(t, Answer(hostile), sent.Bytes())
}

// TestReaderRefused: the server's error after the token reads with
// Refused before its message, code unchanged.
func TestReaderRefused(t *testing.T) {
	e, err := (&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28000", Message: "token expired"}).Encode(nil)
	require.NoError(t, err)
	server := bytes.NewReader(append(message('R', be32(14)), e...))
	got, err := io.ReadAll(NewReader(server, io.Discard, hostile, true))
	require.NoError(t, err)
	var back pgproto3.ErrorResponse
	require.NoError(t, back.Decode(got[5:]))
	assert.Equal(t, Refused+"token expired", back.Message)
	assert.Equal(t, "28000", back.Code)
}

// TestReaderOthers: a login without code 14, or an error before any
// token, passes as it is; without TLS the token is not sent.
func TestReaderOthers(t *testing.T) {
	for _, in := range [][]byte{
		message('R', be32(0)),
		message('R', be32(10), []byte("SCRAM-SHA-256\x00\x00")),
		message('E', []byte("SFATAL\x00C28000\x00Mno\x00\x00")),
	} {
		var sent bytes.Buffer
		got, err := io.ReadAll(NewReader(bytes.NewReader(in), &sent, hostile, true))
		require.NoError(t, err)
		assert.Equal(t, in, got)
		assert.Zero(t, sent.Len())
	}
	var sent bytes.Buffer
	_, err := io.ReadAll(NewReader(bytes.NewReader(message('R', be32(14))), &sent, hostile, false))
	require.ErrorIs(t, err, ErrNoTLS)
	assert.Zero(t, sent.Len())
}
