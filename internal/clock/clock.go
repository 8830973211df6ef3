// Package clock is the time by which the iam package decides when
// credentials are renewed: the wall clock, or in tests a clock that the
// fake AWS moves (harness.AWSFake.Now), so that tests drive expirations
// instead of waiting for them.
package clock

import (
	"sync/atomic"
	"time"
)

// now is the clock in force; nil: the wall clock. Atomic, because a
// renewal in the background may read it while a test sets it.
var now atomic.Pointer[func() time.Time]

// Now returns the time.
func Now() time.Time {
	if f := now.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// Set makes Now return f's time until restore is called; restore goes
// back to the wall clock.
func Set(f func() time.Time) (restore func()) {
	now.Store(&f)
	return func() { now.Store(nil) }
}
