package pq

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDigestLogin is the error, wrapped, of a lib/pq connection to an
// Amazon Redshift server that asks for its SHA-256 digest login
// (authentication code 13, answered by Amazon's own drivers: redshift_connector
// core.py handle_AUTHENTICATION_REQUEST, JDBC ConnectionFactoryImpl
// doAuthentication). lib/pq does not know the login, and it speaks TLS
// itself, so the socket redshift-ka gives it carries only ciphertext: the
// backend cannot answer in its place. The pgx driver, "redshift-ka", does.
var ErrDigestLogin = errors.New(`redshift-ka-pq: the server asked for Amazon Redshift's SHA-256 digest login (authentication code 13), which lib/pq cannot answer; use the pgx driver "redshift-ka"`)

// lib/pq's error for a login it does not know, with code 13
// (lib/pq conn.go (*conn).auth and internal/proto AuthCode.String).
const pqUnknownDigest = "unknown authentication response: <unknown> (13)"

// digestRefused names the digest login, and the driver that answers it, in
// place of lib/pq's error for it; it returns other errors as they are.
func digestRefused(err error) error {
	if err == nil || !strings.Contains(err.Error(), pqUnknownDigest) {
		return err
	}
	return fmt.Errorf("%w (lib/pq: %v)", ErrDigestLogin, err)
}
