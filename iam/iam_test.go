package iam

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// stubLogin is a login whose call counts and answers from issue.
func stubLogin(issue func(n int32) (backend.Credentials, error), calls *atomic.Int32, delay time.Duration) *login {
	return &login{plan: backend.Plan{API: apiCluster, Cluster: "etl-prod"}, call: func(ctx context.Context) (backend.Credentials, time.Time, error) {
		n := calls.Add(1)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return backend.Credentials{}, time.Time{}, ctx.Err()
		}
		cr, err := issue(n)
		return cr, time.Time{}, err
	}}
}

// clock sets now to a clock the test moves.
func clock(t *testing.T) *time.Time {
	t.Helper()
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return at }
	t.Cleanup(func() { now = time.Now })
	return &at
}

func TestRenewAt(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		life, next, want time.Duration
	}{
		{900 * time.Second, 0, 840 * time.Second},     // a minute before
		{3600 * time.Second, 0, 3540 * time.Second},   // at most a minute
		{300 * time.Second, 0, 270 * time.Second},     // a tenth of the lifetime
		{3 * time.Second, 0, 2700 * time.Millisecond}, // short lifetimes too
		{900 * time.Second, 450 * time.Second, 450 * time.Second},
	} {
		var next time.Time
		if tc.next > 0 {
			next = start.Add(tc.next)
		}
		assert.Equal(t, start.Add(tc.want), renewAt(start, start.Add(tc.life), next), "lifetime %s", tc.life)
	}
}

// TestCacheAndRenewal: one call while fresh, a new one near expiration.
func TestCacheAndRenewal(t *testing.T) {
	at := clock(t)
	var calls atomic.Int32
	l := stubLogin(func(n int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: fmt.Sprint("pw", n), Expiration: now().Add(900 * time.Second)}, nil
	}, &calls, 0)
	ctx := context.Background()
	for range 5 {
		cr, err := l.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "pw1", cr.Password)
	}
	*at = at.Add(839 * time.Second)
	cr, _ := l.Credentials(ctx)
	assert.Equal(t, "pw1", cr.Password, "fresh until a minute before expiration")
	*at = at.Add(2 * time.Second)
	cr, _ = l.Credentials(ctx)
	assert.Equal(t, "pw2", cr.Password, "renewed a minute before expiration")
	assert.Equal(t, int32(2), calls.Load())
}

// TestOneCallForConcurrentConnects: 50 concurrent callers, one call.
func TestOneCallForConcurrentConnects(t *testing.T) {
	var calls atomic.Int32
	l := stubLogin(func(int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: "pw", Expiration: time.Now().Add(time.Hour)}, nil
	}, &calls, 100*time.Millisecond)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := l.Credentials(context.Background())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
}

// TestFailureNotCached: after a failed call the next connect calls again;
// the error names the API, the target, AWS's code and message.
func TestFailureNotCached(t *testing.T) {
	var calls atomic.Int32
	l := stubLogin(func(n int32) (backend.Credentials, error) {
		if n == 1 {
			return backend.Credentials{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
		}
		return backend.Credentials{User: "IAM:etl", Password: "pw", Expiration: time.Now().Add(time.Hour)}, nil
	}, &calls, 0)
	_, err := l.Credentials(context.Background())
	require.EqualError(t, err, "redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: no")
	var e *Error
	require.ErrorAs(t, err, &e)
	cr, err := l.Credentials(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "pw", cr.Password)
	assert.Equal(t, int32(2), calls.Load())
}

// TestConnectGivesUp: a connect whose context ends stops waiting, with the
// context's error named for the API; the call goes on for the others.
func TestConnectGivesUp(t *testing.T) {
	var calls atomic.Int32
	l := stubLogin(func(int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: "pw", Expiration: time.Now().Add(time.Hour)}, nil
	}, &calls, 300*time.Millisecond)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	long, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	done := make(chan error)
	go func() { _, err := l.Credentials(long); done <- err }()
	start := time.Now()
	_, err := l.Credentials(short)
	assert.Less(t, time.Since(start), 200*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, "redshift-ka: GetClusterCredentials for cluster etl-prod: context deadline exceeded")
	require.NoError(t, <-done)
	assert.Equal(t, int32(1), calls.Load())
}

// TestPlan: the API follows from the DSN's IAM fields, offline.
func TestPlan(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, tc := range []struct {
		in   dsnparse.IAM
		want string
	}{
		{dsnparse.IAM{ClusterID: "c", DbUser: "u", Region: "eu-west-1"}, "GetClusterCredentials cluster c eu-west-1"},
		{dsnparse.IAM{ClusterID: "c", DbUser: "u", GroupFederation: true, Region: "eu-west-1"}, "GetClusterCredentialsWithIAM cluster c eu-west-1"},
		{dsnparse.IAM{CustomDomain: "db.example.com", DbUser: "u", Region: "eu-west-1"}, "GetClusterCredentials custom domain db.example.com eu-west-1"},
		{dsnparse.IAM{CustomDomain: "db.example.com", Serverless: true, Region: "eu-west-1"}, "redshift-serverless GetCredentials custom domain db.example.com eu-west-1"},
		{dsnparse.IAM{Workgroup: "w", Region: "us-east-2"}, "redshift-serverless GetCredentials workgroup w us-east-2"},
	} {
		l, err := newLogin(&tc.in, nil)
		require.NoError(t, err)
		p := l.Plan()
		assert.Equal(t, tc.want, p.API+" "+p.Target()+" "+p.Region)
	}
}
