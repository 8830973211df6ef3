package idptext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCut: short words pass on one line; long ones are cut on a character
// boundary, never splitting a multi-byte character.
func TestCut(t *testing.T) {
	if got := Cut(" bad\n\tpassword  "); got != "bad password" {
		t.Errorf("Cut = %q, want %q", got, "bad password")
	}
	if got := Cut("a\xffb"); got != "a?b" {
		t.Errorf("Cut = %q, want %q", got, "a?b")
	}
	for pad := 0; pad < 4; pad++ {
		s := strings.Repeat("x", pad) + strings.Repeat("é€😀", 100)
		got := Cut(s)
		if !utf8.ValidString(got) || len(got) > Limit+3 || !strings.HasSuffix(got, "...") {
			t.Errorf("Cut(%d x + runes) = %q: want valid UTF-8, at most %d bytes and ...", pad, got, Limit+3)
		}
	}
}
