package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// callLimit bounds an API call.
const callLimit = time.Minute

// The process's credentials cache: one entry per request, shared by every
// connector that makes it, as Amazon's drivers share theirs
// (redshift_connector IamHelper.credentials_cache keyed by
// get_credentials_cache_key, JDBC IamHelper.credentialsCache keyed by
// getCredentialsCacheKey, ODBC RsIamHelper::s_iamCredentialsCache). An
// entry whose credentials no longer serve, with no call under way, is
// dropped when an entry is added or a sweep interval has passed.
var cache = struct {
	sync.Mutex
	m       map[cacheKey]*entry
	sweepAt time.Time // the next sweep, by clock.Now
}{m: map[cacheKey]*entry{}}

// sweepInterval is the longest a dead entry stays in the cache while
// connectors use it.
const sweepInterval = time.Minute

// cacheKey is a hash of everything that changes what the API answers:
// the whole parsed request, the plan made from it (API, region), and the
// AWS environment that selects the endpoint and the credentials source.
// Hashed, since the request holds secrets.
type cacheKey [sha256.Size]byte

// rawIAM is dsnparse.IAM without its methods.
type rawIAM dsnparse.IAM

// appendRaw appends v, field by field, by reflection: every field,
// secrets included, where the Format methods of dsnparse's types (IAM,
// SAML, WebIdentity, ...) mask them, and %#v would call those.
func appendRaw(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.Struct:
		b = append(b, '{')
		for i := range v.NumField() {
			b = appendRaw(append(append(b, v.Type().Field(i).Name...), ':'), v.Field(i))
			b = append(b, ' ')
		}
		return append(b, '}')
	case reflect.Slice, reflect.Array:
		b = append(b, '[')
		for i := range v.Len() {
			b = append(appendRaw(b, v.Index(i)), ' ')
		}
		return append(b, ']')
	case reflect.String:
		return strconv.AppendQuote(b, v.String())
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	}
	panic("iam: appendRaw: a field of kind " + v.Kind().String() + "; teach appendRaw") // caught by TestCacheKeyHasEveryField
}

// keyOf returns the cache key of the request d planned as p. The key is
// the request as a whole value, printed field by field: a field added to
// dsnparse.IAM (a database name, group federation, a custom domain) joins
// the key with no edit here; TestCacheKeyHasEveryField checks that each
// does. The credentials source is the DSN's keys or Profile (in d), else
// the AWS SDK's default chain, which the AWS_ environment variables select
// (keys, profile, shared files, web identity, endpoints).
func keyOf(d *dsnparse.IAM, p backend.Plan) cacheKey {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	b := appendRaw(nil, reflect.ValueOf(*d))
	b = appendRaw(append(b, '\n'), reflect.ValueOf(p))
	return sha256.Sum256(fmt.Appendf(b, "\n%q", env))
}

// lockedEntry returns l's cache entry, locked: the connector's own
// (IAMDisableCache), or the process's for its request, which it adds if
// need be. Locked before the cache is unlocked, so that a sweep never
// drops an entry a connect is about to use.
func (l *login) lockedEntry() *entry {
	if l.c != nil {
		l.c.mu.Lock()
		return l.c
	}
	cache.Lock()
	defer cache.Unlock()
	if now := clock.Now(); cache.m[l.key] == nil || !now.Before(cache.sweepAt) {
		sweep(now)
	}
	e := cache.m[l.key]
	if e == nil {
		e = &entry{}
		cache.m[l.key] = e
	}
	e.mu.Lock()
	return e
}

// sweep drops the cache's dead entries: credentials no longer usable at
// now, no call under way. Under cache's lock.
func sweep(now time.Time) {
	for k, e := range cache.m {
		e.mu.Lock()
		dead := e.flight == nil && !now.Before(e.usableUntil)
		e.mu.Unlock()
		if dead {
			delete(cache.m, k)
		}
	}
	cache.sweepAt = now.Add(sweepInterval)
}

// entry holds the credentials of one request and the call under way.
type entry struct {
	mu  sync.Mutex
	cur backend.Credentials
	// From refreshAt, a new connection starts a renewal in the background
	// (one at a time) and still gets cur, until usableUntil; from then on,
	// new connections wait for new credentials.
	refreshAt, usableUntil time.Time
	retry                  time.Duration // after a failed renewal, before the next
	flight                 *flight       // the call under way, if any
}

// flight is one API call. Connects that need it wait for it; it ends when
// answered, after callLimit, or, unless it is a renewal in the background,
// once every connect waiting for it has given up.
type flight struct {
	done       chan struct{}
	cr         backend.Credentials
	err        error
	waiters    int  // under entry.mu
	background bool // a renewal no connect waits for at its start
	cancel     context.CancelFunc
}

