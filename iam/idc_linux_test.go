//go:build linux

package iam

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestIdCExchange: the AWS credentials are exchanged for a token through
// redshift's GetIdentityCenterAuthToken (ClusterIds) or
// redshift-serverless's (workgroupNames), signed with the DSN's keys; a
// refusal names the call and the target, and no error shows a key.
func TestIdCExchange(t *testing.T) {
	fake := harness.StartAWSFake(t, nil)
	for k, v := range fake.Env(t.TempDir()) {
		t.Setenv(k, v)
	}
	const keyID, secret, session = "ASIAIDCTEST000000001", `s3cr3t "idc" #;&?%={} key`, `sess1on 'tok' #;&?%={}`
	fake.AddKey(keyID, secret, session)
	fake.AllowIdC(keyID, "alice@example.com", func(user string, exp time.Time) string {
		return fmt.Sprintf("idc-token-for-%s-until-%d", user, exp.Unix())
	})
	n := &dsnparse.Native{Plugin: "IdpTokenAuthPlugin", IdPType: "AwsIdc", TokenType: "SUBJECT_TOKEN"}
	ctx := bounded(t)
	for _, d := range []dsnparse.IAM{
		{ClusterID: "etl-idc", Region: "us-east-1", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: session},
		{Workgroup: "wg-idc", Region: "us-east-1", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: session},
	} {
		src, err := newIdCSource(n, &d, nil)
		require.NoError(t, err)
		before := fake.Calls("GetIdentityCenterAuthToken")
		for range 3 {
			tok, err := src.Token(ctx)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(tok, "idc-token-for-alice@example.com-until-"), tok)
		}
		assert.Equal(t, before+1, fake.Calls("GetIdentityCenterAuthToken"), "cached")
		reqs := fake.Requests()
		last := reqs[len(reqs)-1]
		if d.Workgroup != "" {
			assert.Equal(t, "[wg-idc]", last.Get("workgroupNames"))
		} else {
			assert.Equal(t, "etl-idc", last.Get("ClusterIds.ClusterIdentifier.1"))
		}
		assert.Equal(t, keyID, last.Get(harness.FakeKeyParam))
	}

	fake.Fail("AccessDenied", "User is not authorized to perform: redshift:GetIdentityCenterAuthToken")
	d := dsnparse.IAM{ClusterID: "etl-denied", Region: "us-east-1", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: session}
	src, err := newIdCSource(n, &d, nil)
	require.NoError(t, err)
	_, err = src.Token(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redshift-ka: GetIdentityCenterAuthToken for cluster etl-denied: AccessDenied: ")
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, apiIdC, ae.FailedStep())
	for _, s := range []string{secret, session, "s3cr3t", "sess1on"} {
		assert.NotContains(t, err.Error(), s)
	}

	_, err = newIdCSource(n, &dsnparse.IAM{Region: "us-east-1"}, nil)
	require.ErrorContains(t, err, "needs the cluster")
}
