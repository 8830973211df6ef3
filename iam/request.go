package iam

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftserverless"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// request is what one IAM login asks AWS for. Every field changes the
// answer (which API, for what, as whom, with which AWS identity), so a
// cache of credentials is keyed by the whole struct; it is comparable.
type request struct {
	// API is apiCluster, apiClusterIAM or apiServerless.
	API string
	// Cluster is the cluster identifier (ClusterID, from the host, or
	// from the JDBC URL); empty for Serverless or for a custom domain
	// whose cluster DescribeCustomDomainAssociations gives.
	Cluster string
	// Workgroup is the Serverless workgroup.
	Workgroup string
	// CustomDomain is the DSN's host when it is a custom domain name.
	CustomDomain string
	// DbUser, DbGroups (comma-joined, lower-cased with ForceLowercase)
	// and AutoCreate: GetClusterCredentials only.
	DbUser, DbGroups string
	AutoCreate       bool
	// DbName is the database the credentials are for.
	DbName string
	// DurationSeconds is the lifetime asked for; 0: the API's default.
	DurationSeconds int32
	// Region, Endpoint, Profile and AccessKeyID say where the call goes
	// and which AWS identity signs it (the secret key goes with the id).
	Region, Endpoint, Profile, AccessKeyID string
	// LookupEndpoint is true when the DSN names no host.
	LookupEndpoint bool
}

// newRequest builds the request of a DSN's IAM login as Amazon's drivers
// choose the API: Serverless (a workgroup, or Serverless=true with a custom
// domain) calls redshift-serverless GetCredentials; a provisioned cluster
// calls GetClusterCredentialsWithIAM exactly when group_federation is true,
// else GetClusterCredentials (ODBC RsIamClient::Connect, JDBC
// IamHelper.findTypeOfGetClusterCredentialsAPI, redshift_connector
// IamHelper.get_cluster_credentials_api_type).
func newRequest(d *dsnparse.IAM, region string) request {
	r := request{
		Cluster: d.ClusterID, Workgroup: d.Workgroup, CustomDomain: d.CustomDomain, DbName: d.DbName,
		DurationSeconds: int32(d.DurationSeconds), Region: region, Endpoint: d.EndpointURL,
		Profile: d.Profile, AccessKeyID: d.AccessKeyID, LookupEndpoint: d.LookupEndpoint,
	}
	switch {
	case d.Workgroup != "" || d.Serverless:
		r.API = apiServerless
		if d.Workgroup != "" {
			// redshift_connector IamHelper.set_cluster_credentials: a
			// workgroup given is sent in place of the custom domain.
			r.CustomDomain = ""
		}
	case d.GroupFederation:
		r.API = apiClusterIAM
	default:
		r.API = apiCluster
		r.DbUser, r.DbGroups, r.AutoCreate = d.DbUser, strings.Join(d.DbGroups, ","), d.AutoCreate
	}
	return r
}

// plan is what the request asks, for Plan and the logs.
func (r request) plan(d *dsnparse.IAM) backend.Plan {
	p := backend.Plan{
		Method: "IAM", API: r.API, Cluster: r.Cluster, Workgroup: r.Workgroup, Region: r.Region,
		DbUser: r.DbUser, AutoCreate: r.AutoCreate, DurationSeconds: int(r.DurationSeconds),
		Profile: r.Profile, Endpoint: dsnparse.MaskURL(r.Endpoint), CustomDomain: r.CustomDomain, DbName: r.DbName,
		STSEndpoint: dsnparse.MaskURL(d.STSEndpointURL),
	}
	if r.DbGroups != "" {
		p.DbGroups = strings.Split(r.DbGroups, ",")
	}
	if r.LookupEndpoint {
		p.Lookup = apiDescribeClusters
		if r.API == apiServerless {
			p.Lookup = apiGetWorkgroup
		}
	}
	if d.WebIdentity.RoleARN != "" {
		p.Plugin, p.Role = pluginWebIdentity, d.WebIdentity.RoleARN
	}
	if d.SAML.Plugin != "" {
		p.Plugin, p.Role = d.SAML.Plugin, d.SAML.PreferredRole
	}
	if d.HTTPSProxyHost != "" {
		p.Proxy = net.JoinHostPort(d.HTTPSProxyHost, strconv.Itoa(d.HTTPSProxyPort))
	}
	return p
}

// withHTTPClient gives the AWS configuration an HTTP client that dials a
// new connection for each API call, through the DSN's HTTPS proxy if any.
//
// Each call comes minutes apart (a login, a renewal) or after a lost
// database connection, which is when a connection kept open from the last
// call is likeliest to be dead: a NAT gateway or firewall that forgot its
// idle flow, or a network path that broke, drops the request written on it
// without a reset, and the call waits unanswered until the connect's
// deadline. A new connection costs a handshake per call; a dead path then
// fails the dial, or the dial waits for the path to come back.
//
// The proxy is set as ODBC's RsIamClient sets proxyHost, proxyPort,
// proxyUserName and proxyPassword on the AWS client's configuration. The
// proxy's password goes only into the Proxy-Authorization header.
func withHTTPClient(d *dsnparse.IAM, opts []func(*config.LoadOptions) error) []func(*config.LoadOptions) error {
	var proxy *url.URL
	if d.HTTPSProxyHost != "" {
		proxy = &url.URL{Scheme: "http", Host: net.JoinHostPort(d.HTTPSProxyHost, strconv.Itoa(d.HTTPSProxyPort))}
		if d.HTTPSProxyUser != "" || d.HTTPSProxyPassword != "" {
			proxy.User = url.UserPassword(d.HTTPSProxyUser, d.HTTPSProxyPassword)
		}
	}
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DisableKeepAlives = true
		if proxy != nil {
			tr.Proxy = http.ProxyURL(proxy)
		}
	})
	return append(opts, config.WithHTTPClient(client))
}

