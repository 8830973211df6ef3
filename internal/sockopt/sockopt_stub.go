//go:build !linux && !darwin && !freebsd

package sockopt

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// Windows and the rest: keep-alive is set through Go's net package, but
// neither TCP_USER_TIMEOUT nor reading the options back is offered here.
const UserTimeoutSupported = false

// OSUserTimeout names what the OS does when TCP_USER_TIMEOUT is unset.
const OSUserTimeout = "retransmission limit (not settable here)"

// SetUserTimeout does nothing here; the dialer refuses the setting first.
func SetUserTimeout(syscall.RawConn, int) error { return nil }

func readKeepAlive(int) (Values, error) {
	return Values{}, fmt.Errorf("reading keep-alive options back on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func readInfo(int) (Info, error) {
	return Info{}, fmt.Errorf("reading TCP_INFO on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
