//go:build !linux && !darwin && !freebsd

package dialer

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// Windows and the rest: keep-alive is set through Go's net package, which
// supports it, but neither TCP_USER_TIMEOUT nor reading the options back is
// offered here.
const userTimeoutSupported = false

const osUserTimeout = "retransmission limit (not settable here)"

func setUserTimeout(syscall.RawConn, int) error { return nil }

func readSockopts(uintptr) (Observed, error) {
	return Observed{}, fmt.Errorf("reading keep-alive options back on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// readAbortInfo is not available here: only ETIMEDOUT itself tells a lost
// connection.
func readAbortInfo(uintptr) (abortInfo, error) { return abortInfo{}, errors.ErrUnsupported }
