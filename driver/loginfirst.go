package driver

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/internal/backend"
)

// loginFirst returns lookup, made to get a connect's IAM credentials and,
// when the connection may use TLS, its identity-provider token before
// pgconn dials: the server's authentication_timeout (PostgreSQL: 60 s)
// runs from the dial, and a sign-in at a browser may take longer
// (idp_response_timeout: 120 s). AfterNetConnect then finds them in the
// cache. pgconn looks each host up before dialling it, and never for a
// cancel request, which DialFunc dials too (TestLoginBeforeDial); it skips
// the lookup for a Unix-domain socket, whose login stays in
// AfterNetConnect. cfg's ConnectTimeout bounds the login, as it bounded
// it there.
func loginFirst(cfg *pgconn.Config, p *backend.Prepared, lookup pgconn.LookupFunc) pgconn.LookupFunc {
	if p.Login == nil && p.Tokens == nil {
		return lookup
	}
	return func(ctx context.Context, host string) ([]string, error) {
		lctx := ctx
		if cfg.ConnectTimeout > 0 {
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
			defer cancel()
		}
		if p.Login != nil {
			if _, err := p.Login.Credentials(lctx); err != nil {
				return nil, loginError{err}
			}
		}
		if p.Tokens != nil && mayUseTLS(cfg) {
			if _, err := p.Tokens.Token(lctx); err != nil {
				return nil, loginError{err}
			}
		}
		return lookup(ctx, host)
	}
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
