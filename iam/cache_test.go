package iam

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

func TestSchedule(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name               string
		life, next         time.Duration
		refresh, usable    time.Duration
		retry              time.Duration
		noNext, nextInPast bool
	}{
		{name: "a minute before", life: 900 * time.Second, refresh: 840 * time.Second, usable: 885 * time.Second, retry: 7500 * time.Millisecond},
		{name: "at most a minute", life: 3600 * time.Second, refresh: 3540 * time.Second, usable: 3585 * time.Second, retry: 7500 * time.Millisecond},
		{name: "a tenth of the lifetime", life: 300 * time.Second, refresh: 270 * time.Second, usable: 292500 * time.Millisecond, retry: 3750 * time.Millisecond},
		{name: "the API's next refresh time", life: 900 * time.Second, next: 450 * time.Second, refresh: 450 * time.Second, usable: 885 * time.Second, retry: 7500 * time.Millisecond},
		{name: "a next refresh time in the past", life: 900 * time.Second, next: -time.Hour, refresh: 840 * time.Second, usable: 885 * time.Second, retry: 7500 * time.Millisecond},
		{name: "a next refresh time too soon", life: 900 * time.Second, next: time.Second, refresh: 840 * time.Second, usable: 885 * time.Second, retry: 7500 * time.Millisecond},
	} {
		var next time.Time
		if tc.next != 0 {
			next = start.Add(tc.next)
		}
		refresh, usable, retry := schedule(start, start.Add(tc.life), next)
		assert.Equal(t, start.Add(tc.refresh), refresh, tc.name)
		assert.Equal(t, start.Add(tc.usable), usable, tc.name)
		assert.Equal(t, tc.retry, retry, tc.name)
	}
	refresh, usable, _ := schedule(start, start.Add(-time.Second), time.Time{})
	assert.Equal(t, start, refresh, "expired on arrival: never served from the cache")
	assert.Equal(t, start, usable)
}

// script is a stub API call whose answers the test sets: each call counts,
// waits for hold while it is set, and answers with answer.
type script struct {
	calls  atomic.Int32
	hold   atomic.Pointer[chan struct{}]
	answer atomic.Pointer[func(n int32) (backend.Credentials, time.Time, error)]
}

func (s *script) call(ctx context.Context) (backend.Credentials, time.Time, error) {
	n := s.calls.Add(1)
	if h := s.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-ctx.Done():
			return backend.Credentials{}, time.Time{}, ctx.Err()
		}
	}
	return (*s.answer.Load())(n)
}

func (s *script) set(f func(n int32) (backend.Credentials, time.Time, error)) { s.answer.Store(&f) }

// issue answers with password pw<n>, valid for life from the clock's now,
// and the API's next refresh time next after it (none if 0).
func (s *script) issue(life, next time.Duration) {
	s.set(func(n int32) (backend.Credentials, time.Time, error) {
		at := clock.Now()
		var nt time.Time
		if next != 0 {
			nt = at.Add(next)
		}
		return backend.Credentials{User: "IAM:etl", Password: fmt.Sprint("pw", n), Expiration: at.Add(life)}, nt, nil
	})
}

// TestSlowRenewalDoesNotDelay: in the renewal window, a connect gets the
// current credentials at once although the renewal call hangs; connects
// meanwhile make no second call; the renewal's answer serves the next.
func TestSlowRenewalDoesNotDelay(t *testing.T) {
	at := fakeClock(t)
	var s script
	s.issue(900*time.Second, 0)
	l := &login{plan: backend.Plan{API: apiCluster, Cluster: "etl-prod"}, c: &entry{}, call: s.call}
	ctx := bounded(t)
	cr, err := l.Credentials(ctx)
	require.NoError(t, err)
	require.Equal(t, "pw1", cr.Password)

	hold := make(chan struct{})
	s.hold.Store(&hold)
	at.add(850 * time.Second) // in the window: renew from 840 s, serve until 885 s
	for range 3 {
		short, cancel := context.WithTimeout(ctx, 5*time.Second) // a connect held by the call would fail here
		cr, err = l.Credentials(short)
		cancel()
		require.NoError(t, err, "a connect waits for the renewal")
		assert.Equal(t, "pw1", cr.Password)
	}
	for s.calls.Load() != 2 {
		require.NoError(t, ctx.Err(), "no renewal started")
		time.Sleep(time.Millisecond)
	}
	close(hold)
	waitRenewed(t, l, "pw2")
	cr, err = l.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pw2", cr.Password)
	assert.Equal(t, int32(2), s.calls.Load(), "one renewal for the connects of the window")
}

