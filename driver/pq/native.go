package pq

import "errors"

// ErrNativeLogin is the error, at sql.Open and [NewConnector], of a DSN that
// asks for Amazon Redshift's native identity-provider login (plugin_name
// BasicJwtCredentialsProvider, JWT or IdpTokenAuthPlugin): the server then
// asks for the token (authentication code 14), which lib/pq cannot answer,
// over TLS or without. The pgx driver, "redshift-ka", answers it.
var ErrNativeLogin = errors.New(`redshift-ka-pq: the DSN asks for Amazon Redshift's native identity-provider login (plugin_name), whose token request (authentication code 14) lib/pq cannot answer; use the pgx driver "redshift-ka"`)
