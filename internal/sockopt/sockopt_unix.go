//go:build linux || darwin || freebsd

package sockopt

import "golang.org/x/sys/unix"

// reader reads integer socket options and keeps the first error.
type reader struct {
	fd  int
	err error
}

func (r *reader) get(level, opt int, name string) int {
	if r.err != nil {
		return 0
	}
	v, err := unix.GetsockoptInt(r.fd, level, opt)
	if err != nil {
		r.err = &Error{Op: "getsockopt", Option: name, Err: err}
	}
	return v
}