// clients are the API clients of one login.
type clients struct {
	rs  *redshift.Client
	rss *redshiftserverless.Client

	mu      sync.Mutex
	cluster string // the cluster DescribeCustomDomainAssociations gave
	cname   bool   // send CustomDomainName: the domain is known to AWS
	domain  bool   // the domain's cluster has been asked for
}

func newClients(cfg aws.Config, endpoint string) *clients {
	return &clients{
		rs: redshift.NewFromConfig(cfg, func(o *redshift.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}),
		rss: redshiftserverless.NewFromConfig(cfg, func(o *redshiftserverless.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}),
	}
}

// call asks the API for credentials: the time they should be renewed at
// (zero: the API suggests none) comes with them.
func (r request) call(ctx context.Context, c *clients) (backend.Credentials, time.Time, error) {
	var duration *int32
	if r.DurationSeconds > 0 {
		duration = aws.Int32(r.DurationSeconds)
	}
	dbName := optional(r.DbName)
	if r.API == apiServerless {
		// JDBC ServerlessIamHelper.getCredentialsResult, ODBC
		// RsIamClient::SendServerlessCredentialsRequest.
		in := &redshiftserverless.GetCredentialsInput{DbName: dbName, DurationSeconds: duration}
		if r.Workgroup != "" {
			in.WorkgroupName = aws.String(r.Workgroup)
		} else {
			in.CustomDomainName = aws.String(r.CustomDomain)
		}
		out, err := c.rss.GetCredentials(ctx, in)
		if err != nil {
			return backend.Credentials{}, time.Time{}, err
		}
		return issued(out.DbUser, out.DbPassword, out.Expiration), aws.ToTime(out.NextRefreshTime), nil
	}
	cluster, cname, err := c.target(ctx, r)
	if err != nil {
		return backend.Credentials{}, time.Time{}, err
	}
	// With a custom domain known to AWS, the call names it; if that
	// fails, it is made again with the cluster identifier (JDBC
	// IamHelper.getClusterCredentialsResult, redshift_connector
	// IamHelper.set_cluster_credentials).
	if r.API == apiClusterIAM {
		in := &redshift.GetClusterCredentialsWithIAMInput{DbName: dbName, DurationSeconds: duration}
		do := func() (backend.Credentials, time.Time, error) {
			out, err := c.rs.GetClusterCredentialsWithIAM(ctx, in)
			if err != nil {
				return backend.Credentials{}, time.Time{}, err
			}
			return issued(out.DbUser, out.DbPassword, out.Expiration), aws.ToTime(out.NextRefreshTime), nil
		}
		if cname {
			in.CustomDomainName = aws.String(r.CustomDomain)
			if cr, next, err := do(); err == nil || cluster == "" || ctx.Err() != nil {
				return cr, next, err
			}
			in.CustomDomainName = nil
		}
		in.ClusterIdentifier = aws.String(cluster)
		return do()
	}
	in := &redshift.GetClusterCredentialsInput{DbUser: aws.String(r.DbUser), DbName: dbName, DurationSeconds: duration}
	if r.DbGroups != "" {
		in.DbGroups = strings.Split(r.DbGroups, ",")
	}
	if r.AutoCreate {
		in.AutoCreate = aws.Bool(true)
	}
	do := func() (backend.Credentials, time.Time, error) {
		out, err := c.rs.GetClusterCredentials(ctx, in)
		if err != nil {
			return backend.Credentials{}, time.Time{}, err
		}
		return issued(out.DbUser, out.DbPassword, out.Expiration), time.Time{}, nil
	}
	if cname {
		in.CustomDomainName = aws.String(r.CustomDomain)
		if cr, next, err := do(); err == nil || cluster == "" || ctx.Err() != nil {
			return cr, next, err
		}
		in.CustomDomainName = nil
	}
	in.ClusterIdentifier = aws.String(cluster)
	return do()
}

// optional is nil for "", else s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// domainError is the error of DescribeCustomDomainAssociations for a
// custom domain without a ClusterID to fall back on.
type domainError struct{ err error }

func (e domainError) Error() string { return e.err.Error() + " (and the DSN gives no ClusterID)" }
func (e domainError) Unwrap() error { return e.err }

// target returns the cluster identifier of a provisioned request, and
// whether to name the custom domain, asking for the custom domain's
// cluster once per login.
func (c *clients) target(ctx context.Context, r request) (cluster string, cname bool, err error) {
	if r.CustomDomain == "" {
		return r.Cluster, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.domain {
		cl, err := describeDomain(ctx, c.rs, r.CustomDomain)
		switch {
		case err == nil:
			c.cluster, c.cname = cl, true
		case r.Cluster == "":
			return "", false, domainError{err}
		}
		c.domain = true
	}
	if c.cluster != "" {
		return c.cluster, c.cname, nil
	}
	return r.Cluster, c.cname, nil
}
