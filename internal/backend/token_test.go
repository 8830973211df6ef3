package backend

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dsnparse"
)

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error) { return string(f), nil }

// TestTokenSource: a native login with its token needs no source; one
// without asks NativeTokens by the plugin's short name, lower-cased, and
// without a registered source fails naming the package to import.
func TestTokenSource(t *testing.T) {
	src, err := tokenSource(&dsnparse.Native{Plugin: "IdpTokenAuthPlugin", Token: "t"}, nil)
	require.NoError(t, err)
	assert.Nil(t, src)

	n := &dsnparse.Native{Plugin: "com.amazon.redshift.plugin.IdpTokenAuthPlugin"}
	saved := IAM
	t.Cleanup(func() { IAM = saved })
	IAM = nil
	_, err = tokenSource(n, nil)
	require.ErrorIs(t, err, ErrNoTokenSource)
	assert.Contains(t, err.Error(), `import _ "github.com/redshift-ka/redshift-ka/iam"`)

	IAM = func(*dsnparse.IAM, *slog.Logger) (Login, error) { return nil, nil }
	_, err = tokenSource(n, nil)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "IdpTokenAuthPlugin") && strings.Contains(err.Error(), "not support"), err.Error())

	NativeTokens["idptokenauthplugin"] = func(got *dsnparse.Native, _ *slog.Logger) (TokenSource, error) {
		assert.Same(t, n, got)
		return fixedToken("x"), nil
	}
	t.Cleanup(func() { delete(NativeTokens, "idptokenauthplugin") })
	src, err = tokenSource(n, nil)
	require.NoError(t, err)
	assert.Equal(t, fixedToken("x"), src)
}
