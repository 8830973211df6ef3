package dsnparse

// iamTLSModes are the sslmode values an IAM login accepts: those that
// always encrypt. Amazon's drivers refuse IAM without TLS: ODBC
// RsIamClient::ValidateConnectionAttributes accepts require, verify-ca and
// verify-full ("IAM Authentication requires SSL connection."), JDBC's
// RedshiftConnectionImpl constructor refuses ssl=false ("SSL should be
// enable in IAM authentication.") and setAuthMech any sslmode but
// verify-ca and verify-full, redshift_connector's connect refuses
// ssl=False ("SSL must be enabled when using IAM").
var iamTLSModes = map[string]bool{"require": true, "verify-ca": true, "verify-full": true}

// iamDefaultTLS is what an IAM login gets without sslmode: verify-ca, the
// default of all three drivers (ODBC RS_CONNECT_PROPS in rsodbc.h,
// JDBC setAuthMech, redshift_connector RedshiftProperty.sslmode and
// IdpAuthHelper.set_auth_properties). pgx and lib/pq verify the server's
// certificate against sslrootcert, or the system's roots without it.
const iamDefaultTLS = "sslmode=" + iamDefaultTLSMode

const iamDefaultTLSMode = "verify-ca"

// sawSSLMode records a key that sets sslmode, as written, its value as
// written, and the mode it stands for. A key=value or URL DSN may give
// sslmode more than once, and pgx reads the last where lib/pq may read
// the first: the first is kept, and so is the first that does not always
// encrypt, which iamTLS refuses whichever the backend reads.
func (c *collector) sawSSLMode(key, raw, mode string) {
	if c.sslKey == "" {
		c.sslKey, c.sslRaw, c.sslMode = key, raw, mode
	}
	if !iamTLSModes[mode] && c.sslBadKey == "" {
		c.sslBadKey, c.sslBadRaw = key, raw
	}
}

// iamTLS checks, for a DSN with an IAM login, that the connection is
// encrypted, at parse time, before any AWS call: a DSN without sslmode
// gets iamDefaultTLS (add is true: the caller adds it to what it hands on),
// and disable, allow, prefer (which may fall back to plain text) or any
// other value is refused with an error that names the key.
func (c *collector) iamTLS(iam *IAM) (add bool, err error) {
	switch {
	case iam == nil:
		return false, nil
	case c.sslKey == "":
		return true, nil
	case c.sslBadKey == "":
		return false, nil
	}
	return false, valueError(c.sslBadKey, c.sslBadRaw, ErrTLSRequired,
		"IAM login requires TLS, as Amazon's drivers do: want sslmode require, verify-ca or verify-full (absent: verify-ca), got ")
}
