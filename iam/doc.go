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
// # Caching
//
// A connector (sql.Open's database, a ParseConfig or ParsePoolConfig
// configuration) calls the API once and shares the credentials among all
// its connections: any number of connections dialed at once wait for one
// call. A new connection gets new credentials once the cached ones are
// within a tenth of their lifetime (at most a minute) of their expiration,
// or past the refresh time the API suggests. A failed call is not cached:
// the next connection calls again. Open connections are not affected by
// the expiration: the server checks the password only at login.
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
