package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

// TokenSource gives the identity-provider token of each new connection of
// a native login whose token is not in the DSN. The driver asks it
// before the dial, and again, a cache hit, before the server asks for
// the token (code 14).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// NativeTokens makes the token source of a native plugin, by plugin name
// lower-cased (after the last '.'); the package that implements it
// registers it in init, as iam registers [IAM].
var NativeTokens = map[string]func(n *dsnparse.Native, logger *slog.Logger) (TokenSource, error){}

// ErrNoTokenSource is the error of a DSN whose native plugin gets its
// token at connect time (no token in the DSN: IdpTokenAuthPlugin with AWS
// credentials, the browser plugins) in a program that does not import the
// iam package, which gets it.
var ErrNoTokenSource = errors.New(`redshift-ka: the DSN's identity-provider plugin gets its token at connect time, which needs the iam package: ` +
	`add import _ "github.com/redshift-ka/redshift-ka/iam" to the program`)

// tokenSource returns the token source of n, nil when n has its token.
func tokenSource(n *dsnparse.Native, logger *slog.Logger) (TokenSource, error) {
	if n.Token != "" {
		return nil, nil
	}
	short := strings.ToLower(n.Plugin[strings.LastIndexByte(n.Plugin, '.')+1:])
	newSource := NativeTokens[short]
	switch {
	case newSource != nil:
		return newSource(n, logger)
	case IAM == nil:
		return nil, ErrNoTokenSource
	}
	return nil, fmt.Errorf("redshift-ka: plugin_name %s gets its token at connect time, which this version of redshift-ka does not support yet", n.Plugin)
}
