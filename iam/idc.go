package iam

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftserverless"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// IdpTokenAuthPlugin without a token: AWS credentials exchanged for an
// IAM Identity Center token ("identity-enhanced credentials") through the
// Redshift API GetIdentityCenterAuthToken, ClusterIds [the cluster] for a
// provisioned cluster, redshift-serverless GetIdentityCenterAuthToken,
// workgroupNames [the workgroup] for Serverless; the token is sent with
// token_type SUBJECT_TOKEN. As redshift_connector
// plugin/idp_token_auth_plugin.py (_get_provisioned_auth_token,
// _get_serverless_auth_token) and core.py set_idc_plugins_params, and
// JDBC plugin/IdpTokenAuthPlugin.getSubjectToken with
// core/NativeAuthPluginHelper.

// The calls of the exchange.
const (
	apiIdC           = "GetIdentityCenterAuthToken"
	apiIdCServerless = "redshift-serverless GetIdentityCenterAuthToken"
)

// idcLifetime is the lifetime of a token whose answer has no
// ExpirationTime: JDBC IdpTokenAuthPlugin's DEFAULT_IDP_TOKEN_EXPIRY_IN_SEC.
const idcLifetime = 900 * time.Second

func init() {
	backend.NativeTokens["idptokenauthplugin"] = newIdC
}

// newIdC is the token source of IdpTokenAuthPlugin without a token: the
// exchange of n.AWS.
func newIdC(n *dsnparse.Native, logger *slog.Logger) (backend.TokenSource, error) {
	if !n.Exchange {
		return nil, errors.New("redshift-ka: " + n.Plugin + " needs token and token_type, or AWS credentials to exchange for a token")
	}
	a := n.AWS
	return newIdCSource(n, &dsnparse.IAM{ClusterID: a.ClusterID, Workgroup: a.Workgroup, Region: a.Region,
		AccessKeyID: a.AccessKeyID, SecretAccessKey: a.SecretAccessKey, SessionToken: a.SessionToken, EndpointURL: a.EndpointURL,
		HTTPSProxyHost: a.HTTPSProxyHost, HTTPSProxyPort: a.HTTPSProxyPort, HTTPSProxyUser: a.HTTPSProxyUser,
		HTTPSProxyPassword: a.HTTPSProxyPassword}, logger)
}

// newIdCSource returns the token source of n, an IdpTokenAuthPlugin login
// that exchanges the AWS credentials of d (its keys, Profile or the SDK's
// default chain, region, endpoint and proxy, loaded as for an IAM login)
// for a token; d names the cluster (ClusterID) or the workgroup. Tokens are
// cached process-wide (tokens.go).
func newIdCSource(n *dsnparse.Native, d *dsnparse.IAM, logger *slog.Logger) (backend.TokenSource, error) {
	if d.ClusterID == "" && d.Workgroup == "" {
		return nil, errors.New("redshift-ka: " + n.Plugin + " with AWS credentials needs the cluster (ClusterID, or a host " +
			"such as etl.abc123.us-east-1.redshift.amazonaws.com) or the Serverless workgroup, for GetIdentityCenterAuthToken")
	}
	cfg, region, err := loadConfig(d, logger)
	plan := backend.Plan{Method: "IdC", API: apiIdC, Cluster: d.ClusterID, Region: region, Plugin: n.Plugin,
		Profile: d.Profile, Endpoint: dsnparse.MaskURL(d.EndpointURL)}
	if d.Workgroup != "" {
		plan.API, plan.Cluster, plan.Workgroup = apiIdCServerless, "", d.Workgroup
	}
	if d.HTTPSProxyHost != "" {
		plan.Proxy = net.JoinHostPort(d.HTTPSProxyHost, strconv.Itoa(d.HTTPSProxyPort))
	}
	var c *clients
	if err == nil {
		c = newClients(cfg, d.EndpointURL)
	}
	fetch := func(ctx context.Context) (string, time.Time, error) {
		if err != nil {
			return "", time.Time{}, err
		}
		return c.identityCenterToken(ctx, plan)
	}
	return cachedTokens(plan, nil, tokenKey(n, rawIAM(*d), plan), logger, fetch), nil
}

// identityCenterToken calls the plan's API for the token of its cluster
// or workgroup.
func (c *clients) identityCenterToken(ctx context.Context, p backend.Plan) (string, time.Time, error) {
	var token *string
	var exp *time.Time
	if p.Workgroup != "" {
		out, err := c.rss.GetIdentityCenterAuthToken(ctx, &redshiftserverless.GetIdentityCenterAuthTokenInput{WorkgroupNames: []string{p.Workgroup}})
		if err != nil {
			return "", time.Time{}, err
		}
		token, exp = out.Token, out.ExpirationTime
	} else {
		out, err := c.rs.GetIdentityCenterAuthToken(ctx, &redshift.GetIdentityCenterAuthTokenInput{ClusterIds: []string{p.Cluster}})
		if err != nil {
			return "", time.Time{}, err
		}
		token, exp = out.Token, out.ExpirationTime
	}
	if aws.ToString(token) == "" {
		return "", time.Time{}, errors.New("the answer holds no token")
	}
	if exp == nil {
		return *token, clock.Now().Add(idcLifetime), nil
	}
	return *token, *exp, nil
}
