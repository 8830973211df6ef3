package iam

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// TestWebIdentityPlanAndError: the plan names the plugin and the role; a
// failure of the STS step names it and the role, and an error that quotes
// the token (as no STS error should) prints it masked.
func TestWebIdentityPlanAndError(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const token = `tok #;&?%={} "en"`
	d := dsnparse.IAM{ClusterID: "c", DbUser: "u", Region: "eu-west-1",
		WebIdentity: dsnparse.WebIdentity{Token: token, RoleARN: "arn:aws:iam::1:role/r", RoleSessionName: "s"}}
	bl, err := newLogin(&d, nil)
	require.NoError(t, err)
	l := bl.(*login)
	p := l.Plan()
	assert.Equal(t, "JwtIamAuthPlugin arn:aws:iam::1:role/r GetClusterCredentials", p.Plugin+" "+p.Role+" "+p.API)
	// The plan is what check and the logs print (a *login prints its
	// web identity as a pointer, so printing it proves nothing).
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", p, p, p), "tok")

	cause := errors.New("bad token " + token)
	err = l.wrap(webIdentityError{cause})
	assert.Equal(t, "redshift-ka: STS AssumeRoleWithWebIdentity for role arn:aws:iam::1:role/r, for cluster c: bad token xxxxx", err.Error())
	assert.ErrorIs(t, err, cause)
	err = l.wrap(errors.New("later: " + token))
	assert.Equal(t, "redshift-ka: GetClusterCredentials for cluster c: later: xxxxx", err.Error())
}
