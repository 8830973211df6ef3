package driver

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// firstLogin gets a connect's IAM credentials and, when the connection
// may use TLS, its token in pgx's LookupFunc, before the dial; the
// lookups of one connect share one login (DESIGN.md, "IAM login").
// AfterNetConnect then finds them in the cache.
type firstLogin struct {
	cfg   *pgconn.Config
	p     *backend.Prepared
	tries sync.Map // context.Context -> *loginTry, while the context lives
}

// loginTry is the login of the connect under way with one context.
type loginTry struct {
	mu       sync.Mutex
	left     int       // lookups of the connect still to come
	deadline time.Time // the connect_timeout's end; zero without one
	err      error     // the login's failure
}

// newFirstLogin returns the first login of p for connections by cfg, or
// nil when p has no login.
func newFirstLogin(cfg *pgconn.Config, p *backend.Prepared) *firstLogin {
	if p.Login == nil && p.Tokens == nil {
		return nil
	}
	return &firstLogin{cfg: cfg, p: p}
}

// lookup returns next, made to log in first.
func (f *firstLogin) lookup(next pgconn.LookupFunc) pgconn.LookupFunc {
	if f == nil {
		return next
	}
	return func(ctx context.Context, host string) ([]string, error) {
		if err := f.logIn(ctx); err != nil {
			return nil, err
		}
		return next(ctx, host)
	}
}

// logIn logs in for the connect of ctx, once per connect whose context
// can end.
func (f *firstLogin) logIn(ctx context.Context) error {
	if ctx.Done() == nil {
		return f.call(ctx, f.deadline())
	}
	v, loaded := f.tries.LoadOrStore(ctx, &loginTry{})
	t := v.(*loginTry)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !loaded {
		context.AfterFunc(ctx, func() { f.tries.Delete(ctx) })
	}
	if t.left > 0 { // a later lookup of the same connect
		t.left--
		if t.err != nil {
			return t.err
		}
		return f.call(ctx, t.deadline) // a cache hit
	}
	t.left, t.deadline = len(f.cfg.Fallbacks), f.deadline()
	t.err = f.call(ctx, t.deadline)
	return t.err
}

// deadline is when a login starting now must end: cfg's ConnectTimeout
// bounds it, as it bounds a connect.
func (f *firstLogin) deadline() time.Time {
	if f.cfg.ConnectTimeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(f.cfg.ConnectTimeout)
}

// call gets the credentials and the token, by deadline if set.
func (f *firstLogin) call(ctx context.Context, deadline time.Time) error {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if f.p.Login != nil {
		if _, err := f.p.Login.Credentials(ctx); err != nil {
			return loginError{err}
		}
	}
	if f.p.Tokens != nil && mayUseTLS(f.cfg) {
		if _, err := f.p.Tokens.Token(ctx); err != nil {
			return loginError{err}
		}
	}
	return nil
}

// mayUseTLS reports whether a connection by cfg may be made over TLS: a
// token is sent over TLS only.
func mayUseTLS(cfg *pgconn.Config) bool {
	if cfg.TLSConfig != nil {
		return true
	}
	for _, fb := range cfg.Fallbacks {
		if fb.TLSConfig != nil {
			return true
		}
	}
	return false
}
