package driver_test

import (
	"fmt"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectorPrintsRedacted: printing a connector of either backend, with
// any verb, shows its DSN with the password masked. lib/pq's configuration
// inside the lib/pq connector holds the password in clear.
func TestConnectorPrintsRedacted(t *testing.T) {
	const pw = `p a's"s #;&?%={}w`
	dsns := []string{
		"postgres://u:" + url.PathEscape(pw) + "@127.0.0.1:1/db?KeepAlivesIdle=5",
		"host=127.0.0.1 port=1 user=u password='" + strings.ReplaceAll(pw, "'", `\'`) + "' keepalives_idle=5",
		"Server=127.0.0.1;Port=1;UID=u;PWD={" + strings.ReplaceAll(pw, "}", "}}") + "};KeepAlivesIdle=5",
		"jdbc:redshift://127.0.0.1:1/db?user=u&password=" + url.QueryEscape(pw) + "&ssl=false&KeepAlivesIdle=5",
	}
	for _, dsn := range dsns {
		c, err := driver.NewConnector(dsn)
		require.NoError(t, err)
		pc, err := rkpq.NewConnector(dsn)
		require.NoError(t, err)
		for _, v := range []any{c, pc} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
				out := fmt.Sprintf(verb, v)
				for _, piece := range []string{pw, "a's", `"s`, "#;&?", "%={}w", url.PathEscape(pw), url.QueryEscape(pw)} {
					assert.NotContains(t, out, piece, "%s of %T", verb, v)
				}
				assert.Contains(t, out, "xxxxx", "%s of %T", verb, v)
				assert.Contains(t, out, "127.0.0.1", "%s of %T", verb, v)
			}
		}
	}
}
