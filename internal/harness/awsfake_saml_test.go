//go:build linux

package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAWSFakeSAML: the AWS SDK's own STS client assumes a role with an
// assertion the signer signed, unsigned, and reads the answer; STS's
// refusals: a role the assertion does not pair with the principal, an
// unknown principal, another audience, an expired, unsigned or tampered
// assertion, a bad duration.
func TestAWSFakeSAML(t *testing.T) {
	fake := StartAWSFake(t, nil)
	const role, principal = "arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:saml-provider/IdP"
	s := NewSAMLSigner(t, "https://idp.example/saml", principal)
	fake.AllowSAML(s)
	client := sts.NewFromConfig(aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *sts.Options) { o.BaseEndpoint = aws.String(fake.URL) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assume := func(assertion, role, principal string, duration int32) (*sts.AssumeRoleWithSAMLOutput, error) {
		return client.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(principal),
			SAMLAssertion: aws.String(assertion), DurationSeconds: aws.Int32(duration)})
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode() + ": " + ae.ErrorMessage()
		}
		return fmt.Sprintf("no API error: %v", err)
	}
	good := SAMLClaims{Roles: []string{role, "arn:aws:iam::123456789012:role/other"}, RoleSessionName: "ann"}
	out, err := assume(s.Response(good), role, principal, 900)
	require.NoError(t, err)
	assert.Equal(t, "", fake.Requests()[0].Get(FakeKeyParam), "sent unsigned")
	assert.Equal(t, "ann", aws.ToString(out.Subject))
	assert.Equal(t, s.Issuer, aws.ToString(out.Issuer))
	id, secret, _ := fake.STSIssued()
	assert.Equal(t, id+" "+secret, aws.ToString(out.Credentials.AccessKeyId)+" "+aws.ToString(out.Credentials.SecretAccessKey))
	assert.WithinDuration(t, fake.Now().Add(900*time.Second), aws.ToTime(out.Credentials.Expiration), 5*time.Second)

	raw := s.Response(good)
	doc, _ := base64.StdEncoding.DecodeString(raw)
	tampered := base64.StdEncoding.EncodeToString(bytes.Replace(doc, []byte("role/other"), []byte("role/admin"), 1))
	other := SAMLClaims{Roles: []string{"arn:aws:iam::123456789012:role/r3"}, RoleSessionName: "ann"}
	expired, unsigned, audience := good, good, good
	expired.NotOnOrAfter = time.Now().Add(-time.Second)
	unsigned.Unsigned = true
	audience.Audience = "https://signin.example/saml"
	stranger := NewSAMLSigner(t, s.Issuer, principal)
	for _, tc := range []struct {
		name, assertion, role, principal string
		duration                         int32
		want                             string
	}{
		{"a role not in the assertion", s.Response(other), role, principal, 900, "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML"},
		{"an unknown principal", raw, role, "arn:aws:iam::123456789012:saml-provider/Other", 900, "InvalidIdentityToken: SAML provider arn:aws:iam::123456789012:saml-provider/Other does not exist"},
		{"expired", s.Response(expired), role, principal, 900, "ExpiredTokenException: Token expired"},
		{"unsigned", s.Response(unsigned), role, principal, 900, "InvalidIdentityToken: Invalid SAML response: the assertion's signature could not be verified"},
		{"tampered", tampered, "arn:aws:iam::123456789012:role/admin", principal, 900, "InvalidIdentityToken: Invalid SAML response: the assertion's signature could not be verified"},
		{"another key", stranger.Response(good), role, principal, 900, "InvalidIdentityToken: Invalid SAML response: the assertion's signature could not be verified"},
		{"another audience", s.Response(audience), role, principal, 900, "InvalidIdentityToken: Invalid SAML response: the audience is not urn:amazon:webservices"},
		{"a bad duration", raw, role, principal, 60, "ValidationError"},
	} {
		_, err := assume(tc.assertion, tc.role, tc.principal, tc.duration)
		assert.Contains(t, code(err), tc.want, tc.name)
	}
	assert.Equal(t, 9, fake.Calls("AssumeRoleWithSAML"))
}
