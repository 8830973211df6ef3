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
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// stubLogin is a login, with its own cache entry, whose call counts and
// answers from issue after delay, or once hold (if not nil) is closed.
func stubLogin(issue func(n int32) (backend.Credentials, error), calls *atomic.Int32, delay time.Duration, hold <-chan struct{}) *login {
	return &login{plan: backend.Plan{API: apiCluster, Cluster: "etl-prod"}, c: &entry{}, call: func(ctx context.Context) (backend.Credentials, time.Time, error) {
		n := calls.Add(1)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return backend.Credentials{}, time.Time{}, ctx.Err()
		}
		if hold != nil {
			select {
			case <-hold:
			case <-ctx.Done():
				return backend.Credentials{}, time.Time{}, ctx.Err()
			}
		}
		cr, err := issue(n)
		return cr, time.Time{}, err
	}}
}

// fakeClock sets the clock to one the test moves.
func fakeClock(t *testing.T) *fixedClock {
	t.Helper()
	c := &fixedClock{at: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	t.Cleanup(clock.Set(c.now))
	return c
}

// fixedClock stands still until moved.
type fixedClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *fixedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *fixedClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// bounded returns a context that ends within a bound far above what the
// test needs, so that a deadlock fails the test instead of waiting for
// go test's timeout.
func bounded(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCacheAndRenewal: one call while fresh; a new one, in the background,
// once a minute of a 900 s lifetime is left, which the next connect gets.
func TestCacheAndRenewal(t *testing.T) {
	at := fakeClock(t)
	var calls atomic.Int32
	l := stubLogin(func(n int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: fmt.Sprint("pw", n), Expiration: clock.Now().Add(900 * time.Second)}, nil
	}, &calls, 0, nil)
	ctx := bounded(t)
	for range 5 {
		cr, err := l.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "pw1", cr.Password)
	}
	at.add(839 * time.Second)
	cr, _ := l.Credentials(ctx)
	assert.Equal(t, "pw1", cr.Password, "fresh until a minute before expiration")
	assert.Equal(t, int32(1), calls.Load())
	at.add(2 * time.Second)
	cr, _ = l.Credentials(ctx)
	assert.Equal(t, "pw1", cr.Password, "the renewal runs in the background; the current ones serve meanwhile")
	waitRenewed(t, l, "pw2")
	cr, _ = l.Credentials(ctx)
	assert.Equal(t, "pw2", cr.Password, "renewed a minute before expiration")
	assert.Equal(t, int32(2), calls.Load())
}

// waitRenewed waits, bounded, for the login's cache to hold password with
// no call under way.
func waitRenewed(t *testing.T, l *login, password string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		l.c.mu.Lock()
		got, busy := l.c.cur.Password, l.c.flight != nil
		l.c.mu.Unlock()
		if got == password && !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache holds %q (a call under way: %t); want %q", got, busy, password)
		}
	}
}

// TestOneCallForConcurrentConnects: 50 concurrent callers, one call.
func TestOneCallForConcurrentConnects(t *testing.T) {
	var calls atomic.Int32
	l := stubLogin(func(int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: "pw", Expiration: time.Now().Add(time.Hour)}, nil
	}, &calls, 100*time.Millisecond, nil)
	ctx := bounded(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := l.Credentials(ctx)
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
	}, &calls, 0, nil)
	ctx := bounded(t)
	_, err := l.Credentials(ctx)
	require.EqualError(t, err, "redshift-ka: GetClusterCredentials for cluster etl-prod: AccessDenied: no")
	var e *Error
	require.ErrorAs(t, err, &e)
	cr, err := l.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pw", cr.Password)
	assert.Equal(t, int32(2), calls.Load())
}

// TestConnectGivesUp: a connect whose context ends stops waiting, with the
// context's error named for the API; the call goes on for the others. The
// order is explicit: the patient connect waits for the call before the
// short one joins it, and the call answers only once the short one has
// given up, so no timing decides the outcome.
func TestConnectGivesUp(t *testing.T) {
	var calls atomic.Int32
	hold := make(chan struct{})
	l := stubLogin(func(int32) (backend.Credentials, error) {
		return backend.Credentials{User: "IAM:etl", Password: "pw", Expiration: time.Now().Add(time.Hour)}, nil
	}, &calls, 0, hold)
	long := bounded(t)
	done := make(chan error, 1)
	go func() { _, err := l.Credentials(long); done <- err }()
	waiters := func() int {
		l.c.mu.Lock()
		defer l.c.mu.Unlock()
		if l.c.flight == nil {
			return 0
		}
		return l.c.flight.waiters
	}
	for waiters() != 1 {
		require.NoError(t, long.Err(), "the first connect never started the call")
		time.Sleep(time.Millisecond)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := l.Credentials(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, "redshift-ka: GetClusterCredentials for cluster etl-prod: context deadline exceeded")
	assert.Equal(t, 1, waiters(), "the call goes on for the patient connect")
	close(hold)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-long.Done():
		t.Fatal("the patient connect did not get the call's answer")
	}
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