// Credentials returns credentials for a new connection. While the cached
// ones are usable it returns them at once, and from their renewal point
// starts one renewal in the background, so that a slow or failed renewal
// neither delays nor fails a connect while they are valid. Without usable
// ones it waits for the one call under way, starting it if need be. A
// failed call is not cached: the next connect calls again.
func (l *login) Credentials(ctx context.Context) (backend.Credentials, error) {
	e := l.lockedEntry()
	if t := clock.Now(); e.cur.Password != "" && t.Before(e.usableUntil) {
		cr := e.cur
		if !t.Before(e.refreshAt) && e.flight == nil {
			l.start(ctx, e, true)
		}
		e.mu.Unlock()
		return cr, nil
	}
	f := e.flight
	if f == nil {
		f = l.start(ctx, e, false)
	}
	f.waiters++
	e.mu.Unlock()
	select {
	case <-f.done:
		return f.cr, f.err
	case <-ctx.Done():
		e.mu.Lock()
		if f.waiters--; f.waiters == 0 && !f.background {
			f.cancel() // nobody waits for it any more: the next connect calls anew
			if e.flight == f {
				e.flight = nil
			}
		}
		e.mu.Unlock()
		return backend.Credentials{}, l.wrap(l.pending(ctx.Err()))
	}
}

// pending is err, the context's, as the failure of the step under way:
// the IdP's or STS's of a SAML login, STS's of a web identity login (this
// login's own call), else the API's (wrap).
func (l *login) pending(err error) error {
	if l.web != nil && l.web.running.Load() {
		return webIdentityError{err}
	}
	if l.saml != nil {
		if s := l.saml.sess.running.Load(); s != nil {
			return samlError{s.step, s.role, err}
		}
	}
	return err
}

// start starts the API call of entry e, under e.mu. The call is the
// entry's, not this connect's: it keeps the context's values but not its
// end, so that a connect that gives up does not fail the others waiting
// for it; callLimit bounds it, so that no goroutine is left behind.
func (l *login) start(ctx context.Context, e *entry, background bool) *flight {
	limit := callLimit
	if l.limit > 0 {
		limit = l.limit
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	f := &flight{done: make(chan struct{}), cancel: cancel, background: background}
	e.flight = f
	go l.fetch(cctx, e, f)
	return f
}

// fetch makes the API call for f and caches its answer in e.
func (l *login) fetch(ctx context.Context, e *entry, f *flight) {
	defer f.cancel()
	start := clock.Now()
	cr, next, err := l.call(ctx)
	if err == nil && (cr.Password == "" || cr.Expiration.IsZero()) {
		err = errors.New("the answer lacks the password or its expiration")
	}
	e.mu.Lock()
	if err == nil {
		e.cur = cr
		e.refreshAt, e.usableUntil, e.retry = schedule(start, cr.Expiration, next)
	} else if f.background {
		// The old credentials serve on: try again a little later, not at
		// every connect.
		e.refreshAt = clock.Now().Add(e.retry)
	}
	usable := e.usableUntil
	if e.flight == f {
		e.flight = nil
	}
	e.mu.Unlock()
	if err != nil {
		err = l.wrap(err)
	}
	if l.log != nil {
		switch {
		case err == nil:
			l.log.Debug("redshift-ka: "+l.plan.Method+" login", "api", l.plan.API, "target", l.plan.Target(), "user", cr.User, "expires", cr.Expiration)
		case f.background:
			l.log.Warn("redshift-ka: "+l.plan.Method+" renewal failed; the current credentials serve new connections until shortly before they expire",
				"api", l.plan.API, "target", l.plan.Target(), "until", usable, "error", err.Error())
		default:
			l.log.Debug("redshift-ka: "+l.plan.Method+" login failed", "api", l.plan.API, "target", l.plan.Target(), "error", err.Error())
		}
	}
	f.cr, f.err = cr, err
	close(f.done)
}

// schedule returns, for credentials issued at start and valid until
// expiration, when a new connection starts their renewal (refresh), until
// when they serve new connections (usable), and how long to wait after a
// failed renewal before the next (retry).
//
// Amazon's drivers keep cached credentials until they expire and then call
// in the foreground (redshift_connector IamHelper.set_cluster_credentials,
// JDBC IamHelper.getClusterCredentialsResult with
// RequestUtils.isCredentialExpired). Here the renewal starts a tenth of
// their lifetime, at most a minute, before they expire, or at the API's
// NextRefreshTime if that is sooner; and they serve until a quarter of
// that margin is left, which leaves a login time to use them. A
// NextRefreshTime less than a quarter of the lifetime after start, in the
// past included, is not honoured: it would renew at every connect.
func schedule(start, expiration, next time.Time) (refresh, usable time.Time, retry time.Duration) {
	life := expiration.Sub(start)
	if life <= 0 {
		return start, start, 0
	}
	margin := min(life/10, time.Minute)
	refresh = expiration.Add(-margin)
	if next.After(start.Add(life/4)) && next.Before(refresh) {
		refresh = next
	}
	return refresh, expiration.Add(-margin / 4), margin / 8
}
