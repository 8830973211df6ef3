package digest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestAnswer checks the answer byte by byte against the layout of
// redshift_connector core.py (auth_code == 13) and JDBC
// ConnectionFactoryImpl (AUTH_REQ_DIGEST), the digest computed here
// independently of hash.
func TestAnswer(t *testing.T) {
	now := time.UnixMilli(1764770000123)
	req := digestRequest(0, "salt\x00\xff", "server-nonce")
	got, err := answer(req[9:], hostile, now)
	require.NoError(t, err)

	inner := sha256.Sum256([]byte(hostile + "salt\x00\xff"))
	digest := sha256.Sum256([]byte(string(inner[:]) + "server-nonce" + "1764770000123"))
	want := message('d', be32(32), digest[:], be32(13), []byte("1764770000123"))
	assert.Equal(t, want, got)
	assert.NotContains(t, string(got), hostile)
}

func TestAnswerRefuses(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name, password, want string
		req                  []byte
	}{
		{"scrypt", hostile, "other than SHA-256 (0), which redshift-ka does not compute (got algorithm 1)", digestRequest(1, "s", "n")},
		{"argon2", hostile, "(got algorithm 2)", digestRequest(2, "s", "n")},
		{"negative", hostile, "(got algorithm -1)", digestRequest(0xffffffff, "s", "n")},
		{"no password", "", "no password was given", digestRequest(0, "s", "n")},
		{"salt cut short", hostile, "cut short", message('R', be32(13), be32(0), be32(99), []byte("s"))},
		{"nonce missing", hostile, "cut short", message('R', be32(13), be32(0), be32(1), []byte("s"))},
		{"no algorithm", hostile, "cut short", message('R', be32(13))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := answer(tc.req[9:], tc.password, now)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "5d4b3a21")
		})
	}
}

// TestReader: the request is answered and kept from pgx, which reads
// the rest unchanged; from the first other message on, bytes pass
// through, even ones that look like a request.
func TestReader(t *testing.T) {
	ok := message('R', be32(0))
	later := message('D', digestRequest(0, "s", "n")) // a row that holds a request's bytes
	for _, tc := range []struct {
		name     string
		in, want []byte
		answered bool
	}{
		{"digest", bytes.Join([][]byte{digestRequest(0, "salt", "nonce"), ok, later}, nil), append(append([]byte(nil), ok...), later...), true},
		{"protocol version first", bytes.Join([][]byte{message('v', be32(0), be32(0)), digestRequest(0, "salt", "nonce"), ok}, nil), append(message('v', be32(0), be32(0)), ok...), true},
		{"md5", bytes.Join([][]byte{message('R', be32(5), []byte("salt")), ok, digestRequest(0, "s", "n")}, nil), bytes.Join([][]byte{message('R', be32(5), []byte("salt")), ok, digestRequest(0, "s", "n")}, nil), false},
		{"trust", bytes.Join([][]byte{ok, digestRequest(0, "s", "n")}, nil), bytes.Join([][]byte{ok, digestRequest(0, "s", "n")}, nil), false},
		{"error", message('E', []byte("SFATAL\x00\x00")), message('E', []byte("SFATAL\x00\x00")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			d := &Reader{r: bytes.NewReader(tc.in), w: &w, password: hostile}
			got, err := io.ReadAll(iotestOneByte{d})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.answered, w.Len() > 0, "answered: %q", w.Bytes())
			if tc.answered {
				assert.Equal(t, byte('d'), w.Bytes()[0])
			}
			assert.True(t, d.done)
		})
	}
	t.Run("algorithm 1", func(t *testing.T) {
		var w bytes.Buffer
		d := &Reader{r: bytes.NewReader(digestRequest(1, "s", "n")), w: &w, password: hostile}
		_, err := io.ReadAll(d)
		require.ErrorIs(t, err, ErrAlgorithm)
		assert.Zero(t, w.Len())
	})
	t.Run("huge request", func(t *testing.T) {
		d := &Reader{r: strings.NewReader("R\x7f\xff\xff\xff\x00\x00\x00\x0d"), w: io.Discard, password: hostile}
		_, err := io.ReadAll(d)
		require.Error(t, err)
	})
}

// iotestOneByte reads a byte at a time, as a reader with a small buffer
// would.
type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// zeros is an endless reader that costs nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { return len(p), nil }

// BenchmarkReader: what a read costs through the reader once the
// login is over (every read pgx makes for the connection's life), against
// a read of the connection itself, with pgx's 8 KiB buffer.
func BenchmarkReader(b *testing.B) {
	p := make([]byte, 8192)
	b.Run("direct", func(b *testing.B) {
		var r io.Reader = zeros{}
		for b.Loop() {
			r.Read(p)
		}
	})
	b.Run("through", func(b *testing.B) {
		var r io.Reader = &Reader{r: zeros{}, done: true}
		for b.Loop() {
			r.Read(p)
		}
	})
}
