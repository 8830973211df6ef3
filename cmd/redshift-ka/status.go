package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/settings"
)

// status shows how the statements progress: on a terminal one status line
// redrawn in place, otherwise a line when a statement starts, every
// --progress while it runs, and when it ends.
type status struct {
	out   io.Writer
	tty   *terminal // nil: not a terminal
	n     int       // statements in all
	count int       // keep-alive count, 0 when unknown
}

func (s *status) started(i int, st statement, h *settings.TCPHealth) {
	if s.tty != nil {
		s.draw(i, st, 0, h)
		return
	}
	fmt.Fprintf(s.out, "statement %d of %d (line %d) started: %s\n", i+1, s.n, st.line, st.summary)
}

func (s *status) running(i int, st statement, elapsed time.Duration, h *settings.TCPHealth) {
	if s.tty != nil {
		s.draw(i, st, elapsed, h)
		return
	}
	fmt.Fprintf(s.out, "statement %d of %d running for %s: %s\n", i+1, s.n, elapsed.Round(time.Second), s.healthLong(h))
}

func (s *status) done(i int, st statement, took time.Duration, o outcome) {
	s.clear()
	tag := o.tag.String()
	if tag == "" {
		tag = "done"
	}
	fmt.Fprintf(s.out, "statement %d of %d done in %s: %s (%s)\n", i+1, s.n, round(took), tag, st.summary)
}

// clear erases the status line, before other output.
func (s *status) clear() { s.tty.clear(s.out) }

// draw redraws the status line, cut to the terminal's width so that it
// never wraps (a wrapped line cannot be redrawn in place).
func (s *status) draw(i int, st statement, elapsed time.Duration, h *settings.TCPHealth) {
	line := fmt.Sprintf("statement %d of %d · %s · %s · %s", i+1, s.n, clock(elapsed), s.healthShort(h), st.summary)
	io.WriteString(s.out, "\r"+shorten(line, s.tty.width()-1)+"\x1b[K")
}

// healthShort is the connection's health for the status line.
func (s *status) healthShort(h *settings.TCPHealth) string {
	if h == nil {
		return "health not readable here"
	}
	var parts []string
	if h.State != "ESTABLISHED" {
		parts = append(parts, h.State)
	}
	parts = append(parts, "rtt "+ms(h.RTT), "data "+ago(h.SinceDataReceived)+" ago", "ack "+ago(h.SinceAckReceived)+" ago")
	probes := fmt.Sprintf("probes %d", h.Probes)
	if s.count > 0 {
		probes += fmt.Sprintf("/%d", s.count)
	}
	if h.Probes > 0 {
		probes += " UNANSWERED"
	}
	parts = append(parts, probes)
	if h.Retransmits > 0 {
		parts = append(parts, fmt.Sprintf("retransmits %d", h.Retransmits))
	}
	return strings.Join(parts, " · ")
}

// healthLong is the connection's health for a progress line.
func (s *status) healthLong(h *settings.TCPHealth) string {
	if h == nil {
		return "connection health not readable here"
	}
	probes := fmt.Sprintf("unanswered keep-alive probes %d", h.Probes)
	if s.count > 0 {
		probes += fmt.Sprintf(" of %d", s.count)
	}
	out := fmt.Sprintf("connection %s, round-trip %s, last data received %s ago, last acknowledgement %s ago, %s",
		h.State, ms(h.RTT), ago(h.SinceDataReceived), ago(h.SinceAckReceived), probes)
	if h.Retransmits > 0 {
		out += fmt.Sprintf(", retransmissions %d", h.Retransmits)
	}
	return out
}

// clock writes an elapsed time as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	sec := int(d / time.Second)
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

// ms writes a round-trip time in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// ago writes a time since: 0.4 s, 12.0 s, 5m3s.
func ago(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}
