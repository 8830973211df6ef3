// Package digest answers Amazon Redshift's SHA-256 digest login
// (AUTH_REQ_DIGEST, authentication code 13) for the two backends, which do
// not know it.
package digest

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// The login is answered as Amazon's drivers answer it:
// aws/amazon-redshift-python-driver redshift_connector/core.py
// Connection.handle_AUTHENTICATION_REQUEST (auth_code == 13) with
// redshift_connector/utils/extensible_digest.py ExtensibleDigest.encode,
// and aws/amazon-redshift-jdbc-driver core/v3/ConnectionFactoryImpl.java
// doAuthentication (case AUTH_REQ_DIGEST) with util/ExtensibleDigest.java
// encode. Both read, after the code, int32 algorithm (0 SHA-256; JDBC
// names 1 scrypt and 2 argon2, which neither driver computes), int32 salt
// length, salt, int32 server-nonce length, server nonce; both answer with
// a 'd' message: int32 length (itself included), int32 digest length, the
// raw 32-byte digest SHA256(SHA256(password + salt) + server nonce +
// client nonce), int32 client-nonce length, the client nonce, which both
// make the decimal text of the milliseconds since the Unix epoch.
const (
	authDigest = 13 // AUTH_REQ_DIGEST
	sha256Algo = 0  // AUTH_DIGEST_SHA256
	maxRequest = 4096
)

// ErrAlgorithm is the error for a digest login with an algorithm
// other than SHA-256.
var ErrAlgorithm = errors.New("redshift-ka: the server asked for an Amazon Redshift digest login with an algorithm other than SHA-256 (0), which redshift-ka does not compute")

// Reader is the server's side of a connection as the client (pgx, lib/pq)
// reads it. Until the login is over it reads the server's messages one by
// one, answers a digest login request itself and keeps it from the client,
// which then reads the server's AuthenticationOk or error as if it had
// answered. From the first message that is neither the request nor
// NegotiateProtocolVersion on, it passes bytes straight through: a branch
// per read, for the connection's life.
type Reader struct {
	r        io.Reader
	w        io.Writer // the connection, for the answer
	password string
	pending  []byte // read from r, yet to be handed to the client
	done     bool
}

// NewReader returns a Reader of the server's messages in r that answers a
// digest login request on w with password.
func NewReader(r io.Reader, w io.Writer, password string) *Reader {
	return &Reader{r: r, w: w, password: password}
}

// Read reads the server's side, the digest login request taken out.
func (d *Reader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.done {
			return d.r.Read(p)
		}
		if err := d.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// next reads the server's next message during the login: it answers a
// digest request, or puts the message in pending for the client.
func (d *Reader) next() error {
	var head [9]byte // type, length, and an authentication request's code
	if _, err := io.ReadFull(d.r, head[:5]); err != nil {
		return err
	}
	typ, size := head[0], int64(binary.BigEndian.Uint32(head[1:5]))
	if typ != 'R' && typ != 'v' || size < 8 {
		d.pending, d.done = head[:5], true // the client reads the rest, and judges it
		return nil
	}
	if _, err := io.ReadFull(d.r, head[5:9]); err != nil {
		return err
	}
	if typ == 'R' && binary.BigEndian.Uint32(head[5:9]) != authDigest {
		d.pending, d.done = head[:9], true
		return nil
	}
	if size > maxRequest {
		return fmt.Errorf("redshift-ka: login message of %d bytes from the server", size)
	}
	msg := make([]byte, size+1)
	copy(msg, head[:9])
	if _, err := io.ReadFull(d.r, msg[9:]); err != nil {
		return err
	}
	if typ == 'v' { // NegotiateProtocolVersion comes before the request
		d.pending = msg
		return nil
	}
	reply, err := answer(msg[9:], d.password, time.Now())
	if err != nil {
		return err
	}
	_, err = d.w.Write(reply)
	return err
}

// answer returns the 'd' message that answers the digest request
// whose body, after the code, is req, for password at time now (the
// client nonce).
func answer(req []byte, password string, now time.Time) ([]byte, error) {
	field := func() ([]byte, error) {
		if len(req) < 4 {
			return nil, errors.New("redshift-ka: digest login request cut short")
		}
		n := binary.BigEndian.Uint32(req)
		if uint64(n) > uint64(len(req)-4) {
			return nil, errors.New("redshift-ka: digest login request cut short")
		}
		f := req[4 : 4+n]
		req = req[4+n:]
		return f, nil
	}
	if len(req) < 4 {
		return nil, errors.New("redshift-ka: digest login request cut short")
	}
	if algo := int32(binary.BigEndian.Uint32(req)); algo != sha256Algo {
		return nil, fmt.Errorf("%w (got algorithm %d)", ErrAlgorithm, algo)
	}
	req = req[4:]
	salt, err := field()
	if err != nil {
		return nil, err
	}
	serverNonce, err := field()
	if err != nil {
		return nil, err
	}
	if password == "" {
		return nil, errors.New("redshift-ka: the server asked for an Amazon Redshift digest login, but no password was given")
	}
	clientNonce := []byte(strconv.FormatInt(now.UnixMilli(), 10))
	digest := hash(password, salt, serverNonce, clientNonce)

	msg := make([]byte, 0, 1+4+4+len(digest)+4+len(clientNonce))
	msg = append(msg, 'd')
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+4+len(digest)+4+len(clientNonce)))
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(digest)))
	msg = append(msg, digest...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(clientNonce)))
	msg = append(msg, clientNonce...)
	return msg, nil
}

// hash is ExtensibleDigest.encode with SHA-256:
// SHA256(SHA256(password + salt) + serverNonce + clientNonce), raw bytes.
func hash(password string, salt, serverNonce, clientNonce []byte) []byte {
	h := sha256.New()
	h.Write([]byte(password))
	h.Write(salt)
	inner := h.Sum(nil)
	h = sha256.New()
	h.Write(inner)
	h.Write(serverNonce)
	h.Write(clientNonce)
	return h.Sum(nil)
}

// Conn is a connection whose reads go through a [Reader]: for lib/pq,
// given the plaintext socket, which it logs in on.
type Conn struct {
	net.Conn
	r *Reader
}

// NewConn returns c with its digest login answered with password.
func NewConn(c net.Conn, password string) *Conn {
	return &Conn{Conn: c, r: NewReader(c, c, password)}
}

// Read reads the server's side, the digest login request taken out.
func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// NetConn returns the connection under c.
func (c *Conn) NetConn() net.Conn { return c.Conn }