// TestFailedRenewalServes: a renewal that fails does not fail connects
// while the current credentials are usable; it is tried again a little
// later, not at every connect; once they are no longer usable, a connect
// waits for a call and gets its error.
func TestFailedRenewalServes(t *testing.T) {
	at := fakeClock(t)
	var s script
	s.issue(900*time.Second, 0)
	l := &login{plan: backend.Plan{API: apiCluster, Cluster: "etl-prod"}, c: &entry{}, call: s.call}
	ctx := bounded(t)
	_, err := l.Credentials(ctx)
	require.NoError(t, err)
	throttled := errors.New("Throttling: Rate exceeded")
	s.set(func(int32) (backend.Credentials, time.Time, error) {
		return backend.Credentials{}, time.Time{}, throttled
	})

	at.add(841 * time.Second)
	for range 5 {
		cr, err := l.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "pw1", cr.Password)
	}
	waitRenewed(t, l, "pw1") // the failed renewal has ended
	cr, err := l.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pw1", cr.Password)
	waitRenewed(t, l, "pw1") // a renewal this connect might have started has ended
	assert.Equal(t, int32(2), s.calls.Load(), "the first call and one failed renewal, not one per connect")

	at.add(8 * time.Second) // past the retry interval (7.5 s)
	_, err = l.Credentials(ctx)
	require.NoError(t, err)
	waitRenewed(t, l, "pw1")
	assert.Equal(t, int32(3), s.calls.Load(), "tried again after the retry interval")

	at.add(40 * time.Second) // 889 s: no longer usable
	_, err = l.Credentials(ctx)
	require.ErrorIs(t, err, throttled, "without usable credentials, the call's error")
	assert.Contains(t, err.Error(), "redshift-ka: GetClusterCredentials for cluster etl-prod: ")
}

// TestNextRefreshInThePast: an API whose NextRefreshTime is already past
// does not make every connect call it.
func TestNextRefreshInThePast(t *testing.T) {
	at := fakeClock(t)
	var s script
	s.issue(900*time.Second, -time.Hour)
	l := &login{plan: backend.Plan{API: apiServerless, Workgroup: "etl"}, c: &entry{}, call: s.call}
	ctx := bounded(t)
	for range 10 {
		_, err := l.Credentials(ctx)
		require.NoError(t, err)
		at.add(10 * time.Second)
		waitRenewed(t, l, "pw1")
	}
	assert.Equal(t, int32(1), s.calls.Load())
}

// offlineAWS makes newLogin load the AWS configuration from nothing.
func offlineAWS(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestProcessCache: connectors of one request share one cache entry,
// other requests get another, and DisableCache gives each connector its
// own.
func TestProcessCache(t *testing.T) {
	offlineAWS(t)
	entryOf := func(d dsnparse.IAM) *entry {
		t.Helper()
		l, err := newLogin(&d, nil)
		require.NoError(t, err)
		e := l.(*login).lockedEntry()
		defer e.mu.Unlock()
		e.usableUntil = clock.Now().Add(time.Hour) // alive: no sweep drops it
		return e
	}
	base := dsnparse.IAM{ClusterID: "etl-prod", DbUser: "etl", DbGroups: []string{"loaders"}, Region: "eu-west-1"}
	e := entryOf(base)
	assert.Same(t, e, entryOf(base), "one entry for one request")
	other := base
	other.DbUser = "other"
	assert.NotSame(t, e, entryOf(other), "another user")
	other = base
	other.DbGroups = []string{"readers"}
	assert.NotSame(t, e, entryOf(other), "other groups")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAANOTHERSOURCE001")
	assert.NotSame(t, e, entryOf(base), "another credentials source of the default chain")
	off := base
	off.DisableCache = true
	assert.NotSame(t, entryOf(off), entryOf(off), "IAMDisableCache: one per connector")
}

// TestCacheKeyHasEveryField: changing any one field of the request
// changes the cache key, so that a field added to dsnparse.IAM joins the
// key; a field of a kind this test does not know fails it, to be taught.
func TestCacheKeyHasEveryField(t *testing.T) {
	base := dsnparse.IAM{ClusterID: "c", Region: "r", DbUser: "u", DbGroups: []string{"g"}}
	p := backend.Plan{API: apiCluster, Cluster: "c"}
	k := keyOf(&base, p)
	again := base
	again.DbGroups = []string{"g"} // equal, not the same slice
	assert.Equal(t, k, keyOf(&again, p), "an equal request, an equal key")
	// change changes field f (a field of a struct field too, by its path
	// of indexes) in a copy of base.
	var change func(t *testing.T, f reflect.Value, name string)
	change = func(t *testing.T, f reflect.Value, name string) {
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Int, reflect.Int32, reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Slice:
			if f.Type().Elem().Kind() != reflect.String {
				t.Fatalf("field %s: teach this test its kind", name)
			}
			f.Set(reflect.Append(f, reflect.ValueOf("x")))
		default:
			t.Fatalf("field %s of kind %s: teach this test, and check that appendRaw writes it", name, f.Kind())
		}
	}
	typ := reflect.TypeFor[dsnparse.IAM]()
	for i := range typ.NumField() {
		var paths [][]int
		if ft := typ.Field(i).Type; ft.Kind() == reflect.Struct {
			// A struct of plain fields (WebIdentity, SAML): each field on
			// its own, though its Format masks some.
			for j := range ft.NumField() {
				paths = append(paths, []int{i, j})
			}
		} else {
			paths = append(paths, []int{i})
		}
		for _, path := range paths {
			d := base
			d.DbGroups = append([]string(nil), base.DbGroups...)
			f := reflect.ValueOf(&d).Elem().FieldByIndex(path)
			name := typ.FieldByIndex(path).Name
			change(t, f, name)
			k1 := keyOf(&d, p)
			assert.NotEqual(t, k, k1, "field %s is not in the key", name)
			change(t, f, name)
			assert.NotEqual(t, k1, keyOf(&d, p), "field %s: two values, one key (masked?)", name)
		}
	}
	assert.NotEqual(t, k, keyOf(&base, backend.Plan{API: apiClusterIAM, Cluster: "c"}), "the plan is in the key")
}

