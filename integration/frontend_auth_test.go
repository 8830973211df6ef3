//go:build linux

package integration

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The Redshift front end's login: TLS when the client asks for it, and
// Amazon Redshift's SHA-256 digest login (AUTH_REQ_DIGEST, authentication
// code 13) for one user. The exchange is the one Amazon's drivers answer:
// aws/amazon-redshift-python-driver redshift_connector/core.py
// Connection.handle_AUTHENTICATION_REQUEST (auth_code == 13) and
// redshift_connector/utils/extensible_digest.py ExtensibleDigest.encode;
// aws/amazon-redshift-jdbc-driver core/v3/ConnectionFactoryImpl.java
// doAuthentication (case AUTH_REQ_DIGEST) and util/ExtensibleDigest.java.
// The server sends 'R', int32 13, int32 algorithm (0 is SHA-256), int32
// salt length, salt, int32 nonce length, its nonce; the client answers
// 'd', int32 length, int32 digest length, the raw digest
// SHA256(SHA256(password + salt) + server nonce + client nonce), int32
// client-nonce length, its nonce. Like a server that stores
// SHA256(password + salt) ("sha256|..." passwords), the front end keeps
// only that hash.

// frontEndLogin says how a front end logs clients in.
type frontEndLogin struct {
	// Cert, if set, is the certificate an SSLRequest is answered with:
	// Redshift clusters are reached over TLS.
	Cert *tls.Certificate
	// DigestUser, if set, logs in with the digest login, and
	// DigestPassword is the password it checks. The front end then logs
	// in to PostgreSQL, which trusts its Unix-domain socket.
	DigestUser, DigestPassword string
	// Algorithm is the algorithm the front end asks for: 0, SHA-256, the
	// only one Amazon's drivers compute.
	Algorithm int32
	// IdP, if set, logs a startup that names a plugin_name in with
	// Redshift's native IdP login, checking the token the client sends
	// (frontend_idp_test.go).
	IdP *frontEndIdP

	// Encrypted counts sessions that switched to TLS.
	Encrypted atomic.Int64
	// Accepted and Refused count digest logins with the right digest and
	// with a wrong one.
	Accepted, Refused atomic.Int64
}

// encrypt answers an SSLRequest or GSSEncRequest: with TLS when the
// front end has a certificate and the request is an SSLRequest, with 'N'
// otherwise. It returns the connection and backend to go on with.
func (f *frontEnd) encrypt(client net.Conn, be *pgproto3.Backend, msg pgproto3.FrontendMessage) (net.Conn, *pgproto3.Backend, error) {
	l := f.opts.Login
	if _, ssl := msg.(*pgproto3.SSLRequest); !ssl || l == nil || l.Cert == nil {
		_, err := client.Write([]byte("N"))
		return client, be, err
	}
	if _, err := client.Write([]byte("S")); err != nil {
		return nil, nil, err
	}
	tc := tls.Server(client, &tls.Config{Certificates: []tls.Certificate{*l.Cert}, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		return nil, nil, err
	}
	l.Encrypted.Add(1)
	be = pgproto3.NewBackend(tc, tc)
	be.SetMaxBodyLen(frontEndMaxMessage)
	return tc, be, nil
}

// login runs the digest login when the client is the digest user, and
// reports whether the session may go on to the server; a wrong digest is
// answered as Redshift (PostgreSQL) answers a wrong password, 28P01.
func (f *frontEnd) login(client net.Conn, be *pgproto3.Backend, startup *pgproto3.StartupMessage) bool {
	l := f.opts.Login
	if l != nil && l.IdP != nil && startup.Parameters["plugin_name"] != "" {
		return l.IdP.login(client, be, startup)
	}
	if l == nil || l.DigestUser == "" || startup.Parameters["user"] != l.DigestUser {
		return true
	}
	salt, serverNonce := make([]byte, 16), make([]byte, 32)
	rand.Read(salt)
	rand.Read(serverNonce)
	stored := sha256.Sum256(append([]byte(l.DigestPassword), salt...)) // what the server keeps

	req := []byte{'R', 0, 0, 0, 0}
	req = binary.BigEndian.AppendUint32(req, 13)
	req = binary.BigEndian.AppendUint32(req, uint32(l.Algorithm))
	req = binary.BigEndian.AppendUint32(req, uint32(len(salt)))
	req = append(req, salt...)
	req = binary.BigEndian.AppendUint32(req, uint32(len(serverNonce)))
	req = append(req, serverNonce...)
	binary.BigEndian.PutUint32(req[1:5], uint32(len(req)-1))
	if _, err := client.Write(req); err != nil {
		return false
	}
	msg, err := be.Receive()
	if err != nil {
		return false
	}
	if _, ok := msg.(*pgproto3.Terminate); ok {
		return false // a client that does not know the request hangs up (plain pgx), with or without Terminate
	}
	answer, ok := msg.(*pgproto3.CopyData) // 'd', as pgproto3 names it
	if !ok {
		f.fail(fmt.Errorf("digest login: the client answered with %T", msg))
		return false
	}
	digest, clientNonce, err := digestFields(answer.Data)
	if err != nil {
		f.fail(err)
		return false
	}
	h := sha256.New()
	h.Write(stored[:])
	h.Write(serverNonce)
	h.Write(clientNonce)
	if subtle.ConstantTimeCompare(h.Sum(nil), digest) != 1 {
		l.Refused.Add(1)
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "28P01",
			Message: fmt.Sprintf("password authentication failed for user %q", l.DigestUser)})
		_ = be.Flush()
		return false
	}
	l.Accepted.Add(1)
	return true
}

// digestFields reads the digest and the client nonce of a 'd' answer.
func digestFields(b []byte) (digest, nonce []byte, err error) {
	field := func() ([]byte, error) {
		if len(b) < 4 || uint64(binary.BigEndian.Uint32(b)) > uint64(len(b)-4) {
			return nil, errors.New("digest login: answer cut short")
		}
		n := binary.BigEndian.Uint32(b)
		f := b[4 : 4+n]
		b = b[4+n:]
		return f, nil
	}
	if digest, err = field(); err != nil {
		return nil, nil, err
	}
	if nonce, err = field(); err != nil {
		return nil, nil, err
	}
	if len(b) != 0 || len(digest) != sha256.Size || len(nonce) == 0 {
		return nil, nil, fmt.Errorf("digest login: answer of a %d-byte digest, a %d-byte nonce and %d bytes more", len(digest), len(nonce), len(b))
	}
	return digest, nonce, nil
}
