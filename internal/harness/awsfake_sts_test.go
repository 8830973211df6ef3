//go:build linux

package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAWSFakeWebIdentity: the AWS SDK's own STS client assumes a role at
// the fake with a token the test's issuer signed, unsigned; the keys it
// gets sign a Redshift call the fake accepts, with their session token
// and until they expire. A bad token or role is refused with STS's codes.
func TestAWSFakeWebIdentity(t *testing.T) {
	fake := StartAWSFake(t, nil)
	const role, aud = "arn:aws:iam::123456789012:role/r", "sts.amazonaws.com"
	oidc := NewFakeOIDC(t, "https://issuer.example")
	fake.AllowWebIdentity(role, oidc, aud)
	// Credentials the client would sign with: the call goes unsigned all
	// the same, as the SDK gives AssumeRoleWithWebIdentity no signature.
	cfg := aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider("AKIAFAKESTATIC", "static-secret", "")}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(fake.URL) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assume := func(token, role string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(token), DurationSeconds: aws.Int32(900)})
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprintf("no API error: %v", err)
	}

	before := fake.Now()
	out, err := assume(oidc.Token(aud, "sub1", fake.Now().Add(time.Hour), nil), role)
	require.NoError(t, err)
	after := fake.Now()
	assert.Equal(t, "", fake.Requests()[0].Get(FakeKeyParam), "sent unsigned")
	assert.Equal(t, "sub1", aws.ToString(out.SubjectFromWebIdentityToken))
	c := out.Credentials
	exp := aws.ToTime(c.Expiration)
	assert.False(t, exp.Before(before.Add(900*time.Second).Truncate(time.Second)) || exp.After(after.Add(900*time.Second)),
		"expiration %s, want 900 s after the call (%s..%s)", exp, before, after)

	rs := func(token string) error {
		r := redshift.NewFromConfig(aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} },
			Credentials: credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, token)},
			func(o *redshift.Options) { o.BaseEndpoint = aws.String(fake.URL) })
		_, err := r.GetClusterCredentials(ctx, &redshift.GetClusterCredentialsInput{ClusterIdentifier: aws.String("c"), DbUser: aws.String("u")})
		return err
	}
	require.NoError(t, rs(*c.SessionToken), "STS's keys sign a Redshift call")
	assert.Equal(t, "SignatureDoesNotMatch", code(rs("")), "without the session token")
	fake.Advance(t, 901*time.Second)
	assert.Equal(t, "ExpiredToken", code(rs(*c.SessionToken)), "once expired")

	now := fake.Now()
	for _, c := range []struct{ name, token, role, code string }{
		{"expired", oidc.Token(aud, "s", now.Add(-time.Second), nil), role, "ExpiredTokenException"},
		{"audience", oidc.Token("other", "s", now.Add(time.Hour), nil), role, "InvalidIdentityToken"},
		{"issuer", NewFakeOIDC(t, "https://issuer.example").Token(aud, "s", now.Add(time.Hour), nil), role, "InvalidIdentityToken"},
		{"not a JWT", "a.b", role, "InvalidIdentityToken"},
		{"role", oidc.Token(aud, "s", now.Add(time.Hour), nil), role + "x", "AccessDenied"},
	} {
		_, err := assume(c.token, c.role)
		require.Error(t, err, c.name)
		assert.Equal(t, c.code, code(err), c.name)
		assert.False(t, strings.Contains(err.Error(), c.token), c.name)
	}
}