// TestEndpointLockHonoursContext: a connect that waits for another's
// endpoint lookup gives up with its own context, not after the lookup.
func TestEndpointLockHonoursContext(t *testing.T) {
	var e endpoint
	require.NoError(t, e.acquire(context.Background())) // a lookup under way
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.acquire(ctx) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(20 * time.Second):
		t.Fatal("the waiting connect did not give up with its context")
	}
	e.release()
	require.NoError(t, e.acquire(context.Background()), "the lock is free again")
	e.release()
}

// TestCacheDropsDead: the process cache drops an entry whose credentials
// no longer serve, with no call under way, when another entry is added
// or a sweep interval has passed; a connector whose entry was dropped
// calls again and is cached again.
func TestCacheDropsDead(t *testing.T) {
	offlineAWS(t)
	at := fakeClock(t)
	var s script
	logins := map[string]*login{}
	for _, user := range []string{"a", "b", "c"} {
		l, err := newLogin(&dsnparse.IAM{ClusterID: "etl-prod", DbUser: "sweep-" + user, Region: "eu-west-1"}, nil)
		require.NoError(t, err)
		logins[user] = l.(*login)
		logins[user].call = s.call
	}
	cached := func(user string) bool {
		cache.Lock()
		defer cache.Unlock()
		return cache.m[logins[user].key] != nil
	}
	ctx := bounded(t)
	get := func(user string) {
		t.Helper()
		_, err := logins[user].Credentials(ctx)
		require.NoError(t, err)
		waitFlight(t, logins[user])
	}

	s.issue(40*time.Second, 0) // usable for 39 s
	get("a")                   // the first sweep: the next is due in a minute
	require.True(t, cached("a"))
	at.add(40 * time.Second) // a's credentials no longer serve
	require.True(t, cached("a"), "kept until an entry is added or the interval passes")
	get("b")
	assert.False(t, cached("a"), "dropped when b's entry was added")
	assert.True(t, cached("b"))

	get("a")
	assert.Equal(t, int32(3), s.calls.Load(), "a calls again")
	assert.True(t, cached("a"), "and is cached again")

	s.issue(time.Hour, 0)
	get("c")
	at.add(61 * time.Second) // a and b dead, c alive, a sweep due
	get("c")
	assert.False(t, cached("a"), "dropped by the sweep of the interval")
	assert.False(t, cached("b"))
	assert.True(t, cached("c"), "an entry that serves stays")
	assert.Equal(t, int32(4), s.calls.Load(), "c's second connect was served from the cache")
}

// waitFlight waits, bounded, until l's entry has no call under way.
func waitFlight(t *testing.T, l *login) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		e := l.lockedEntry()
		busy := e.flight != nil
		e.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a call is still under way")
		}
	}
}
