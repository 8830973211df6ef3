package browser

import (
	"time"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// goroutinesLeft returns the stacks of the listener's goroutines and its
// HTTP server's still there after a bounded wait; "" when none is.
func goroutinesLeft() string {
	return harness.GoroutinesLeft(10*time.Second, "net/http.(*conn).serve", "internal/browser.(*Listener)")
}
