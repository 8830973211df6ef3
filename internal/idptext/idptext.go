// Package idptext makes words an identity provider sent (an error
// description, a page's error text) fit to quote in an error: on one line
// and cut short between characters. Packages iam and internal/browser
// both quote them.
package idptext

import (
	"strings"
	"unicode/utf8"
)

// Limit is the most bytes of an identity provider's words that [Cut]
// keeps.
const Limit = 300

// Cut is s on one line, invalid UTF-8 shown as "?", cut to at most Limit
// bytes on a character boundary, with "..." where it was cut.
func Cut(s string) string {
	s = strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "?")
	if len(s) <= Limit {
		return s
	}
	i := Limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
