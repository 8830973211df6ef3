package iam

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// The tokens of the native logins that get theirs at connect time
// (GetIdentityCenterAuthToken, the browser plugins) live in the process's
// credentials cache (cache.go), each as an entry's password: one call for
// every connector with the same key, renewed in the background ahead of
// expiry by the same schedule, a failed call not cached.

// tokenSource is a backend.TokenSource on the process's cache.
type tokenSource struct{ l *login }

// cachedTokens returns a token source whose tokens fetch gets, cached
// under key (see [tokenKey]). plan names the call (Method, API, Region,
// Plugin): a failed fetch is a *Error with API plan.API unless it is one
// already; steps are the identity provider's steps before that call, as
// check shows them. fetch returns the token and its expiration, which
// must be set.
func cachedTokens(plan backend.Plan, steps []backend.Step, key cacheKey, logger *slog.Logger,
	fetch func(ctx context.Context) (token string, expiration time.Time, err error)) backend.TokenSource {
	l := &login{plan: plan, steps: steps, log: logger, key: key}
	l.call = func(ctx context.Context) (backend.Credentials, time.Time, error) {
		t, exp, err := fetch(ctx)
		return backend.Credentials{Password: t, Expiration: exp}, time.Time{}, err
	}
	return tokenSource{l}
}

// Token returns the cached token while it serves, else a new one.
func (s tokenSource) Token(ctx context.Context) (string, error) {
	cr, err := s.l.Credentials(ctx)
	return cr.Password, err
}

// Steps are the login's steps, the source's call last.
func (s tokenSource) Steps() []backend.Step { return s.l.Steps() }

// tokenKey is the cache key of the token of n: every field of n and of
// each of more, secrets included (appendRaw), and the AWS_ environment
// variables, which select credentials and endpoints.
func tokenKey(n *dsnparse.Native, more ...any) cacheKey {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	b := appendRaw([]byte("token\n"), reflect.ValueOf(*n))
	b = fmt.Appendf(b, "\n%q", env)
	for _, m := range more {
		b = appendRaw(append(b, '\n'), reflect.ValueOf(m))
	}
	return sha256.Sum256(b)
}
