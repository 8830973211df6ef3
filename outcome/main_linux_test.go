//go:build linux

package outcome

import (
	"os"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestMain fails the run if a goroutine of the drivers or of database/sql
// is still there once every test has ended.
func TestMain(m *testing.M) { os.Exit(harness.Main(m.Run, 5*time.Second)) }
