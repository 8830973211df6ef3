//go:build !linux && !darwin && !freebsd && !windows

package sysfallback

import "time"

func read() (Values, error) {
	return Values{
		Idle:         2 * time.Hour,
		Interval:     75 * time.Second,
		Count:        8,
		IdleFrom:     "default (RFC 1122)",
		IntervalFrom: "default (BSD)",
		CountFrom:    "default (BSD)",
	}, nil
}
