package iam

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// newSTS returns the client of the plugins' STS calls (AssumeRoleWithSAML,
// AssumeRoleWithWebIdentity): cfg's region, HTTP client (and proxy) and
// endpoint settings, with the DSN's StsEndpointUrl, if any, before
// AWS_ENDPOINT_URL_STS, as JDBC's RequestUtils.buildSts sets
// endpointOverride and ODBC's IAMSamlPluginCredentialsProvider does.
func newSTS(cfg aws.Config, endpoint string) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// withSTSEndpoint sends the STS calls of the SDK's own chain (a profile's
// role_arn, AWS_WEB_IDENTITY_TOKEN_FILE) to endpoint too, as ODBC's
// IAMProfileCredentialsProvider does: the SDK hands its STS client to
// these options, which swap it for one with the endpoint set.
func withSTSEndpoint(endpoint string, opts []func(*config.LoadOptions) error) []func(*config.LoadOptions) error {
	if endpoint == "" {
		return opts
	}
	swap := func(c any) (*sts.Client, bool) {
		client, ok := c.(*sts.Client)
		if !ok {
			return nil, false
		}
		o := client.Options()
		o.BaseEndpoint = aws.String(endpoint)
		return sts.New(o), true
	}
	return append(opts,
		config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			if c, ok := swap(o.Client); ok {
				o.Client = c
			}
		}),
		config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			if c, ok := swap(o.Client); ok {
				o.Client = c
			}
		}))
}
