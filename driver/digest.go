package driver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Amazon Redshift's SHA-256 digest login (AUTH_REQ_DIGEST), which pgx does
// not know. It is answered as Amazon's drivers answer it:
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
	authDigest       = 13 // AUTH_REQ_DIGEST
	digestSHA256     = 0  // AUTH_DIGEST_SHA256
	digestMaxRequest = 4096
)

// errDigestAlgorithm is the error for a digest login with an algorithm
// other than SHA-256.
var errDigestAlgorithm = errors.New("redshift-ka: the server asked for an Amazon Redshift digest login with an algorithm other than SHA-256 (0), which redshift-ka does not compute")

// digestLogin returns an AfterNetConnect that calls next (the IAM login's,
// a user's, or nil) and then has the connection answer a digest login with
// the password the connection's configuration then holds. It leaves the
// connection pgconn uses as it is (a *tls.Conn stays one, for SCRAM's
// channel binding and for callers that look): it sets the configuration's
// BuildFrontend, which pgconn calls next, to one that puts the previous
// one back and builds the frontend with it, over a [digestReader]. So the
// configuration is as it was once the connection is made, and a
// BuildFrontend of the user's keeps working.
func digestLogin(next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		password, build := c.Password, c.BuildFrontend
		if build == nil {
			build = pgproto3.NewFrontend
		}
		c.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			c.BuildFrontend = build
			return build(&digestReader{r: r, w: w, password: password}, w)
		}
		return conn, nil
	}
}

// digestReader is the server's side of a connection as pgx reads it. Until
// the login is over it reads the server's messages one by one, answers a
// digest login request itself and keeps it from pgx, which then reads the
// server's AuthenticationOk or error as if it had answered. From the first
// message that is neither the request nor NegotiateProtocolVersion on, it
// passes bytes straight through: a branch per read, for the connection's
// life.
type digestReader struct {
	r        io.Reader
	w        io.Writer // the connection, for the answer
	password string
	pending  []byte // read from r, yet to be handed to pgx
	done     bool
}

func (d *digestReader) Read(p []byte) (int, error) {
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
// digest request, or puts the message in pending for pgx.
func (d *digestReader) next() error {
	var head [9]byte // type, length, and an authentication request's code
	if _, err := io.ReadFull(d.r, head[:5]); err != nil {
		return err
	}
	typ, size := head[0], int64(binary.BigEndian.Uint32(head[1:5]))
	if typ != 'R' && typ != 'v' || size < 8 {
		d.pending, d.done = head[:5], true // pgx reads the rest, and judges it
		return nil
	}
	if _, err := io.ReadFull(d.r, head[5:9]); err != nil {
		return err
	}
	if typ == 'R' && binary.BigEndian.Uint32(head[5:9]) != authDigest {
		d.pending, d.done = head[:9], true
		return nil
	}
	if size > digestMaxRequest {
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
	answer, err := digestAnswer(msg[9:], d.password, time.Now())
	if err != nil {
		return err
	}
	_, err = d.w.Write(answer)
	return err
}

// digestAnswer returns the 'd' message that answers the digest request
// whose body, after the code, is req, for password at time now (the
// client nonce).
func digestAnswer(req []byte, password string, now time.Time) ([]byte, error) {
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
	if algo := int32(binary.BigEndian.Uint32(req)); algo != digestSHA256 {
		return nil, fmt.Errorf("%w (got algorithm %d)", errDigestAlgorithm, algo)
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
	digest := redshiftDigest(password, salt, serverNonce, clientNonce)

	msg := make([]byte, 0, 1+4+4+len(digest)+4+len(clientNonce))
	msg = append(msg, 'd')
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+4+len(digest)+4+len(clientNonce)))
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(digest)))
	msg = append(msg, digest...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(clientNonce)))
	msg = append(msg, clientNonce...)
	return msg, nil
}

// redshiftDigest is ExtensibleDigest.encode with SHA-256:
// SHA256(SHA256(password + salt) + serverNonce + clientNonce), raw bytes.
func redshiftDigest(password string, salt, serverNonce, clientNonce []byte) []byte {
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
