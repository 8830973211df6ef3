//go:build linux

package harness

import (
	"os"
	"testing"
)

// Strict reports whether missing prerequisites must fail tests instead of
// skipping them: true when env CI is "true" or env REDSHIFTKA_STRICT is "1".
func Strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("REDSHIFTKA_STRICT") == "1"
}

// Need skips the test with reason when ok is false, or fails it with
// "required for CI: reason" when [Strict] is true.
func Need(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if Strict() {
		t.Fatalf("required for CI: %s", reason)
	}
	t.Skip(reason)
}

// NeedRoot calls [Need] with whether the test runs as root, which network
// namespaces and nftables require.
func NeedRoot(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "needs root (network namespaces, nftables)")
}
