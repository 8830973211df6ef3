//go:build linux

package iam

import (
	"os"
	"testing"
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestMain fails the run if a goroutine of redshift-ka (a renewal in the
// background, say) is still there once every test has ended: renewals
// end when answered, or after callLimit at most, and the tests' calls
// answer at once.
func TestMain(m *testing.M) { os.Exit(harness.Main(m.Run, 5*time.Second)) }
