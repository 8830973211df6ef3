//go:build linux

package harness

import (
	"runtime"
	"strings"
	"time"
)

// LeftGoroutines waits up to wait for goroutines that run code of pgx,
// lib/pq, database/sql or redshift-ka to end, and returns the stacks of
// those that do not: "" when none is left. A TestMain calls it after m.Run,
// so that no test leaves a goroutine behind; a test may call it too, once
// it has closed what it opened (the goroutine [Main] runs is not counted).
func LeftGoroutines(wait time.Duration) string {
	return GoroutinesLeft(wait, "github.com/jackc/", "github.com/lib/pq", "database/sql.", "redshift-ka/redshift-ka/")
}

// GoroutinesLeft waits up to wait for the goroutines whose stack holds
// one of marks to end, and returns the stacks of those that do not: ""
// when none is left. The calling goroutine, and tests' TestMain, are not
// counted: a test calls it for what it just closed ("internal/browser.",
// say) while the rest of its rig runs on.
func GoroutinesLeft(wait time.Duration, marks ...string) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i == 0 || strings.Contains(g, "TestMain") || strings.Contains(g, "internal/harness.Main") {
				continue // the caller's own goroutine comes first
			}
			for _, mark := range marks {
				if strings.Contains(g, mark) {
					left = append(left, g)
					break
				}
			}
		}
		if len(left) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
