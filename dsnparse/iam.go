package dsnparse

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// IAM is the login through AWS IAM that a DSN asks for: IAM=1 in an ODBC
// string or odbc.ini data source, iam=true (redshift_connector's key) in a
// URL or key=value DSN, or a jdbc:redshift:iam:// URL. The database user
// and password are then temporary ones that the Redshift API issues;
// [DSN.IAM] is nil for a DSN that does not ask for it. Logging in needs the
// package github.com/redshift-ka/redshift-ka/iam.
//
// It holds secrets (SecretAccessKey, SessionToken, WebIdentity.Token, the
// SAML login's): it prints, and encodes to JSON, with them masked.
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
	// AWS_ENDPOINT_URL_REDSHIFT and friends override. It prints with any
	// user info masked.
	EndpointURL string
	// STSEndpointURL (StsEndpointUrl) overrides the STS endpoint of the
	// plugins' AssumeRoleWithWebIdentity and AssumeRoleWithSAML, as
	// Amazon's JDBC and ODBC drivers do; empty: the SDK's, which
	// AWS_ENDPOINT_URL_STS overrides. It prints with any user info masked.
	STSEndpointURL string
	// GroupFederation (group_federation, groupFederation) logs in to a
	// provisioned cluster with GetClusterCredentialsWithIAM, as the IAM
	// identity's own user with its groups; false: GetClusterCredentials
	// as DbUser. Serverless always calls GetCredentials.
	GroupFederation bool
	// ForceLowercase lower-cases DbGroups, as JDBC and ODBC do.
	ForceLowercase bool
	// Serverless (Serverless, isServerless, is_serverless) says the host
	// is a Redshift Serverless custom domain name when the DSN gives no
	// Workgroup.
	Serverless bool
	// DbName is the DSN's database, sent to the API (DbName, dbName) so
	// that the credentials are for that database only; empty: not sent.
	DbName string
	// CustomDomain is the DSN's host when it is a name but not a
	// Redshift endpoint's: a custom domain name (a CNAME) or a load
	// balancer's name. The login asks DescribeCustomDomainAssociations
	// for its cluster and sends it as CustomDomainName (customDomainName
	// for Serverless). Empty for an endpoint name or an IP address.
	CustomDomain string
	// LookupEndpoint is true when the DSN names no host: the login looks
	// the endpoint up (DescribeClusters, or redshift-serverless
	// GetWorkgroup) and the connection goes there. The DSN handed to pgx
	// or lib/pq then names the host LookupHost.
	LookupEndpoint bool
	// HTTPSProxyHost, HTTPSProxyPort, HTTPSProxyUser and
	// HTTPSProxyPassword (ODBC's https_proxy_host, https_proxy_port,
	// https_proxy_username, https_proxy_password) send the AWS API calls
	// through an HTTP proxy, not the database connection.
	HTTPSProxyHost     string
	HTTPSProxyPort     int
	HTTPSProxyUser     string
	HTTPSProxyPassword string
	// DisableCache turns off the process's credentials cache
	// (IAMDisableCache, iam_disable_cache, DisableCache): the connector
	// then caches its credentials for its own connections only, and calls
	// the API once for itself.
	DisableCache bool
	// WebIdentity is the web identity whose role gives the AWS
	// credentials (plugin_name=JwtIamAuthPlugin); zero: none.
	WebIdentity WebIdentity
	// SAML is the identity-provider login whose SAML assertion gives the
	// AWS credentials (plugin_name=OktaCredentialsProvider, ...); zero:
	// none. DbUser, DbGroups and AutoCreate may then come from the
	// assertion.
	SAML SAML
}

// LookupHost is the host name that stands for the endpoint a DSN without
// a host looks up ([IAM.LookupEndpoint]): "<cluster or workgroup>.invalid",
// a name that never resolves (RFC 2606).
func (i *IAM) LookupHost() string {
	name := i.ClusterID
	if name == "" {
		name = i.Workgroup
	}
	return name + ".invalid"
}

// Format prints i, for every verb, with its secrets (SecretAccessKey,
// SessionToken, HTTPSProxyPassword, WebIdentity.Token, SAML.Password,
// SAML.ClientSecret, SAML.Assertion) masked as "xxxxx".
func (i IAM) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), redactedIAM(i.masked()))
}

// MarshalJSON encodes i with its secrets masked, as Format prints them.
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
	if i.HTTPSProxyPassword != "" {
		i.HTTPSProxyPassword = mask
	}
	i.WebIdentity = i.WebIdentity.masked()
	i.SAML = i.SAML.masked()
	i.EndpointURL = MaskURL(i.EndpointURL)
	i.STSEndpointURL = MaskURL(i.STSEndpointURL)
	i.DbGroups = append([]string(nil), i.DbGroups...)
	return i
}

// MaskURL returns u with its user info, if any, masked;
// a URL that does not parse, but holds an '@', is masked whole.
func MaskURL(u string) string {
	if !strings.Contains(u, "@") {
		return u
	}
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return mask
	}
	p.User = url.User(mask)
	return p.String()
}
