package iam

import (
	"context"
	"log/slog"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/backend"
	"github.com/redshift-ka/redshift-ka/internal/clock"
)

// The browser plugins are token sources of the native login, their
// tokens in the process's cache (tokens.go): the connects of every
// connector with the same DSN keys share one browser login per token
// lifetime, and it is renewed ahead of expiry as other tokens are (a new
// browser login, started by a connect).
func init() {
	for _, name := range []string{"browserazureoauth2credentialsprovider", "browserazureadoauth2"} {
		backend.NativeTokens[name] = newAzureBrowserSource
	}
	backend.NativeTokens["browseridcauthplugin"] = newIdCBrowserSource
}

func newAzureBrowserSource(n *dsnparse.Native, logger *slog.Logger) (backend.TokenSource, error) {
	a := &azureBrowser{tenant: n.Tenant, clientID: n.ClientID, scope: n.Scope, partition: n.Partition,
		port: n.ListenPort, timeout: responseTimeout(n.ResponseTimeout), logger: logger}
	// The wait for the browser, then the token endpoint's call.
	return browserSource(n, a.Steps(), a.timeout+callLimit, logger, a.login), nil
}

func newIdCBrowserSource(n *dsnparse.Native, logger *slog.Logger) (backend.TokenSource, error) {
	b := &idcBrowser{issuerURL: n.IssuerURL, region: n.IdCRegion, displayName: n.IdCClientDisplayName,
		port: n.ListenPort, timeout: responseTimeout(n.ResponseTimeout), logger: logger}
	// RegisterClient, the wait for the browser, CreateToken polled.
	return browserSource(n, b.Steps(), 2*b.timeout+2*callLimit, logger, b.login), nil
}

// browserSource is the cached token source of a browser plugin whose
// login is fetch, bounded by limit.
func browserSource(n *dsnparse.Native, steps []backend.Step, limit time.Duration, logger *slog.Logger,
	fetch func(ctx context.Context) (string, time.Time, error)) backend.TokenSource {
	// A connect that gives up names the sign-in, where the login waits.
	plan := backend.Plan{Method: "native", API: stepBrowser, Plugin: n.Plugin}
	src := cachedTokens(plan, nil, tokenKey(n), logger, func(ctx context.Context) (string, time.Time, error) {
		token, exp, err := fetch(ctx)
		if err == nil && exp.IsZero() {
			exp = clock.Now().Add(idcDefaultExpiry) // no expires_in, not a JWT: JDBC's default for a token without one
		}
		return token, exp, err
	}).(tokenSource)
	src.l.limit = limit
	return stepsSource{src, steps}
}

// stepsSource is a token source whose Steps are the browser plugin's.
type stepsSource struct {
	tokenSource
	steps []backend.Step
}

// Steps are the plugin's steps.
func (s stepsSource) Steps() []backend.Step { return s.steps }
