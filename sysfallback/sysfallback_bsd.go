//go:build darwin || freebsd

package sysfallback

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

func read() (Values, error) {
	idle, err := sysctl("net.inet.tcp.keepidle")
	if err != nil {
		return Values{}, err
	}
	intvl, err := sysctl("net.inet.tcp.keepintvl")
	if err != nil {
		return Values{}, err
	}
	cnt, err := sysctl("net.inet.tcp.keepcnt")
	if err != nil {
		return Values{}, err
	}
	return Values{
		Idle:         time.Duration(idle) * time.Millisecond,
		Interval:     time.Duration(intvl) * time.Millisecond,
		Count:        int(cnt),
		IdleFrom:     "sysctl net.inet.tcp.keepidle",
		IntervalFrom: "sysctl net.inet.tcp.keepintvl",
		CountFrom:    "sysctl net.inet.tcp.keepcnt",
	}, nil
}

func sysctl(name string) (uint32, error) {
	v, err := unix.SysctlUint32(name)
	if err != nil {
		return 0, fmt.Errorf("redshift-ka: read sysctl %s: %w", name, err)
	}
	return v, nil
}
