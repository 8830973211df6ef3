//go:build linux

package harness

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m.Run, 0)) }
