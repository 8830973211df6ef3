package iam

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// tokenStub is a fetch of cachedTokens whose answers the test sets.
type tokenStub struct {
	calls atomic.Int32
	hold  chan struct{} // calls after the first wait for it, if set
	fail  atomic.Pointer[error]
}

func (s *tokenStub) fetch(ctx context.Context) (string, time.Time, error) {
	n := s.calls.Add(1)
	if s.hold != nil && n > 1 {
		select {
		case <-s.hold:
		case <-ctx.Done():
			return "", time.Time{}, ctx.Err()
		}
	}
	if err := s.fail.Load(); err != nil {
		return "", time.Time{}, *err
	}
	return fmt.Sprint("tok", n), clock.Now().Add(900 * time.Second), nil
}

// testTokens returns a source on stub s with a key of its own.
func testTokens(t *testing.T, s *tokenStub) tokenSource {
	n := &dsnparse.Native{Plugin: "IdpTokenAuthPlugin", ProviderName: t.Name()}
	return cachedTokens(backend.Plan{Method: "IdC", API: apiIdC, Cluster: "etl"}, nil, tokenKey(n), nil, s.fetch).(tokenSource)
}

// TestTokenCache: 20 concurrent connects make one call; from the renewal
// point a connect gets the current token at once while one renewal runs
// in the background; its token serves the next; a failed call is not
// cached.
func TestTokenCache(t *testing.T) {
	at := fakeClock(t)
	s := &tokenStub{hold: make(chan struct{})}
	src := testTokens(t, s)
	ctx := bounded(t)
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			tok, err := src.Token(ctx)
			assert.NoError(t, err)
			got[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), s.calls.Load(), "one call for 20 concurrent connects")
	for _, tok := range got {
		assert.Equal(t, "tok1", tok)
	}

	at.add(850 * time.Second) // renew from 840 s, serve until 885 s
	for range 3 {
		tok, err := src.Token(ctx)
		require.NoError(t, err, "a connect does not wait for the renewal")
		assert.Equal(t, "tok1", tok)
	}
	close(s.hold)
	waitToken(t, src.l, "tok2")
	tok, err := src.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok2", tok)
	assert.Equal(t, int32(2), s.calls.Load())

	denied := errors.New("AccessDenied: not allowed")
	s.fail.Store(&denied)
	at.add(900 * time.Second) // tok2 no longer serves
	for i := range 2 {
		_, err = src.Token(ctx)
		require.ErrorIs(t, err, denied)
		assert.Contains(t, err.Error(), "redshift-ka: GetIdentityCenterAuthToken for cluster etl: ")
		assert.Equal(t, int32(3+i), s.calls.Load(), "a failed call is not cached")
	}
}

// TestTokenSharedAndKeyed: sources with one key share their tokens; a
// change of any field of the native login changes the key.
func TestTokenSharedAndKeyed(t *testing.T) {
	fakeClock(t)
	s := &tokenStub{}
	n := dsnparse.Native{Plugin: "IdpTokenAuthPlugin", IdPType: "AwsIdc", Token: "t", ProviderName: "p"}
	plan := backend.Plan{Method: "IdC", API: apiIdC, Cluster: t.Name()}
	ctx := bounded(t)
	for range 3 {
		_, err := cachedTokens(plan, nil, tokenKey(&n), nil, s.fetch).Token(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), s.calls.Load(), "one call for three connectors")

	k := tokenKey(&n)
	assert.NotEqual(t, k, tokenKey(&n, rawIAM{ClusterID: "c"}), "more is in the key")
	assert.NotEqual(t, tokenKey(&n, rawIAM{ClusterID: "c"}), tokenKey(&n, rawIAM{ClusterID: "d"}))
	typ := reflect.TypeFor[dsnparse.Native]()
	for i := range typ.NumField() {
		var paths [][]int
		if ft := typ.Field(i).Type; ft.Kind() == reflect.Struct {
			// A struct of plain fields (AWS): each field on its own,
			// though its Format masks some.
			for j := range ft.NumField() {
				paths = append(paths, []int{i, j})
			}
		} else {
			paths = append(paths, []int{i})
		}
		for _, path := range paths {
			m := n
			f := reflect.ValueOf(&m).Elem().FieldByIndex(path)
			name := typ.FieldByIndex(path).Name
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Int, reflect.Int64:
				f.SetInt(f.Int() + 1)
			default:
				t.Fatalf("field %s of kind %s: teach this test, and check that appendRaw writes it", name, f.Kind())
			}
			assert.NotEqual(t, k, tokenKey(&m), "field %s is not in the key", name)
			if f.Kind() == reflect.String {
				k1 := tokenKey(&m)
				f.SetString(f.String() + "y")
				assert.NotEqual(t, k1, tokenKey(&m), "field %s: two values, one key (masked?)", name)
			}
		}
	}
	t.Setenv("AWS_PROFILE", "another")
	assert.NotEqual(t, k, tokenKey(&n), "the AWS environment is in the key")
}

// waitToken waits until l's process cache entry holds token and no call
// is under way.
func waitToken(t *testing.T, l *login, token string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		e := l.lockedEntry()
		got, busy := e.cur.Password, e.flight != nil
		e.mu.Unlock()
		if got == token && !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache holds %q (a call under way: %t); want %q", got, busy, token)
		}
	}
}

// BenchmarkCachedToken is a connect's cost of the token cache while the
// token serves: one lock of the process cache and one of the entry.
func BenchmarkCachedToken(b *testing.B) {
	s := &tokenStub{}
	n := &dsnparse.Native{Plugin: "IdpTokenAuthPlugin", ProviderName: b.Name()}
	src := cachedTokens(backend.Plan{Method: "IdC", API: apiIdC, Cluster: "etl"}, nil, tokenKey(n), nil, s.fetch)
	ctx := context.Background()
	if _, err := src.Token(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := src.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if s.calls.Load() > 1 { // 0: cached by an earlier run of the benchmark
		b.Fatalf("%d calls", s.calls.Load())
	}
}
