// Package iam logs in to Amazon Redshift with temporary credentials from
// the Redshift API, as Amazon's ODBC, JDBC and Python drivers do for a DSN
// with IAM=1. Import it for its side effect, next to the driver:
//
//	import (
//		_ "github.com/redshift-ka/redshift-ka/driver"
//		_ "github.com/redshift-ka/redshift-ka/iam"
//	)
//
//	db, err := sql.Open("redshift-ka",
//		"Server=etl-prod.abc123.eu-west-1.redshift.amazonaws.com;Database=dev;IAM=1;DbUser=etl;DbGroups=loaders")
//
// It works the same for the lib/pq backend (driver/pq), for
// driver.ParseConfig with pgx.ConnectConfig, for driver.ParsePoolConfig
// with pgxpool, and for odbc.ini data sources with IAM = 1. Without the
// import, a DSN that asks for IAM fails at sql.Open with
// [github.com/redshift-ka/redshift-ka/driver.ErrNoIAM]: programs that do not
// use IAM do not link the AWS SDK. See
// [github.com/redshift-ka/redshift-ka/dsnparse.IAM] for the DSN keys.
//
// # The call
//
// The AWS SDK for Go v2 loads the AWS configuration
// (config.LoadDefaultConfig): the environment, the shared config and
// credentials files with the DSN's Profile, web identity, container and
// instance roles; AccessKeyID, SecretAccessKey and SessionToken in the DSN
// take the place of that chain, and Region that of the SDK's region. Then:
//
//   - with a cluster and a DbUser: redshift GetClusterCredentials
//     (ClusterIdentifier, DbUser, DbGroups, AutoCreate, DurationSeconds);
//   - with a cluster and no DbUser: GetClusterCredentialsWithIAM, which logs
//     in as the IAM identity's own database user;
//   - with a serverless workgroup: redshift-serverless GetCredentials.
//
// The connection logs in as the user the API returns ("IAM:etl") with the
// password it issued. The endpoint is the SDK's, which
// AWS_ENDPOINT_URL_REDSHIFT, AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS and
// AWS_ENDPOINT_URL override, and the DSN's EndpointUrl overrides both.
//
// # TLS
//
// An IAM login requires TLS, as Amazon's drivers do: a DSN without sslmode
// connects with sslmode=verify-ca, which checks the server's certificate
// against sslrootcert, or the system's roots without it; sslmode disable,
// allow or prefer, and JDBC's ssl=false, fail at sql.Open with
// [github.com/redshift-ka/redshift-ka/dsnparse.ErrTLSRequired], before any
// AWS call. The issued password never travels in plain text.
//
// # Caching
//
// The credentials are cached once per process and request: every
// connector (sql.Open's database, a ParseConfig or ParsePoolConfig
// configuration, Driver.Open) whose DSN asks for the same call (API,
// cluster or workgroup, user, groups, region, every other IAM key, and the
// AWS environment that selects the credentials and the endpoint) shares
// one call, as Amazon's drivers share theirs, and any number of
// connections dialed at once wait for it. IAMDisableCache=1
// (iam_disable_cache, DisableCache) gives the connector a cache of its
// own: one call per connector.
//
// A tenth of their lifetime (at most a minute) before the credentials
// expire, or at the refresh time the API suggests if sooner (one in the
// past is not honoured), the next new connection starts one renewal in the
// background and logs in with the current credentials meanwhile: a slow
// or failed renewal neither delays nor fails a connection while they are
// valid (a failed one is logged at warning level and tried again an
// eighth of that margin later). Within a quarter of the margin of their
// expiration, new connections wait for new credentials. A failed call is
// not cached: the next connection calls again. Open connections are not
// affected by the expiration: the server checks the password only at
// login. Nothing runs between connections: a renewal is a call in
// progress, bounded by a minute.
//
// # Errors
//
// A failed call gives an [*Error] that names the API, the cluster or
// workgroup, AWS's error code and message and the request id:
//
//	redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: User: ... is not authorized ... (request id 4d1c...)
//
// An endpoint that does not answer gives the same error with the
// context's error in place of AWS's, within the connect timeout.
// No error, log line (driver.WithLogger) or report shows the secret access
// key, the session token or the password issued.
package iam
