// Package idptoken answers Amazon Redshift's native identity-provider
// login (AUTH_REQ_IDP, authentication code 14) for pgx, which does not know
// it: the server asks for the token, the client sends it.
package idptoken

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The exchange: the server sends 'R', length 8, int32 14; the client
// answers 'i', int32 length, the token and a NUL the length counts, as
// JDBC and ODBC do (sources and the choice: DESIGN.md, native IdP login).
const (
	authIdP    = 14 // AUTH_REQ_IDP
	maxRequest = 4096
)

// ErrNoTLS is the error of a server that asks for the token on a
// connection without TLS: redshift-ka sends it only encrypted.
var ErrNoTLS = errors.New("redshift-ka: the server asked for the identity-provider token (authentication code 14) on a connection without TLS; " +
	"redshift-ka sends it only over TLS: use sslmode=require or stronger")

// Refused is the prefix of the message of the server's error that
// follows the token, as the client reads it: the server's code and
// message stay, so a *pgconn.PgError still tells them.
const Refused = "Amazon Redshift refused the identity-provider token: "

// Reader is the server's side of a connection as pgx reads it. Until the
// login is over it reads the server's messages one by one, answers the
// token request itself and keeps it from pgx, which then reads the
// server's AuthenticationOk, or its error with [Refused] before the
// message. From the first message that is neither the request nor
// NegotiateProtocolVersion on, it passes bytes straight through.
type Reader struct {
	r         io.Reader
	w         io.Writer
	token     string
	encrypted bool
	pending   []byte
	sent      bool // the token went out; the next message tells
	done      bool
}

// NewReader returns a Reader of the server's messages in r that answers
// the token request on w with token, if encrypted says w is over TLS.
func NewReader(r io.Reader, w io.Writer, token string, encrypted bool) *Reader {
	return &Reader{r: r, w: w, token: token, encrypted: encrypted}
}

// Read reads the server's side, the token request taken out.
func (t *Reader) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		if t.done {
			return t.r.Read(p)
		}
		if err := t.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	return n, nil
}

// next reads the server's next message during the login.
func (t *Reader) next() error {
	var head [5]byte
	if _, err := io.ReadFull(t.r, head[:]); err != nil {
		return err
	}
	typ, size := head[0], int64(binary.BigEndian.Uint32(head[1:5]))
	if typ != 'R' && typ != 'v' && (typ != 'E' || !t.sent) || size < 4 || size > maxRequest {
		t.pending, t.done = head[:], true // the client reads the rest, and judges it
		return nil
	}
	msg := make([]byte, size+1)
	copy(msg, head[:])
	if _, err := io.ReadFull(t.r, msg[5:]); err != nil {
		return err
	}
	switch {
	case typ == 'v':
		t.pending = msg
		return nil
	case typ == 'E':
		t.pending, t.done = refused(msg), true
		return nil
	case size != 8 || binary.BigEndian.Uint32(msg[5:9]) != authIdP:
		t.pending, t.done = msg, true
		return nil
	}
	if !t.encrypted {
		return ErrNoTLS
	}
	if t.token == "" {
		return errors.New("redshift-ka: the server asked for the identity-provider token (authentication code 14), but the DSN gives none")
	}
	_, err := t.w.Write(Answer(t.token))
	t.sent = true
	return err
}

// Answer is the 'i' message that sends token.
func Answer(token string) []byte {
	msg := []byte{'i'}
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+len(token)+1))
	msg = append(msg, token...)
	return append(msg, 0)
}

// refused returns the ErrorResponse msg with [Refused] before its
// message; msg as it is if it does not decode.
func refused(msg []byte) []byte {
	var e pgproto3.ErrorResponse
	if e.Decode(msg[5:]) != nil {
		return msg
	}
	e.Message = Refused + e.Message
	out, err := e.Encode(nil)
	if err != nil {
		return msg
	}
	return out
}
