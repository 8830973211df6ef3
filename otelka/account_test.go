package otelka

import "testing"

// TestAccountMonotonic: a connection's retransmits stay counted under the
// key they were counted under when it moves to another key (its session
// became known), and each key's total never goes down.
func TestAccountMonotonic(t *testing.T) {
	pending, known := key{host: "h", port: 1}, key{system: "postgresql", namespace: "db", host: "h", port: 1}
	base := map[key]int64{}
	s := &connState{key: pending}
	if got := s.account(pending, 3, base); got != 3 {
		t.Fatalf("pending: got %d, want 3", got)
	}
	if got := s.account(known, 5, base); got != 2 || base[pending] != 3 {
		t.Fatalf("after the move: known counts %d (want 2), pending keeps %d (want 3)", got, base[pending])
	}
	if got := s.account(known, 4, base); got != 2 {
		t.Fatalf("a lower reading: got %d, want 2 (never down)", got)
	}
	if got := s.account(known, 9, base); got != 6 || base[known] != 0 {
		t.Fatalf("got %d, want 6; base %d, want 0", got, base[known])
	}
}
