//go:build linux

package harness

import "os"

// T is what the harness needs of a test or benchmark: testing.TB, and so
// *testing.T and *testing.B, satisfy it. Taking it, not testing.TB, keeps package testing out of
// programs that use the harness, like integration/demo.
type T interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// Strict reports whether missing prerequisites must fail tests instead of
// skipping them: true when env CI is "true" or env REDSHIFTKA_STRICT is "1".
func Strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("REDSHIFTKA_STRICT") == "1"
}

// Need skips the test with reason when ok is false, or fails it with
// "required for CI: reason" when [Strict] is true.
func Need(t T, ok bool, reason string) {
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
func NeedRoot(t T) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "needs root (network namespaces, nftables)")
}
