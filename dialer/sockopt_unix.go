//go:build linux || darwin || freebsd

package dialer

import "golang.org/x/sys/unix"

// sockReader reads integer socket options and keeps the first error.
type sockReader struct {
	fd  int
	err error
}

func (r *sockReader) get(level, opt int, name string) int {
	if r.err != nil {
		return 0
	}
	v, err := unix.GetsockoptInt(r.fd, level, opt)
	if err != nil {
		r.err = &OptionError{Op: "getsockopt", Option: name, Err: err}
	}
	return v
}
