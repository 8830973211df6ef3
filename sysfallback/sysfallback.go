package sysfallback

import (
	"fmt"
	"time"
)

// Values are the keep-alive values the operating system gives a socket on
// which a program sets none of its own.
type Values struct {
	// Idle is the silence before the first probe.
	Idle time.Duration
	// Interval is the time between unanswered probes.
	Interval time.Duration
	// Count is how many unanswered probes end the connection.
	Count int
	// IdleFrom, IntervalFrom and CountFrom name where each value was read:
	// a sysctl ("sysctl net.ipv4.tcp_keepalive_time"), a registry value,
	// or "default" for a documented default the OS applies when nothing is
	// configured.
	IdleFrom, IntervalFrom, CountFrom string
}

// Read returns the operating system's keep-alive values as this process
// sees them now. On Linux they belong to the network namespace of the
// calling thread. An error names the source that could not be read.
func Read() (Values, error) {
	return read()
}

// DeadAfter is how long a silent dead path goes unnoticed with these
// values: the idle time, then Count probes Interval apart.
func (v Values) DeadAfter() time.Duration {
	return v.Idle + time.Duration(v.Count)*v.Interval
}

// String is the values in one line, with where each came from.
func (v Values) String() string {
	return fmt.Sprintf("idle %s (%s), interval %s (%s), count %d (%s)",
		v.Idle, v.IdleFrom, v.Interval, v.IntervalFrom, v.Count, v.CountFrom)
}
