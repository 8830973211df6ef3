package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/settings"
)

// middlebox is a device that forgets a TCP flow silent for Timeout.
type middlebox struct {
	Name    string
	Timeout time.Duration
	Note    string // how the timeout is set
}

// middleboxes are the common ones in front of Redshift and PostgreSQL.
var middleboxes = []middlebox{
	{"AWS NAT gateway", 350 * time.Second, "fixed"},
	{"AWS Network Load Balancer", 350 * time.Second, "default"},
	{"Azure Load Balancer and NAT gateway", 240 * time.Second, "default"},
	{"GCP Cloud NAT", 1200 * time.Second, "default, established TCP"},
}

// survives reports whether a connection with r's settings survives a
// middlebox that forgets flows silent for t: the first keep-alive probe
// goes out after idle, and each answered probe refreshes the flow.
func survives(r settings.Report, t time.Duration) bool {
	return r.KeepAlive && r.Idle < t
}

// suggestedIdle is an idle time under every middlebox's timeout, with
// room to spare: five sixths of the smallest, in tens of seconds.
func suggestedIdle() time.Duration {
	least := middleboxes[0].Timeout
	for _, m := range middleboxes {
		least = min(least, m.Timeout)
	}
	return (least * 5 / 6).Truncate(10 * time.Second)
}

// warnings says which middleboxes a connection with r's settings does not
// survive, and what to change.
func warnings(r settings.Report) []string {
	if !r.KeepAlive {
		key := r.KeepAliveFrom.Key
		if key == "" {
			key = "keepalives"
		}
		return []string{fmt.Sprintf("keep-alive is off (%s=0): a statement that keeps the connection silent "+
			"longer than a middlebox's idle timeout loses its connection, and a dead connection is never "+
			"noticed, so the statement waits forever; remove %s=0 from the DSN", key, key)}
	}
	var out []string
	for _, m := range middleboxes {
		if !survives(r, m.Timeout) {
			out = append(out, fmt.Sprintf("%s (idle timeout %s): idle %s is not under it, so a statement "+
				"silent that long loses its connection behind it", m.Name, secs(m.Timeout), secs(r.Idle)))
		}
	}
	if len(out) > 0 {
		key := r.IdleFrom.Key
		if key == "" {
			key = dsnparse.Idle.String()
		}
		out = append(out, fmt.Sprintf("to survive every middlebox listed, set %s=%d in the DSN",
			key, int(suggestedIdle()/time.Second)))
	}
	return out
}

// shortWarning sums warnings up in one line, for exec; "" when none.
func shortWarning(r settings.Report) string {
	if !r.KeepAlive {
		return warnings(r)[0]
	}
	var lost []string
	for _, m := range middleboxes {
		if !survives(r, m.Timeout) {
			lost = append(lost, fmt.Sprintf("%s (%s)", m.Name, secs(m.Timeout)))
		}
	}
	if len(lost) == 0 {
		return ""
	}
	return fmt.Sprintf("with keep-alive idle %s, a statement that keeps the connection silent loses it behind %s; "+
		"set KeepAlivesIdle=%d in the DSN (redshift-ka check explains)",
		secs(r.Idle), strings.Join(lost, ", "), int(suggestedIdle()/time.Second))
}

// secs writes a whole number of seconds as "350 s".
func secs(d time.Duration) string {
	if d%time.Second != 0 {
		return fmt.Sprintf("%.3g s", d.Seconds())
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

// secsLong is secs with the duration in hours and minutes when long:
// "875 s (14m35s)".
func secsLong(d time.Duration) string {
	if d < time.Minute {
		return secs(d)
	}
	return fmt.Sprintf("%s (%s)", secs(d), d)
}

// deadAfterText explains how long a dead path goes unnoticed.
func deadAfterText(r settings.Report) string {
	if !r.KeepAlive {
		return "Keep-alive is off: a dead path is never noticed while the connection is silent."
	}
	dead := r.DeadAfter()
	if r.UserTimeout > 0 && runtime.GOOS == "linux" {
		return fmt.Sprintf("A dead path is noticed after at most %s: idle %s, then probes every %s until "+
			"tcp_user_timeout %d ms has passed since the last answer (on Linux it replaces the count).",
			secsLong(dead), secs(r.Idle), secs(r.Interval), r.UserTimeout/time.Millisecond)
	}
	return fmt.Sprintf("A dead path is noticed after at most idle + interval x count = %s + %s x %d = %s.",
		secs(r.Idle), secs(r.Interval), r.Count, secsLong(dead))
}

// refreshText explains which idle timeouts the connection survives.
func refreshText(r settings.Report) string {
	if !r.KeepAlive {
		return "An idle flow is never refreshed, so any middlebox with an idle timeout forgets it."
	}
	return fmt.Sprintf("An idle flow is refreshed every %s, so the connection survives a middlebox whose "+
		"idle timeout is longer than %s.", secs(r.Idle), secs(r.Idle))
}

// oneLine sums the settings up for exec's header.
func oneLine(r settings.Report) string {
	if !r.KeepAlive {
		return "keep-alive off (" + r.KeepAliveFrom.String() + "): a dead path is never noticed"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keep-alive idle %s, interval %s, count %d", secs(r.Idle), secs(r.Interval), r.Count)
	if r.UserTimeout > 0 {
		fmt.Fprintf(&b, ", tcp_user_timeout %d ms", r.UserTimeout/time.Millisecond)
	}
	fmt.Fprintf(&b, ": a dead path is noticed within %s", secsLong(r.DeadAfter()))
	return b.String()
}

// userTimeoutWarning warns of a tcp_user_timeout under idle + interval x
// count reckoned with the OS's values where the DSN sets none; dsnparse
// warns already when the DSN sets all three. "" for none.
func userTimeoutWarning(cfg dsnparse.Config, r settings.Report) string {
	if cfg.Idle > 0 && cfg.Interval > 0 && cfg.Count > 0 || !r.KeepAlive || r.UserTimeout == 0 {
		return ""
	}
	probes := r.Idle + r.Interval*time.Duration(r.Count)
	if r.UserTimeout >= probes {
		return ""
	}
	return fmt.Sprintf("%s=%d is under idle + interval x count (%s, the OS's values where the DSN sets none): "+
		"it may end a connection that keep-alive probes would keep; set it to 0 or above %d",
		r.UserTimeoutFrom.Key, r.UserTimeout.Milliseconds(), secs(probes), probes.Milliseconds())
}
