//go:build !linux && !darwin && !windows

package browser

import (
	"context"
	"errors"
)

// openURL opens no browser where Amazon's drivers know of none.
func openURL(context.Context, string) error {
	return errors.New("no browser launcher known on this system")
}
