package driver

import "crypto/tls"

// allowRenegotiation lets a TLS 1.2 connection accept the server's
// renegotiations, as lib/pq does for Amazon Redshift, unless tc already
// says otherwise. It changes tc, which pgx made for this configuration.
func allowRenegotiation(tc *tls.Config) *tls.Config {
	if tc != nil && tc.Renegotiation == tls.RenegotiateNever {
		tc.Renegotiation = tls.RenegotiateFreelyAsClient
	}
	return tc
}
