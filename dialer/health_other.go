//go:build !linux

package dialer

import (
	"errors"
	"fmt"
	"runtime"
)

func readHealth(uintptr) (TCPHealth, error) {
	return TCPHealth{}, fmt.Errorf("redshift-ka: reading TCP health on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
