package dsnparse

import (
	"encoding/json"
	"fmt"
)

// IAM is the login through AWS IAM that a DSN asks for: IAM=1 in an ODBC
// string or odbc.ini data source, iam=true (redshift_connector's key) in a
// URL or key=value DSN, or a jdbc:redshift:iam:// URL. The database user
// and password are then temporary ones that the Redshift API issues;
// [DSN.IAM] is nil for a DSN that does not ask for it. Logging in needs the
// package github.com/redshift-ka/redshift-ka/iam.
//
// It holds secrets (SecretAccessKey, SessionToken): it prints, and encodes
// to JSON, with them masked.
type IAM struct {
	// ClusterID names the provisioned cluster, for GetClusterCredentials;
	// taken from the host name (<cluster>.<id>.<region>.redshift.amazonaws.com)
	// when the DSN does not give it.
	ClusterID string
	// Workgroup names the Redshift Serverless workgroup, for
	// redshift-serverless GetCredentials; taken from a serverless
	// endpoint's host name (<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com)
	// when the DSN does not give it.
	Workgroup string
	// Region is the AWS region; taken from the host name when the DSN does
	// not give it, else the AWS SDK's (AWS_REGION, the shared config).
	Region string
	// DbUser is the database user to log in as: the DSN's DbUser, else its
	// user (user, UID, a URL's user info), as the JDBC driver and
	// redshift_connector take it; empty when the DSN gives neither: the IAM
	// identity's own (GetClusterCredentialsWithIAM).
	DbUser string
	// DbGroups are the database groups the user joins for the session.
	DbGroups []string
	// AutoCreate creates DbUser if it does not exist.
	AutoCreate bool
	// DurationSeconds asks for credentials valid this long, 900..3600
	// (IAMDuration); 0: the API's default (900 s).
	DurationSeconds int
	// Profile names a profile of the shared AWS config and credentials
	// files; empty: the SDK's default chain.
	Profile string
	// AccessKeyID, SecretAccessKey and SessionToken are static AWS
	// credentials; empty: the SDK's default chain (environment, shared
	// files, web identity, container and instance roles).
	AccessKeyID, SecretAccessKey, SessionToken string
	// EndpointURL overrides the Redshift (or Redshift Serverless) API
	// endpoint, as ODBC's EndpointUrl does; empty: the SDK's, which
	// AWS_ENDPOINT_URL_REDSHIFT and friends override.
	EndpointURL string
	// DisableCache turns off the process's credentials cache
	// (IAMDisableCache, iam_disable_cache, DisableCache): the connector
	// then caches its credentials for its own connections only, and calls
	// the API once for itself.
	DisableCache bool
}

// Format prints i, for every verb, with SecretAccessKey and SessionToken
// masked as "xxxxx".
func (i IAM) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedIAM(i.masked()))
}

// MarshalJSON encodes i with SecretAccessKey and SessionToken masked.
func (i IAM) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedIAM(i.masked()))
}

// redactedIAM is an IAM without its methods, to print one field by field.
type redactedIAM IAM

// masked returns i with its secrets, where set, replaced by the mask.
func (i IAM) masked() IAM {
	if i.SecretAccessKey != "" {
		i.SecretAccessKey = mask
	}
	if i.SessionToken != "" {
		i.SessionToken = mask
	}
	i.DbGroups = append([]string(nil), i.DbGroups...)
	return i
}
