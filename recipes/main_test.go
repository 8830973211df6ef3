//go:build linux

package recipes_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// dsnEnv names the variable the examples read their DSN from, as the
// redshift-ka command does.
const dsnEnv = "REDSHIFTKA_DSN"

// TestMain starts one throw-away PostgreSQL server for every test and
// example and puts its URL, keep-alive keys included, in REDSHIFTKA_DSN.
// Without PostgreSQL binaries the package is skipped, or fails with
// CI=true; examples cannot skip one by one.
func TestMain(m *testing.M) {
	os.Exit(harness.Main(func() int {
		if _, err := harness.PGBinDir(); err != nil {
			if harness.Strict() {
				fmt.Fprintf(os.Stderr, "required for CI: %v\n", err)
				return 1
			}
			fmt.Fprintf(os.Stderr, "SKIP recipes: %v\n", err)
			return 0
		}
		pg, err := harness.StartPostgres(harness.PostgresOptions{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "start postgres: %v\n", err)
			return 1
		}
		defer pg.Stop()
		os.Setenv(dsnEnv, pg.URL("KeepAlivesIdle=200&KeepAlivesInterval=20&KeepAlivesCount=5"))
		return m.Run()
	}, 20*time.Second))
}
