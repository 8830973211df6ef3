package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
)

// apiDescribeDomain is the call that finds a custom domain's cluster.
const apiDescribeDomain = "DescribeCustomDomainAssociations"

// describeDomain asks which cluster the custom domain name is associated
// with, as Amazon's drivers do before logging in through one (JDBC
// IamHelper.callDescribeCustomDomainNameAssociationsAPIForV1, ODBC
// RsIamClient::SendClusterCredentialsRequest, redshift_connector
// IamHelper.set_cluster_identifier): the first certificate association
// that names domain, else the first of all.
func describeDomain(ctx context.Context, c *redshift.Client, domain string) (string, error) {
	out, err := c.DescribeCustomDomainAssociations(ctx, &redshift.DescribeCustomDomainAssociationsInput{
		CustomDomainName: aws.String(domain),
	})
	if err != nil {
		return "", err
	}
	first := ""
	for _, a := range out.Associations {
		for _, ca := range a.CertificateAssociations {
			id := aws.ToString(ca.ClusterIdentifier)
			if id == "" {
				continue
			}
			if strings.EqualFold(aws.ToString(ca.CustomDomainName), domain) {
				return id, nil
			}
			if first == "" {
				first = id
			}
		}
	}
	if first == "" {
		return "", errors.New("no association for the custom domain")
	}
	return first, nil
}
