//go:build linux

package harness

import "time"

// Await receives from ch, and fails the test if nothing comes within d,
// so that a wait a bug makes endless fails fast instead of waiting for
// go test's -timeout. what names the wait in the failure.
func Await[V any](t T, ch <-chan V, d time.Duration, what string) V {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: nothing within %s", what, d)
	}
	var zero V
	return zero
}
