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
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "TestMain") || strings.Contains(g, "LeftGoroutines") || strings.Contains(g, "internal/harness.Main") {
				continue
			}
			for _, mark := range []string{"github.com/jackc/", "github.com/lib/pq", "database/sql.", "redshift-ka/redshift-ka/"} {
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
